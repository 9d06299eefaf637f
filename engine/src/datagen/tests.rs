//! Tests of the generated files: layout, formats, determinism, and that
//! the distributions have the shape the course's reports rely on.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::*;

/// A unique scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("kiln-datagen-{}", uuid::Uuid::new_v4()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spec(root: &Path, months: &[(i32, u32)], rows: u64, seed: u64) -> TaxiSpec {
    TaxiSpec {
        root: root.to_path_buf(),
        datasets: Dataset::ALL.to_vec(),
        months: months.to_vec(),
        rows_per_month: rows,
        seed,
    }
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn in_memory(dataset: Dataset, month: (i32, u32), rows: u64) -> String {
    let mut out = Vec::new();
    taxi::write_month(&mut out, dataset, month, rows, 42).unwrap();
    String::from_utf8(out).unwrap()
}

fn timestamp(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad timestamp {text:?}: {e}"))
}

fn cents(text: &str) -> i64 {
    let value: f64 = text
        .parse()
        .unwrap_or_else(|e| panic!("bad amount {text:?}: {e}"));
    (value * 100.0).round() as i64
}

/// Column index by name in a header line.
fn columns(header: &str) -> HashMap<&str, usize> {
    header.split(',').enumerate().map(|(i, c)| (c, i)).collect()
}

#[test]
fn zone_lookup_file() {
    let scratch = Scratch::new();
    let path = write_zones(&scratch.0).unwrap();
    assert_eq!(path, scratch.0.join("taxi_zone_lookup.csv"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches('\n').count(), 266);
    assert_eq!(text.matches("\r\n").count(), 266);
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 266);
    assert_eq!(
        lines[0],
        "\"LocationID\",\"Borough\",\"Zone\",\"service_zone\""
    );
    assert_eq!(lines[1], "1,\"EWR\",\"Newark Airport\",\"EWR\"");
    assert_eq!(
        lines[74],
        "74,\"Manhattan\",\"East Harlem North\",\"Boro Zone\""
    );
    assert_eq!(lines[132], "132,\"Queens\",\"JFK Airport\",\"Airports\"");
    assert_eq!(
        lines[138],
        "138,\"Queens\",\"LaGuardia Airport\",\"Airports\""
    );
    assert_eq!(
        lines[161],
        "161,\"Manhattan\",\"Midtown Center\",\"Yellow Zone\""
    );
    assert_eq!(
        lines[236],
        "236,\"Manhattan\",\"Upper East Side North\",\"Yellow Zone\""
    );
    assert_eq!(lines[264], "264,\"Unknown\",\"NV\",\"N/A\"");
    assert_eq!(lines[265], "265,\"Unknown\",\"NA\",\"N/A\"");
    let boroughs = [
        "EWR",
        "Queens",
        "Bronx",
        "Manhattan",
        "Staten Island",
        "Brooklyn",
        "Unknown",
    ];
    let services = ["EWR", "Boro Zone", "Yellow Zone", "Airports", "N/A"];
    for (id, line) in lines.iter().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], id.to_string(), "{line}");
        let borough = fields[1].trim_matches('"');
        let service = fields[fields.len() - 1].trim_matches('"');
        assert!(boroughs.contains(&borough), "{line}");
        assert!(services.contains(&service), "{line}");
    }
    assert!(!scratch.0.join(".taxi_zone_lookup.csv.tmp").exists());
}

#[test]
fn generates_the_course_layout() {
    let scratch = Scratch::new();
    let spec = spec(&scratch.0, &[(2020, 12), (2021, 1)], 200, 7);
    let mut reported = Vec::new();
    let files = generate_taxi(&spec, &mut |file| reported.push(file.path.clone())).unwrap();
    let expected: Vec<PathBuf> = [
        "raw/green/2020/12/green_tripdata_2020_12.csv.gz",
        "raw/green/2021/01/green_tripdata_2021_01.csv.gz",
        "raw/yellow/2020/12/yellow_tripdata_2020_12.csv.gz",
        "raw/yellow/2021/01/yellow_tripdata_2021_01.csv.gz",
        "raw/fhvhv/2020/12/fhvhv_tripdata_2020_12.csv.gz",
        "raw/fhvhv/2021/01/fhvhv_tripdata_2021_01.csv.gz",
    ]
    .iter()
    .map(|p| scratch.0.join(p))
    .collect();
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(paths, expected);
    reported.sort();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(reported, sorted);
    for file in &files {
        assert_eq!(file.rows, 200);
        assert_eq!(file.bytes, std::fs::metadata(&file.path).unwrap().len());
        let dir = file.path.parent().unwrap();
        let names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "only the finished file is left: {names:?}");
        assert_eq!(gunzip(&file.path).lines().count(), 201);
    }
}

#[test]
fn same_spec_gives_identical_bytes() {
    let (a, b) = (Scratch::new(), Scratch::new());
    let months = [(2021, 2), (2021, 3)];
    let first = generate_taxi(&spec(&a.0, &months, 300, 11), &mut |_| {}).unwrap();
    let second = generate_taxi(&spec(&b.0, &months, 300, 11), &mut |_| {}).unwrap();
    assert_eq!(first.len(), 6);
    for (x, y) in first.iter().zip(&second) {
        assert_eq!(
            std::fs::read(&x.path).unwrap(),
            std::fs::read(&y.path).unwrap()
        );
    }
    // Overwriting with the same spec leaves the same bytes.
    let again = generate_taxi(&spec(&a.0, &months, 300, 11), &mut |_| {}).unwrap();
    assert_eq!(again, first);
    assert_eq!(
        std::fs::read(&first[0].path).unwrap(),
        std::fs::read(&second[0].path).unwrap()
    );
    // Another seed, or another month, gives other trips.
    let c = Scratch::new();
    let other = generate_taxi(&spec(&c.0, &months, 300, 12), &mut |_| {}).unwrap();
    assert_ne!(gunzip(&other[0].path), gunzip(&first[0].path));
    assert_ne!(gunzip(&first[0].path)[400..], gunzip(&first[1].path)[400..]);
}

/// Checks every row of a green or yellow file and returns how many rows
/// had the empty-field pattern.
fn check_taxi_rows(text: &str, dataset: Dataset, (year, month): (i32, u32)) -> usize {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert_eq!(format!("{header}\n"), taxi::header(dataset));
    let col = columns(header);
    let prefix = if dataset == Dataset::Green {
        "lpep"
    } else {
        "tpep"
    };
    let (pickup, dropoff) = (
        col[format!("{prefix}_pickup_datetime").as_str()],
        col[format!("{prefix}_dropoff_datetime").as_str()],
    );
    let nullable = [
        "VendorID",
        "passenger_count",
        "RatecodeID",
        "store_and_fwd_flag",
        "payment_type",
        "congestion_surcharge",
    ];
    let parts = [
        "fare_amount",
        "extra",
        "mta_tax",
        "tip_amount",
        "tolls_amount",
        "improvement_surcharge",
        "congestion_surcharge",
    ];
    let mut empty_rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), col.len(), "{line}");
        let (start, end) = (timestamp(f[pickup]), timestamp(f[dropoff]));
        assert!(start < end, "{line}");
        assert_eq!((start.year(), start.month()), (year, month), "{line}");
        for id in ["PULocationID", "DOLocationID"] {
            let id: u32 = f[col[id]].parse().unwrap();
            assert!((1..=265).contains(&id), "{line}");
        }
        let empty: Vec<bool> = nullable.iter().map(|c| f[col[c]].is_empty()).collect();
        assert!(empty.iter().all(|&e| e == empty[0]), "{line}");
        if empty[0] {
            empty_rows += 1;
        } else {
            assert!(["1", "2"].contains(&f[col["VendorID"]]), "{line}");
            assert!(["N", "Y"].contains(&f[col["store_and_fwd_flag"]]), "{line}");
            let payment: u32 = f[col["payment_type"]].parse().unwrap();
            assert!((1..=4).contains(&payment), "{line}");
            let passengers: u32 = f[col["passenger_count"]].parse().unwrap();
            assert!(passengers <= 6, "{line}");
        }
        if dataset == Dataset::Green {
            assert!(f[col["ehail_fee"]].is_empty(), "{line}");
            assert_eq!(f[col["trip_type"]].is_empty(), empty[0], "{line}");
        }
        let distance: f64 = f[col["trip_distance"]].parse().unwrap();
        assert!(distance >= 0.0, "{line}");
        let sum: i64 = parts
            .iter()
            .map(|c| f[col[c]])
            .filter(|v| !v.is_empty())
            .map(cents)
            .sum();
        assert_eq!(sum, cents(f[col["total_amount"]]), "{line}");
        for value in &f {
            assert!(!value.ends_with(".0") && !value.ends_with(".00"), "{line}");
        }
    }
    empty_rows
}

#[test]
fn rows_are_well_formed() {
    let scratch = Scratch::new();
    let months = [(2020, 2), (2021, 7)];
    let files = generate_taxi(&spec(&scratch.0, &months, 400, 3), &mut |_| {}).unwrap();
    let mut empty_rows = 0;
    for (file, (dataset, month)) in files.iter().zip(
        Dataset::ALL
            .iter()
            .flat_map(|d| months.iter().map(move |m| (*d, *m))),
    ) {
        let text = gunzip(&file.path);
        assert!(!text.contains('\r'));
        assert_eq!(text.lines().count(), 401);
        if dataset == Dataset::Fhvhv {
            check_fhvhv_rows(&text, month);
        } else {
            empty_rows += check_taxi_rows(&text, dataset, month);
        }
    }
    // About 3-5% of 1600 taxi rows have the empty-field pattern.
    assert!((15..=150).contains(&empty_rows), "{empty_rows}");
}

fn check_fhvhv_rows(text: &str, (year, month): (i32, u32)) {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "hvfhs_license_num,dispatching_base_num,pickup_datetime,dropoff_datetime,\
             PULocationID,DOLocationID,SR_Flag"
        )
    );
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 7, "{line}");
        assert!(
            ["HV0002", "HV0003", "HV0004", "HV0005"].contains(&f[0]),
            "{line}"
        );
        assert!(f[1].len() == 6 && f[1].starts_with("B0"), "{line}");
        let (start, end) = (timestamp(f[2]), timestamp(f[3]));
        assert!(start < end, "{line}");
        assert_eq!((start.year(), start.month()), (year, month), "{line}");
        for id in &f[4..6] {
            let id: u32 = id.parse().unwrap();
            assert!((1..=265).contains(&id), "{line}");
        }
        assert!(f[6].is_empty() || f[6] == "1", "{line}");
    }
}

#[test]
fn distributions_have_the_real_shape() {
    let text = in_memory(Dataset::Yellow, (2021, 3), 6000);
    let mut lines = text.lines();
    let col = columns(lines.next().unwrap());
    let (mut by_hour, mut busy, mut unknown) = ([0u32; 24], 0, 0);
    let (mut cash_tips, mut card, mut card_tips) = (0, 0, 0);
    let mut longest = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let start = timestamp(f[col["tpep_pickup_datetime"]]);
        let end = timestamp(f[col["tpep_dropoff_datetime"]]);
        longest = longest.max((end - start).num_seconds());
        by_hour[start.hour() as usize] += 1;
        let from: u16 = f[col["PULocationID"]].parse().unwrap();
        if zones::is_airport(from) || zones::borough(from) == zones::Borough::Manhattan {
            busy += 1;
        }
        if from >= 264 {
            unknown += 1;
        }
        let tip = cents(f[col["tip_amount"]]);
        match f[col["payment_type"]] {
            "1" => {
                card += 1;
                card_tips += i32::from(tip > 0);
            }
            "2" => cash_tips += i32::from(tip > 0),
            _ => {}
        }
    }
    assert!(
        busy > 5200,
        "Manhattan and airport pickups dominate: {busy}"
    );
    assert!(unknown < 60, "{unknown}");
    let quiet: u32 = by_hour[3..6].iter().sum();
    let peak: u32 = by_hour[17..20].iter().sum();
    assert!(peak > 4 * quiet, "{by_hour:?}");
    assert_eq!(cash_tips, 0);
    assert!(card_tips * 10 > card * 8, "{card_tips} of {card}");
    assert!(longest > 0);

    let text = in_memory(Dataset::Fhvhv, (2021, 6), 6000);
    let mut licenses: HashMap<&str, u32> = HashMap::new();
    let mut bases: HashMap<&str, u32> = HashMap::new();
    let mut shared = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        *licenses.entry(f[0]).or_default() += 1;
        *bases.entry(f[1]).or_default() += 1;
        shared += u32::from(f[6] == "1");
    }
    assert!((3900..4500).contains(&licenses["HV0003"]), "{licenses:?}");
    assert!((1200..1800).contains(&licenses["HV0005"]), "{licenses:?}");
    assert!(!licenses.contains_key("HV0002"), "Juno is gone by 2021");
    let top = bases.iter().max_by_key(|(_, n)| **n).map(|(b, _)| *b);
    assert_eq!(top, Some("B02510"));
    assert!(bases["B02764"] > bases["B02872"] && bases["B02872"] > bases["B02682"]);
    assert!(bases.len() > 20, "{}", bases.len());
    assert!((300..900).contains(&shared), "{shared}");
}

#[test]
fn long_trips_happen() {
    // Rare meters left running: hours rather than minutes.
    let text = in_memory(Dataset::Green, (2021, 1), 20_000);
    let mut lines = text.lines();
    let col = columns(lines.next().unwrap());
    let hours: Vec<i64> = lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let start = timestamp(f[col["lpep_pickup_datetime"]]);
            let end = timestamp(f[col["lpep_dropoff_datetime"]]);
            (end - start).num_hours()
        })
        .collect();
    // Typical trips end within a few hours even in the log-normal's tail.
    let long = hours.iter().filter(|&&h| h >= 7).count();
    assert!((3..=40).contains(&long), "{long}");
    let hour_or_more = hours.iter().filter(|&&h| h >= 1).count();
    assert!(hour_or_more < 1000, "{hour_or_more}");
    assert!(hours.iter().all(|&h| h <= 73));
}

#[test]
fn bad_specs_and_names() {
    let scratch = Scratch::new();
    let error = generate_taxi(&spec(&scratch.0, &[(2021, 13)], 10, 1), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("\"2021-13\""), "{error}");
    assert!(!scratch.0.exists());
    assert_eq!(
        generate_taxi(&spec(&scratch.0, &[], 10, 1), &mut |_| {}).unwrap(),
        vec![]
    );
    assert_eq!("Yellow".parse::<Dataset>().unwrap(), Dataset::Yellow);
    assert_eq!(" fhvhv".parse::<Dataset>().unwrap(), Dataset::Fhvhv);
    let error = "fhv".parse::<Dataset>().unwrap_err().to_string();
    assert!(error.contains("Unknown dataset \"fhv\""), "{error}");
    // A root that is a file cannot hold the raw directories.
    let file_root = std::env::temp_dir().join(format!("kiln-datagen-{}", uuid::Uuid::new_v4()));
    std::fs::write(&file_root, b"not a directory").unwrap();
    let error = generate_taxi(&spec(&file_root, &[(2021, 1)], 10, 1), &mut |_| {}).unwrap_err();
    std::fs::remove_file(&file_root).unwrap();
    assert!(
        error.to_string().contains(&file_root.display().to_string()),
        "{error}"
    );
}
