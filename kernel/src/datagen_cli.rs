//! `kiln datagen taxi`: writes the course's datasets (zones lookup and
//! monthly trip files) from the engine's deterministic generator;
//! `kiln datagen tpch`: the TPC-H tables as Parquet.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use kiln_engine::datagen::{self, Dataset, TaxiSpec};
use kiln_engine::EngineError;

#[derive(Args)]
pub struct TaxiArgs {
    /// The data root (zones at ROOT/taxi_zone_lookup.csv, trips under ROOT/raw/).
    #[arg(long, default_value = "data")]
    pub root: PathBuf,
    /// Months to write: 2021-01, 2020-01..2021-07, or a comma-separated list.
    #[arg(long, default_value = "2021-01")]
    pub months: String,
    /// Trip rows per dataset per month.
    #[arg(long, default_value_t = 100_000)]
    pub rows_per_month: u64,
    /// Datasets to write (green, yellow, fhvhv).
    #[arg(long, value_delimiter = ',', default_value = "green,yellow,fhvhv")]
    pub datasets: Vec<String>,
    /// The generator's seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

pub fn taxi(args: TaxiArgs) -> Result<(), EngineError> {
    let datasets = args
        .datasets
        .iter()
        .map(|d| d.parse::<Dataset>())
        .collect::<Result<Vec<_>, _>>()?;
    let spec = TaxiSpec {
        root: args.root.clone(),
        datasets,
        months: datagen::parse_months(&args.months)?,
        rows_per_month: args.rows_per_month,
        seed: args.seed,
    };
    let started = Instant::now();
    let zones = datagen::write_zones(&args.root)?;
    println!("wrote {}", zones.display());
    let files = datagen::generate_taxi(&spec, &mut |file| {
        println!(
            "wrote {} ({} rows, {:.1} MB)",
            file.path.display(),
            file.rows,
            file.bytes as f64 / 1e6
        );
    })?;
    let rows: u64 = files.iter().map(|f| f.rows).sum();
    println!(
        "{} files, {rows} trip rows in {:.1} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(Args)]
pub struct TpchArgs {
    /// Where the tables go: OUT/<table>/part-NNNNN.parquet.
    #[arg(long, default_value = "data/tpch")]
    pub out: PathBuf,
    /// The TPC-H scale factor (1 is about 1 GB of text, 6 million lineitems).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Files per large table, generated in parallel.
    #[arg(long, default_value_t = 4)]
    pub parts: usize,
}

pub fn tpch(args: TpchArgs) -> Result<(), EngineError> {
    let started = Instant::now();
    let files = datagen::tpch::write_tpch(&args.out, args.scale, args.parts, &|file| {
        println!("wrote {} ({} rows)", file.path.display(), file.rows);
    })?;
    let rows: usize = files.iter().map(|f| f.rows).sum();
    println!(
        "TPC-H scale {}: {} files, {rows} rows in {:.1} s",
        args.scale,
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
