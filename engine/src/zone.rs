//! Wall-clock time in the session's zone: UTC instants to local times and
//! back with the zone's offsets remembered per minute, and Spark's
//! `date_trunc` on microseconds.

use std::collections::HashMap;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

const MINUTE: i64 = 60_000_000;
const DAY: i64 = 86_400_000_000;

/// Whether the zone is UTC under one of its names (no conversion needed).
pub fn is_utc(tz: &Tz) -> bool {
    matches!(
        tz.name(),
        "UTC" | "Etc/UTC" | "Etc/GMT" | "GMT" | "Etc/Universal" | "Universal" | "Zulu" | "Etc/Zulu"
    )
}

/// A wall-clock time to its UTC instant; a time a zone skipped (a DST gap)
/// keeps its digits, and one it repeated takes the earlier instant.
pub fn local_micros_to_utc(micros: i64, tz: &Tz) -> i64 {
    let naive = chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .naive_utc();
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.timestamp_micros(),
        None => micros,
    }
}

/// A UTC instant to the wall-clock time of the zone.
pub fn utc_micros_to_local(micros: i64, tz: &Tz) -> i64 {
    let instant = chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .naive_utc();
    let offset = tz
        .offset_from_utc_datetime(&instant)
        .fix()
        .local_minus_utc();
    micros + i64::from(offset) * 1_000_000
}

/// Offsets to add, remembered per minute of the input: since 1972 zones
/// change offset only on whole minutes, so every instant of a minute shares
/// its offset. Earlier instants are converted one by one.
struct MinuteOffsets {
    tz: Tz,
    convert: fn(i64, &Tz) -> i64,
    last: Option<(i64, i64)>,
    offsets: HashMap<i64, i64>,
}

impl MinuteOffsets {
    fn new(tz: Tz, convert: fn(i64, &Tz) -> i64) -> Self {
        MinuteOffsets {
            tz,
            convert,
            last: None,
            offsets: HashMap::new(),
        }
    }

    fn apply(&mut self, micros: i64) -> i64 {
        if micros < 0 {
            return (self.convert)(micros, &self.tz);
        }
        let minute = micros / MINUTE;
        if let Some((last, offset)) = self.last {
            if last == minute {
                return micros + offset;
            }
        }
        let (tz, convert) = (self.tz, self.convert);
        let offset = *self.offsets.entry(minute).or_insert_with(|| {
            let start = minute * MINUTE;
            convert(start, &tz) - start
        });
        self.last = Some((minute, offset));
        micros + offset
    }
}

/// Wall-clock microseconds to UTC instants in one zone, with cached offsets.
pub struct LocalToUtc(MinuteOffsets);

impl LocalToUtc {
    pub fn new(tz: Tz) -> Self {
        LocalToUtc(MinuteOffsets::new(tz, local_micros_to_utc))
    }

    pub fn convert(&mut self, micros: i64) -> i64 {
        self.0.apply(micros)
    }
}

/// UTC instants to wall-clock microseconds in one zone, with cached offsets.
pub struct UtcToLocal(MinuteOffsets);

impl UtcToLocal {
    pub fn new(tz: Tz) -> Self {
        UtcToLocal(MinuteOffsets::new(tz, utc_micros_to_local))
    }

    pub fn convert(&mut self, micros: i64) -> i64 {
        self.0.apply(micros)
    }
}

/// The units of Spark's `date_trunc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncUnit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

impl TruncUnit {
    /// The unit a `date_trunc` format names (any case); `None` for one
    /// Spark does not know, where `date_trunc` returns null.
    pub fn parse(format: &str) -> Option<TruncUnit> {
        Some(match format.to_ascii_lowercase().as_str() {
            "year" | "yyyy" | "yy" => TruncUnit::Year,
            "quarter" => TruncUnit::Quarter,
            "month" | "mon" | "mm" => TruncUnit::Month,
            "week" => TruncUnit::Week,
            "day" | "dd" => TruncUnit::Day,
            "hour" => TruncUnit::Hour,
            "minute" => TruncUnit::Minute,
            "second" => TruncUnit::Second,
            "millisecond" => TruncUnit::Millisecond,
            "microsecond" => TruncUnit::Microsecond,
            _ => return None,
        })
    }

    /// A wall-clock time truncated to the start of its unit (weeks start
    /// on Monday).
    pub fn truncate_local(self, micros: i64) -> i64 {
        let floor = |step: i64| micros.div_euclid(step) * step;
        let month_start = |month_of: fn(u32) -> u32| {
            let (year, month, _) = civil_from_days(micros.div_euclid(DAY));
            days_from_civil(year, month_of(month), 1) * DAY
        };
        match self {
            TruncUnit::Microsecond => micros,
            TruncUnit::Millisecond => floor(1_000),
            TruncUnit::Second => floor(1_000_000),
            TruncUnit::Minute => floor(MINUTE),
            TruncUnit::Hour => floor(60 * MINUTE),
            TruncUnit::Day => floor(DAY),
            TruncUnit::Week => {
                let days = micros.div_euclid(DAY);
                // 1970-01-01 was a Thursday, three days after a Monday.
                (days - (days + 3).rem_euclid(7)) * DAY
            }
            TruncUnit::Month => month_start(|m| m),
            TruncUnit::Quarter => month_start(|m| (m - 1) / 3 * 3 + 1),
            TruncUnit::Year => month_start(|_| 1),
        }
    }
}

/// Truncates UTC instants to units of the zone's wall clock.
pub struct InstantTruncator {
    unit: TruncUnit,
    /// Conversions both ways; none in UTC.
    zone: Option<(UtcToLocal, LocalToUtc)>,
    /// For units of a day or more: the last local day and its unit's start,
    /// since neighbouring rows mostly share a day and the calendar
    /// arithmetic costs more than the comparison.
    last_day: Option<(i64, i64)>,
}

impl InstantTruncator {
    pub fn new(unit: TruncUnit, tz: Tz) -> Self {
        let zone = (!is_utc(&tz)).then(|| (UtcToLocal::new(tz), LocalToUtc::new(tz)));
        InstantTruncator {
            unit,
            zone,
            last_day: None,
        }
    }

    pub fn truncate(&mut self, micros: i64) -> i64 {
        let unit = self.unit;
        match &mut self.zone {
            None => truncate_local_cached(unit, &mut self.last_day, micros),
            Some((to_local, to_utc)) => to_utc.convert(truncate_local_cached(
                unit,
                &mut self.last_day,
                to_local.convert(micros),
            )),
        }
    }
}

fn truncate_local_cached(unit: TruncUnit, last_day: &mut Option<(i64, i64)>, micros: i64) -> i64 {
    if !matches!(
        unit,
        TruncUnit::Week | TruncUnit::Month | TruncUnit::Quarter | TruncUnit::Year
    ) {
        return unit.truncate_local(micros);
    }
    let day = micros.div_euclid(DAY);
    match *last_day {
        Some((last, start)) if last == day => start,
        _ => {
            let start = unit.truncate_local(day * DAY);
            *last_day = Some((day, start));
            start
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn civil_dates_round_trip_and_agree_with_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-800_000..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            let date = epoch + chrono::Duration::days(days);
            assert_eq!(
                (y, m, d),
                (i64::from(date.year()), date.month(), date.day())
            );
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn cached_conversions_match_per_value_conversions() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let mut to_utc = LocalToUtc::new(tz);
        let mut to_local = UtcToLocal::new(tz);
        // Around the spring-forward gap and the fall-back overlap of 2021.
        for start in [1_615_680_000_000_000i64, 1_636_243_200_000_000] {
            for step in 0..(6 * 3600) {
                let micros = start + step * 1_000_000 + 7;
                assert_eq!(to_utc.convert(micros), local_micros_to_utc(micros, &tz));
                assert_eq!(to_local.convert(micros), utc_micros_to_local(micros, &tz));
            }
        }
    }

    #[test]
    fn truncates_to_spark_units() {
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        let t = at("2021-08-19 13:47:31.123456");
        let cases = [
            (TruncUnit::Year, "2021-01-01 00:00:00.0"),
            (TruncUnit::Quarter, "2021-07-01 00:00:00.0"),
            (TruncUnit::Month, "2021-08-01 00:00:00.0"),
            (TruncUnit::Week, "2021-08-16 00:00:00.0"),
            (TruncUnit::Day, "2021-08-19 00:00:00.0"),
            (TruncUnit::Hour, "2021-08-19 13:00:00.0"),
            (TruncUnit::Minute, "2021-08-19 13:47:00.0"),
            (TruncUnit::Second, "2021-08-19 13:47:31.0"),
            (TruncUnit::Millisecond, "2021-08-19 13:47:31.123"),
            (TruncUnit::Microsecond, "2021-08-19 13:47:31.123456"),
        ];
        for (unit, expected) in cases {
            assert_eq!(unit.truncate_local(t), at(expected), "{unit:?}");
        }
        // Before 1970 the floor goes down, not toward zero.
        assert_eq!(
            TruncUnit::Hour.truncate_local(at("1969-12-31 23:59:59.5")),
            at("1969-12-31 23:00:00.0")
        );
        assert_eq!(
            TruncUnit::Week.truncate_local(at("1969-12-31 12:00:00.0")),
            at("1969-12-29 00:00:00.0")
        );
    }

    #[test]
    fn truncates_in_the_session_zone() {
        let tz: Tz = "Asia/Kolkata".parse().unwrap();
        let mut hours = InstantTruncator::new(TruncUnit::Hour, tz);
        // 10:20 UTC is 15:50 in Kolkata; its hour starts at 15:00 there, 09:30 UTC.
        let utc =
            1_600_000_000_000_000 - 1_600_000_000_000_000 % DAY + 10 * 3_600_000_000 + 20 * MINUTE;
        assert_eq!(
            hours.truncate(utc),
            utc - 10 * 3_600_000_000 - 20 * MINUTE + 9 * 3_600_000_000 + 30 * MINUTE
        );
    }
}
