//! The trip model and CSV writer for the green, yellow and fhvhv trip
//! files: when trips start, where they go, how long they take, what they
//! cost, and how each row is spelled.

use std::io::{self, Write};

use super::months::{civil_from_days, days_from_civil, days_in_month, weekday};
use super::random::{Rng, Weighted};
use super::zones::{self, Borough, End, ServiceZone, JFK, NEWARK, ZONES, ZONE_COUNT};
use super::Dataset;

const GREEN_HEADER: &str = "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,\
store_and_fwd_flag,RatecodeID,PULocationID,DOLocationID,passenger_count,trip_distance,\
fare_amount,extra,mta_tax,tip_amount,tolls_amount,ehail_fee,improvement_surcharge,\
total_amount,payment_type,trip_type,congestion_surcharge\n";

const YELLOW_HEADER: &str = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,\
passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,\
payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,\
total_amount,congestion_surcharge\n";

const FHVHV_HEADER: &str = "hvfhs_license_num,dispatching_base_num,pickup_datetime,\
dropoff_datetime,PULocationID,DOLocationID,SR_Flag\n";

/// The header line (with its newline) of a dataset's CSV files.
pub(crate) fn header(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::Green => GREEN_HEADER,
        Dataset::Yellow => YELLOW_HEADER,
        Dataset::Fhvhv => FHVHV_HEADER,
    }
}

/// Rows are formatted into one buffer, handed to the writer past this size.
const CHUNK: usize = 1 << 20;

/// Writes one month of `dataset` trips, header first, as CSV text.
pub(crate) fn write_month<W: Write>(
    out: &mut W,
    dataset: Dataset,
    (year, month): (i32, u32),
    rows: u64,
    seed: u64,
) -> io::Result<()> {
    let mut rng = Rng::keyed(seed, &[dataset.tag(), year as u64, u64::from(month)]);
    let slots = schedule(dataset, year, month, rows, &mut rng);
    let places = Places::new(dataset);
    let mut text = Text::new();
    text.buf.extend_from_slice(header(dataset).as_bytes());
    match dataset {
        Dataset::Fhvhv => {
            let companies = Companies::new(year, month);
            for slot in &slots {
                for _ in 0..slot.rows {
                    let trip = places.trip(&mut rng, slot);
                    companies.write_row(&mut text, &mut rng, &trip);
                    text.flush_if_full(out)?;
                }
            }
        }
        Dataset::Green | Dataset::Yellow => {
            let meter = Meter::new(dataset);
            for slot in &slots {
                for _ in 0..slot.rows {
                    let trip = places.trip(&mut rng, slot);
                    let fare = meter.fare(&mut rng, slot, &trip);
                    if dataset == Dataset::Green {
                        write_green(&mut text, &trip, &fare);
                    } else {
                        write_yellow(&mut text, &trip, &fare);
                    }
                    text.flush_if_full(out)?;
                }
            }
        }
    }
    out.write_all(&text.buf)
}

/// One hour of the month and how many trips start in it.
struct Slot {
    /// Seconds since 1970-01-01 at the start of the hour.
    start: i64,
    rows: u64,
    hour: u32,
    /// 0 = Monday … 6 = Sunday.
    weekday: u32,
}

impl Slot {
    fn weekend(&self) -> bool {
        self.weekday >= 5
    }

    fn rush(&self) -> bool {
        !self.weekend() && matches!(self.hour, 7..=9 | 16..=19)
    }

    fn night(&self) -> bool {
        self.hour < 6
    }
}

/// Relative trips per hour of a working day: morning and evening peaks,
/// quiet from 3 to 5 am.
const WEEKDAY_HOURS: [f64; 24] = [
    2.0, 1.2, 0.8, 0.55, 0.5, 0.8, 2.0, 3.8, 4.8, 4.6, 4.3, 4.4, 4.7, 4.8, 5.2, 5.4, 5.2, 5.9, 6.4,
    5.8, 5.0, 4.8, 4.4, 3.3,
];

/// Relative trips per hour of a weekend day: no morning peak, busy nights.
const WEEKEND_HOURS: [f64; 24] = [
    4.2, 3.6, 2.8, 1.8, 1.0, 0.7, 0.9, 1.3, 1.9, 2.8, 3.8, 4.5, 4.9, 5.1, 5.2, 5.2, 5.1, 5.2, 5.3,
    5.0, 4.6, 4.5, 4.5, 4.2,
];

/// Relative trips per day of the week, Monday first: cabs are busiest late
/// in the working week, ride-hailing on Friday and Saturday.
fn day_weights(dataset: Dataset) -> [f64; 7] {
    match dataset {
        Dataset::Green | Dataset::Yellow => [0.92, 1.0, 1.02, 1.06, 1.08, 1.0, 0.85],
        Dataset::Fhvhv => [0.88, 0.92, 0.95, 1.0, 1.12, 1.2, 1.02],
    }
}

/// Spreads `rows` trips over the hours of the month, in time order. Each
/// day also gets a random factor (weather, events) of ±15%.
fn schedule(dataset: Dataset, year: i32, month: u32, rows: u64, rng: &mut Rng) -> Vec<Slot> {
    let first_day = days_from_civil(year, month, 1);
    let days = days_in_month(year, month);
    let by_day = day_weights(dataset);
    let mut slots = Vec::with_capacity(days as usize * 24);
    let mut weights = Vec::with_capacity(days as usize * 24);
    for day in 0..i64::from(days) {
        let weekday = weekday(first_day + day);
        let factor = by_day[weekday as usize] * (0.85 + 0.3 * rng.unit());
        for hour in 0..24u32 {
            let profile = if weekday >= 5 {
                &WEEKEND_HOURS
            } else {
                &WEEKDAY_HOURS
            };
            let mut weight = factor * profile[hour as usize];
            if weekday == 4 && hour >= 20 {
                weight *= 1.2;
            } else if weekday == 6 && hour >= 21 {
                weight *= 0.75;
            }
            weights.push(weight);
            slots.push(Slot {
                start: (first_day + day) * 86_400 + i64::from(hour) * 3600,
                rows: 0,
                hour,
                weekday,
            });
        }
    }
    let total: f64 = weights.iter().sum();
    let mut cumulative = 0.0;
    let mut assigned = 0u64;
    let last = slots.len().saturating_sub(1);
    for (index, (slot, weight)) in slots.iter_mut().zip(&weights).enumerate() {
        cumulative += weight;
        let target = if index == last {
            rows
        } else {
            ((rows as f64 * cumulative / total).round() as u64).min(rows)
        };
        slot.rows = target.saturating_sub(assigned);
        assigned = assigned.max(target);
    }
    slots
}

/// Where and when one trip happened.
struct Trip {
    pickup: i64,
    dropoff: i64,
    from: u16,
    to: u16,
    /// A meter left running: hours rather than minutes.
    long: bool,
}

impl Trip {
    fn seconds(&self) -> i64 {
        self.dropoff - self.pickup
    }

    fn airport(&self) -> bool {
        zones::is_airport(self.from) || zones::is_airport(self.to)
    }

    fn crosses_boroughs(&self) -> bool {
        zones::borough(self.from) != zones::borough(self.to)
    }
}

/// Pickup and dropoff zones and trip durations for one dataset.
struct Places {
    pickup: Weighted,
    dropoff: Weighted,
    /// Per borough: its zones and their dropoff weights.
    nearby: Vec<(Vec<u16>, Weighted)>,
    same_zone: f64,
    same_borough: f64,
    median_minutes: f64,
    sigma: f64,
    long: f64,
}

impl Places {
    fn new(dataset: Dataset) -> Places {
        let ids = || 1..=ZONE_COUNT as u16;
        let weight = |end: End| move |id: u16| zones::weight(dataset, end, id);
        let mut members: Vec<Vec<u16>> = vec![Vec::new(); Borough::COUNT];
        for (id, (borough, _, _)) in ids().zip(ZONES.iter()) {
            members[borough.index()].push(id);
        }
        let nearby = members
            .into_iter()
            .map(|zones| {
                let table = Weighted::new(zones.iter().map(|&id| weight(End::Dropoff)(id)));
                (zones, table)
            })
            .collect();
        let (same_zone, same_borough, median_minutes, sigma, long) = match dataset {
            Dataset::Yellow => (0.07, 0.62, 10.5, 0.62, 0.0006),
            Dataset::Green => (0.10, 0.50, 12.0, 0.70, 0.001),
            Dataset::Fhvhv => (0.08, 0.55, 16.0, 0.60, 0.000_06),
        };
        Places {
            pickup: Weighted::new(ids().map(weight(End::Pickup))),
            dropoff: Weighted::new(ids().map(weight(End::Dropoff))),
            nearby,
            same_zone,
            same_borough,
            median_minutes,
            sigma,
            long,
        }
    }

    fn zone(table: &Weighted, rng: &mut Rng) -> u16 {
        table.sample(rng) as u16 + 1
    }

    fn trip(&self, rng: &mut Rng, slot: &Slot) -> Trip {
        let pickup = slot.start + rng.below(3600) as i64;
        let from = Places::zone(&self.pickup, rng);
        let roll = rng.unit();
        let to = if zones::is_airport(from) || roll >= self.same_zone + self.same_borough {
            Places::zone(&self.dropoff, rng)
        } else if roll < self.same_zone {
            from
        } else {
            let (members, table) = &self.nearby[zones::borough(from).index()];
            members.get(table.sample(rng)).copied().unwrap_or(from)
        };
        let mut trip = Trip {
            pickup,
            dropoff: pickup,
            from,
            to,
            long: rng.chance(self.long),
        };
        trip.dropoff += if trip.long {
            let u = rng.unit();
            (3600.0 + 72.0 * 3600.0 * u * u * u) as i64
        } else {
            let mut median = self.median_minutes;
            if from == to {
                median *= 0.55;
            } else if trip.airport() {
                median *= 2.4;
            } else if trip.crosses_boroughs() {
                median *= 1.6;
            }
            if slot.rush() {
                median *= 1.15;
            } else if slot.night() {
                median *= 0.8;
            }
            ((rng.log_normal(median, self.sigma) * 60.0).round() as i64).max(30)
        };
        trip
    }
}

/// The metered part of a green or yellow trip, money in cents and
/// distance in hundredths of a mile. `None` is an empty field.
struct Fare {
    vendor: Option<u64>,
    passengers: Option<u64>,
    distance: i64,
    ratecode: Option<u64>,
    store_and_forward: Option<&'static [u8]>,
    payment: Option<u64>,
    fare: i64,
    extra: i64,
    mta_tax: i64,
    tip: i64,
    tolls: i64,
    improvement: i64,
    total: i64,
    trip_type: Option<u64>,
    congestion: Option<i64>,
}

/// The fare rules and the cab-side choices of one taxi dataset.
struct Meter {
    /// Rows whose vendor, passengers, rate code, flag, payment, trip type
    /// and congestion surcharge are all empty, as in the real data.
    missing: f64,
    vendor_one: f64,
    payment: Weighted,
    passengers: Weighted,
    congestion: i64,
    negotiated: f64,
    dispatched: f64,
}

impl Meter {
    fn new(dataset: Dataset) -> Meter {
        let passengers = Weighted::new([1.5, 72.0, 14.0, 4.0, 2.0, 4.0, 2.5]);
        match dataset {
            Dataset::Green => Meter {
                missing: 0.045,
                vendor_one: 0.15,
                payment: Weighted::new([52.0, 45.0, 2.0, 1.0]),
                passengers,
                congestion: 275,
                negotiated: 0.02,
                dispatched: 0.03,
            },
            Dataset::Yellow | Dataset::Fhvhv => Meter {
                missing: 0.03,
                vendor_one: 0.32,
                payment: Weighted::new([72.0, 25.0, 1.8, 1.2]),
                passengers,
                congestion: 250,
                negotiated: 0.004,
                dispatched: 0.0,
            },
        }
    }

    fn fare(&self, rng: &mut Rng, slot: &Slot, trip: &Trip) -> Fare {
        let missing = rng.chance(self.missing);
        let distance = distance(rng, slot, trip);
        let dispatched = rng.chance(self.dispatched);
        let manhattan = |id| zones::borough(id) == Borough::Manhattan;
        let jfk_manhattan =
            (trip.from == JFK && manhattan(trip.to)) || (trip.to == JFK && manhattan(trip.from));
        let newark = trip.from == NEWARK || trip.to == NEWARK;
        let ratecode = if newark {
            3
        } else if jfk_manhattan && rng.chance(0.85) {
            2
        } else if dispatched || rng.chance(self.negotiated) {
            5
        } else if rng.chance(0.002) {
            4
        } else {
            1
        };
        let minutes = (trip.seconds() / 60).min(120);
        let metered = to_half_dollar(250 + distance * 5 / 2 + 30 * minutes);
        let fare = match ratecode {
            2 => 5200,
            3 => metered + 2000,
            4 => to_half_dollar(metered * 2),
            5 => 1000 + 500 * rng.below(14) as i64,
            _ => metered,
        };
        let extra = if slot.hour >= 20 || slot.night() {
            50
        } else if !slot.weekend() && (16..20).contains(&slot.hour) {
            100
        } else {
            0
        };
        let mta_tax = if dispatched { 0 } else { 50 };
        let toll_chance = if newark {
            0.8
        } else if trip.crosses_boroughs()
            && (zones::borough(trip.from) == Borough::StatenIsland
                || zones::borough(trip.to) == Borough::StatenIsland)
        {
            0.9
        } else if trip.crosses_boroughs() {
            0.3
        } else {
            0.0
        };
        let tolls = match (rng.chance(toll_chance), newark) {
            (true, true) => 1750,
            (true, false) => 612,
            (false, _) => 0,
        };
        let improvement = 30;
        let yellow_zone = |id| zones::service_zone(id) == ServiceZone::YellowZone;
        let congestion = if missing {
            None
        } else if yellow_zone(trip.from) || yellow_zone(trip.to) {
            Some(self.congestion)
        } else {
            Some(0)
        };
        let vendor = if rng.chance(self.vendor_one) { 1 } else { 2 };
        let payment = self.payment.sample(rng) as u64 + 1;
        let passengers = self.passengers.sample(rng) as u64;
        let subtotal = fare + extra + mta_tax + tolls + improvement + congestion.unwrap_or(0);
        let tipped = if missing {
            rng.chance(0.6)
        } else {
            payment == 1
        };
        let tip = if tipped { tip(rng, subtotal) } else { 0 };
        let present = |value| if missing { None } else { Some(value) };
        let flag: &'static [u8] = if vendor == 1 && rng.chance(0.015) {
            b"Y"
        } else {
            b"N"
        };
        Fare {
            vendor: present(vendor),
            passengers: present(passengers),
            distance,
            ratecode: present(ratecode),
            store_and_forward: if missing { None } else { Some(flag) },
            payment: present(payment),
            fare,
            extra,
            mta_tax,
            tip,
            tolls,
            improvement,
            total: subtotal + tip,
            trip_type: present(if dispatched { 2 } else { 1 }),
            congestion,
        }
    }
}

fn to_half_dollar(cents: i64) -> i64 {
    (cents + 25) / 50 * 50
}

/// A card tip: none sometimes, mostly the screen's 20/25/30% buttons,
/// otherwise a custom amount.
fn tip(rng: &mut Rng, subtotal: i64) -> i64 {
    if rng.chance(0.1) {
        return 0;
    }
    let roll = rng.unit();
    let percent = if roll < 0.35 {
        20
    } else if roll < 0.5 {
        25
    } else if roll < 0.58 {
        30
    } else {
        8 + rng.below(18) as i64
    };
    (subtotal * percent + 50) / 100
}

/// Miles (in hundredths) for a trip: its duration at a speed that depends
/// on the hour and the route, with noise; some trips record no distance.
fn distance(rng: &mut Rng, slot: &Slot, trip: &Trip) -> i64 {
    if rng.chance(0.012) {
        return 0;
    }
    let miles = if trip.long {
        rng.log_normal(2.2, 0.8)
    } else {
        let mut speed = if slot.night() {
            17.0
        } else if slot.rush() {
            9.0
        } else {
            11.5
        };
        if slot.weekend() {
            speed += 1.5;
        }
        if trip.airport() {
            speed += 9.0;
        } else if trip.crosses_boroughs() {
            speed += 4.0;
        }
        speed *= 0.75 + 0.5 * rng.unit();
        trip.seconds() as f64 / 3600.0 * speed
    };
    (miles * 100.0).round() as i64
}

fn write_green(text: &mut Text, trip: &Trip, fare: &Fare) {
    text.opt_uint(fare.vendor);
    text.timestamp(trip.pickup);
    text.timestamp(trip.dropoff);
    text.opt_bytes(fare.store_and_forward);
    text.opt_uint(fare.ratecode);
    text.uint(u64::from(trip.from));
    text.uint(u64::from(trip.to));
    text.opt_uint(fare.passengers);
    text.decimal(fare.distance);
    text.decimal(fare.fare);
    text.decimal(fare.extra);
    text.decimal(fare.mta_tax);
    text.decimal(fare.tip);
    text.decimal(fare.tolls);
    text.bytes(b"");
    text.decimal(fare.improvement);
    text.decimal(fare.total);
    text.opt_uint(fare.payment);
    text.opt_uint(fare.trip_type);
    text.opt_decimal(fare.congestion);
    text.end_row();
}

fn write_yellow(text: &mut Text, trip: &Trip, fare: &Fare) {
    text.opt_uint(fare.vendor);
    text.timestamp(trip.pickup);
    text.timestamp(trip.dropoff);
    text.opt_uint(fare.passengers);
    text.decimal(fare.distance);
    text.opt_uint(fare.ratecode);
    text.opt_bytes(fare.store_and_forward);
    text.uint(u64::from(trip.from));
    text.uint(u64::from(trip.to));
    text.opt_uint(fare.payment);
    text.decimal(fare.fare);
    text.decimal(fare.extra);
    text.decimal(fare.mta_tax);
    text.decimal(fare.tip);
    text.decimal(fare.tolls);
    text.decimal(fare.improvement);
    text.decimal(fare.total);
    text.opt_decimal(fare.congestion);
    text.end_row();
}

/// Licensees in the order of `Companies::license`: Uber, Lyft, Juno, Via.
const LICENSES: [&[u8]; 4] = [b"HV0003", b"HV0005", b"HV0002", b"HV0004"];

/// Uber's dispatching bases, busiest first (Zipf-like shares).
const UBER_BASES: &[&[u8]] = &[
    b"B02764", b"B02872", b"B02875", b"B02765", b"B02682", b"B02617", b"B02869", b"B02866",
    b"B02887", b"B02876", b"B02883", b"B02884", b"B02878", b"B02879", b"B02880", b"B02877",
    b"B02870", b"B02882", b"B02867", b"B02864", b"B02889", b"B02888", b"B02835", b"B02836",
    b"B02512", b"B02598", b"B02395", b"B02404", b"B03404", b"B03406",
];
/// Lyft dispatches nearly everything from one base, the busiest overall.
const LYFT_BASES: &[&[u8]] = &[b"B02510", b"B02844"];
const JUNO_BASES: &[&[u8]] = &[b"B02907", b"B02908", b"B02914", b"B03035"];
const VIA_BASES: &[&[u8]] = &[b"B02800", b"B03136"];

/// The high-volume for-hire companies: who carried a trip, from which
/// base, and whether it was a shared ride.
struct Companies {
    license: Weighted,
    bases: [(&'static [&'static [u8]], Weighted); 4],
    shared: [f64; 4],
}

impl Companies {
    fn new(year: i32, month: u32) -> Companies {
        // Juno stopped operating in November 2019.
        let juno = if (year, month) < (2019, 12) { 2.0 } else { 0.0 };
        let zipf = |bases: &'static [&'static [u8]]| {
            let table = Weighted::new((1..=bases.len()).map(|rank| 1.0 / rank as f64));
            (bases, table)
        };
        Companies {
            license: Weighted::new([70.0, 25.0, juno, 3.0]),
            bases: [
                zipf(UBER_BASES),
                (LYFT_BASES, Weighted::new([98.0, 2.0])),
                zipf(JUNO_BASES),
                (VIA_BASES, Weighted::new([85.0, 15.0])),
            ],
            shared: [0.08, 0.12, 0.0, 0.5],
        }
    }

    fn write_row(&self, text: &mut Text, rng: &mut Rng, trip: &Trip) {
        let company = self.license.sample(rng).min(LICENSES.len() - 1);
        let (bases, table) = &self.bases[company];
        let base = bases.get(table.sample(rng)).copied().unwrap_or(b"");
        text.bytes(LICENSES[company]);
        text.bytes(base);
        text.timestamp(trip.pickup);
        text.timestamp(trip.dropoff);
        text.uint(u64::from(trip.from));
        text.uint(u64::from(trip.to));
        let shared: &[u8] = if rng.chance(self.shared[company]) {
            b"1"
        } else {
            b""
        };
        text.bytes(shared);
        text.end_row();
    }
}

/// The row buffer: each field is written followed by a comma, and
/// `end_row` turns the last comma into a newline.
struct Text {
    buf: Vec<u8>,
    /// The day `date` spells, to format each date once.
    day: i64,
    date: [u8; 10],
}

impl Text {
    fn new() -> Text {
        Text {
            buf: Vec::with_capacity(CHUNK + 4096),
            day: i64::MIN,
            date: *b"0000-00-00",
        }
    }

    fn flush_if_full<W: Write>(&mut self, out: &mut W) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn end_row(&mut self) {
        self.buf.pop();
        self.buf.push(b'\n');
    }

    fn bytes(&mut self, value: &[u8]) {
        self.buf.extend_from_slice(value);
        self.buf.push(b',');
    }

    fn opt_bytes(&mut self, value: Option<&[u8]>) {
        self.bytes(value.unwrap_or(b""));
    }

    fn digits(&mut self, mut n: u64) {
        let mut tmp = [0u8; 20];
        let mut at = tmp.len();
        loop {
            at -= 1;
            tmp[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[at..]);
    }

    fn uint(&mut self, n: u64) {
        self.digits(n);
        self.buf.push(b',');
    }

    fn opt_uint(&mut self, n: Option<u64>) {
        match n {
            Some(n) => self.uint(n),
            None => self.buf.push(b','),
        }
    }

    /// A value in hundredths, written plainly: `12.5`, `0.3`, `2.75`, `0`.
    fn decimal(&mut self, hundredths: i64) {
        if hundredths < 0 {
            self.buf.push(b'-');
        }
        let value = hundredths.unsigned_abs();
        self.digits(value / 100);
        let cents = value % 100;
        if cents != 0 {
            self.buf.push(b'.');
            self.buf.push(b'0' + (cents / 10) as u8);
            if !cents.is_multiple_of(10) {
                self.buf.push(b'0' + (cents % 10) as u8);
            }
        }
        self.buf.push(b',');
    }

    fn opt_decimal(&mut self, hundredths: Option<i64>) {
        match hundredths {
            Some(value) => self.decimal(value),
            None => self.buf.push(b','),
        }
    }

    fn two(&mut self, n: u32) {
        self.buf.push(b'0' + (n / 10 % 10) as u8);
        self.buf.push(b'0' + (n % 10) as u8);
    }

    /// `2021-01-01 00:33:44` for seconds since 1970-01-01.
    fn timestamp(&mut self, seconds: i64) {
        let day = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400) as u32;
        if day != self.day {
            let (year, month, date) = civil_from_days(day);
            let year = year.rem_euclid(10_000) as u32;
            self.date = [
                b'0' + (year / 1000) as u8,
                b'0' + (year / 100 % 10) as u8,
                b'0' + (year / 10 % 10) as u8,
                b'0' + (year % 10) as u8,
                b'-',
                b'0' + (month / 10) as u8,
                b'0' + (month % 10) as u8,
                b'-',
                b'0' + (date / 10) as u8,
                b'0' + (date % 10) as u8,
            ];
            self.day = day;
        }
        self.buf.extend_from_slice(&self.date);
        self.buf.push(b' ');
        self.two(of_day / 3600);
        self.buf.push(b':');
        self.two(of_day / 60 % 60);
        self.buf.push(b':');
        self.two(of_day % 60);
        self.buf.push(b',');
    }
}
