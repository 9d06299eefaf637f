//! `kiln workload NAME`: the course's heavy steps written against the engine
//! directly, so the benchmark harness can time Kiln next to polars and
//! PySpark doing the same work on the same generated data.

use std::path::{Path, PathBuf};

use kiln_engine::exec::join::JoinKind;
use kiln_engine::expr::{col, func, lit, BinaryOp, Expr};
use kiln_engine::io::write::{SaveMode, WriteFormat};
use kiln_engine::plan::JoinOn;
use kiln_engine::types::{DataType, Schema, StructField};
use kiln_engine::{DataFrame, EngineError, Session};

fn field(name: &str, data_type: DataType) -> StructField {
    StructField::new(name, data_type, true)
}

/// The course's explicit green schema.
pub fn green_schema() -> Schema {
    use DataType::*;
    Schema::new(vec![
        field("VendorID", Integer),
        field("lpep_pickup_datetime", Timestamp),
        field("lpep_dropoff_datetime", Timestamp),
        field("store_and_fwd_flag", String),
        field("RatecodeID", Integer),
        field("PULocationID", Integer),
        field("DOLocationID", Integer),
        field("passenger_count", Integer),
        field("trip_distance", Double),
        field("fare_amount", Double),
        field("extra", Double),
        field("mta_tax", Double),
        field("tip_amount", Double),
        field("tolls_amount", Double),
        field("ehail_fee", Double),
        field("improvement_surcharge", Double),
        field("total_amount", Double),
        field("payment_type", Integer),
        field("trip_type", Integer),
        field("congestion_surcharge", Double),
    ])
}

/// The course's explicit yellow schema.
pub fn yellow_schema() -> Schema {
    use DataType::*;
    Schema::new(vec![
        field("VendorID", Integer),
        field("tpep_pickup_datetime", Timestamp),
        field("tpep_dropoff_datetime", Timestamp),
        field("passenger_count", Integer),
        field("trip_distance", Double),
        field("RatecodeID", Integer),
        field("store_and_fwd_flag", String),
        field("PULocationID", Integer),
        field("DOLocationID", Integer),
        field("payment_type", Integer),
        field("fare_amount", Double),
        field("extra", Double),
        field("mta_tax", Double),
        field("tip_amount", Double),
        field("tolls_amount", Double),
        field("improvement_surcharge", Double),
        field("total_amount", Double),
        field("congestion_surcharge", Double),
    ])
}

const COMMON: &[&str] = &[
    "VendorID",
    "pickup_datetime",
    "dropoff_datetime",
    "store_and_fwd_flag",
    "RatecodeID",
    "PULocationID",
    "DOLocationID",
    "passenger_count",
    "trip_distance",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "payment_type",
    "congestion_surcharge",
];

fn months_under(dir: &Path) -> Vec<(String, String)> {
    let mut months = Vec::new();
    for year in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for month in std::fs::read_dir(year.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            months.push((
                year.file_name().to_string_lossy().into_owned(),
                month.file_name().to_string_lossy().into_owned(),
            ));
        }
    }
    months.sort();
    months
}

fn overwrite(df: &DataFrame, path: &Path) -> Result<(), EngineError> {
    df.write(
        path,
        SaveMode::Overwrite,
        WriteFormat::Parquet {
            compression: "snappy".into(),
        },
        vec![],
    )
    .map(|_| ())
}

/// Step "taxi schema": every monthly CSV.gz read with its schema, repartitioned to 4, written as Parquet under `out/pq`.
fn csv_to_parquet(session: &Session, data: &Path, out: &Path) -> Result<(), EngineError> {
    let header = vec![("header".to_string(), "true".to_string())];
    for (color, schema) in [("green", green_schema()), ("yellow", yellow_schema())] {
        for (year, month) in months_under(&data.join("raw").join(color)) {
            let input = data.join(format!("raw/{color}/{year}/{month}"));
            let df = session.read(
                "csv",
                &[input.display().to_string()],
                &header,
                Some(schema.clone()),
            )?;
            overwrite(
                &df.repartition(Some(4), vec![])?,
                &out.join(format!("pq/{color}/{year}/{month}")),
            )?;
        }
    }
    Ok(())
}

fn trips(session: &Session, data: &Path, color: &str) -> Result<DataFrame, EngineError> {
    let glob = format!("{}/pq/{color}/*/*", data.display());
    let df = session.read("parquet", &[glob], &[], None)?;
    let prefix = if color == "green" { "lpep" } else { "tpep" };
    df.with_column_renamed(&format!("{prefix}_pickup_datetime"), "pickup_datetime")?
        .with_column_renamed(&format!("{prefix}_dropoff_datetime"), "dropoff_datetime")
}

/// Step "SQL": green and yellow unioned, the monthly revenue report.
fn revenue_report(session: &Session, data: &Path, out: &Path) -> Result<(), EngineError> {
    let mut union: Option<DataFrame> = None;
    for color in ["green", "yellow"] {
        let df = trips(session, data, color)?
            .select(COMMON.iter().map(|c| col(c)).collect())?
            .with_column("service_type", lit(color))?;
        union = Some(match union {
            None => df,
            Some(u) => u.union(&df)?,
        });
    }
    let trips = union.ok_or_else(|| EngineError::Internal("no trips".into()))?;
    let keys = vec![
        col("PULocationID").alias("revenue_zone"),
        func("date_trunc", vec![lit("month"), col("pickup_datetime")]).alias("revenue_month"),
        col("service_type"),
    ];
    let sum = |c: &str| func("sum", vec![col(c)]).alias(&format!("revenue_monthly_{c}"));
    let report = trips.aggregate(
        keys,
        vec![
            sum("fare_amount"),
            sum("extra"),
            sum("mta_tax"),
            sum("tip_amount"),
            sum("tolls_amount"),
            sum("improvement_surcharge"),
            sum("total_amount"),
            sum("congestion_surcharge"),
            func("avg", vec![col("passenger_count")]).alias("avg_monthly_passenger_count"),
            func("avg", vec![col("trip_distance")]).alias("avg_monthly_trip_distance"),
        ],
    )?;
    overwrite(&report.coalesce(1)?, out)
}

fn hourly(session: &Session, data: &Path, color: &str) -> Result<DataFrame, EngineError> {
    let df = trips(session, data, color)?;
    let since = Expr::Cast(Box::new(lit("2020-01-01 00:00:00")), DataType::Timestamp);
    df.filter(col("pickup_datetime").binary(BinaryOp::GtEq, since))?
        .aggregate(
            vec![
                func("date_trunc", vec![lit("hour"), col("pickup_datetime")]).alias("hour"),
                col("PULocationID").alias("zone"),
            ],
            vec![
                func("sum", vec![col("total_amount")]).alias(&format!("{color}_amount")),
                func("count", vec![lit(1)]).alias(&format!("{color}_number_records")),
            ],
        )
}

/// Step "group-by and joins": hourly revenue per zone, full outer join of the colors, zones joined in.
fn hourly_zones(session: &Session, data: &Path, out: &Path) -> Result<(), EngineError> {
    let green = hourly(session, data, "green")?;
    let yellow = hourly(session, data, "yellow")?;
    let joined = green.join(
        &yellow,
        JoinOn::Using(vec!["hour".into(), "zone".into()]),
        JoinKind::Full,
    )?;
    let zones_csv = data.join("taxi_zone_lookup.csv").display().to_string();
    let zones = session.read(
        "csv",
        &[zones_csv],
        &[
            ("header".to_string(), "true".to_string()),
            ("inferSchema".to_string(), "true".to_string()),
        ],
        None,
    )?;
    let condition = joined.col("zone")?.eq(zones.col("LocationID")?);
    let result = joined
        .join(&zones, JoinOn::Condition(condition), JoinKind::Inner)?
        .drop(&["LocationID".to_string(), "zone".to_string()])?;
    overwrite(&result, out)
}

/// A global sort of every yellow trip by amount.
fn global_sort(session: &Session, data: &Path, out: &Path) -> Result<(), EngineError> {
    let df = trips(session, data, "yellow")?
        .order_by(vec![col("total_amount").desc(), col("pickup_datetime")])?;
    overwrite(&df, out)
}

/// Runs one workload; `out` receives its output files.
pub fn run(
    name: &str,
    data: &Path,
    out: &Path,
    master: &str,
    conf: &[String],
) -> Result<(), EngineError> {
    let session = Session::new(master)?;
    for setting in conf {
        let (key, value) = setting.split_once('=').ok_or_else(|| {
            EngineError::spark(
                "INVALID_CONF",
                format!("--conf {setting}: expected key=value."),
            )
        })?;
        session.set_conf(key.trim(), value.trim())?;
    }
    let out: PathBuf = out.to_path_buf();
    match name {
        "csv_to_parquet" => csv_to_parquet(&session, data, &out),
        "revenue_report" => revenue_report(&session, data, &out.join("report")),
        "hourly_zones" => hourly_zones(&session, data, &out.join("hourly")),
        "global_sort" => global_sort(&session, data, &out.join("sorted")),
        other => Err(EngineError::spark(
            "UNKNOWN_WORKLOAD",
            format!("Unknown workload {other}: expected csv_to_parquet, revenue_report, hourly_zones or global_sort."),
        )),
    }
}
