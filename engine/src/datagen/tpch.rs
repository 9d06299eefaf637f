//! TPC-H data at any scale factor, from the `tpchgen` port of the official
//! generator (the same rows as `dbgen`), written as Parquet: one directory
//! per table, one file per generator part, strings as plain UTF-8.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

use crate::error::{EngineError, Result};

/// The eight TPC-H tables.
pub const TABLES: [&str; 8] = [
    "region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem",
];

/// One written file.
pub struct TpchFile {
    pub path: PathBuf,
    pub rows: usize,
}

type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

/// Batches of one part of a table.
fn batches(table: &str, scale: f64, part: i32, parts: i32) -> Result<Batches> {
    Ok(match table {
        "region" => Box::new(RegionArrow::new(RegionGenerator::new(scale, part, parts))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(scale, part, parts))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(
            scale, part, parts,
        ))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(
            scale, part, parts,
        ))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(scale, part, parts))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(
            scale, part, parts,
        ))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(scale, part, parts))),
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(
            scale, part, parts,
        ))),
        other => {
            return Err(EngineError::spark(
                "INVALID_PARAMETER_VALUE",
                format!(
                    "unknown TPC-H table `{other}`; the tables are {}",
                    TABLES.join(", ")
                ),
            ))
        }
    })
}

/// String views as plain strings, which every Parquet reader takes.
fn plain_strings(batch: RecordBatch) -> Result<RecordBatch> {
    let schema = batch.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => Field::new(f.name(), DataType::Utf8, f.is_nullable()),
            _ => f.as_ref().clone(),
        })
        .collect();
    let columns = batch
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(arrow_error)?;
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns).map_err(arrow_error)
}

fn arrow_error(e: ArrowError) -> EngineError {
    EngineError::Arrow(e)
}

fn write_part(dir: &Path, table: &str, scale: f64, part: i32, parts: i32) -> Result<TpchFile> {
    let path = dir.join(format!("part-{part:05}.parquet"));
    let file = File::create(&path).map_err(|e| EngineError::io(path.display().to_string(), e))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer: Option<ArrowWriter<BufWriter<File>>> = None;
    let mut sink = Some(BufWriter::new(file));
    let mut rows = 0;
    for batch in batches(table, scale, part, parts)? {
        let batch = plain_strings(batch.map_err(arrow_error)?)?;
        rows += batch.num_rows();
        if writer.is_none() {
            let out = sink
                .take()
                .ok_or_else(|| EngineError::Internal("parquet sink reused".into()))?;
            writer = Some(ArrowWriter::try_new(
                out,
                batch.schema(),
                Some(properties.clone()),
            )?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch)?;
        }
    }
    match writer {
        Some(w) => {
            w.close()?;
        }
        None => {
            // A part with no rows (small tables split many ways) leaves no file.
            drop(sink);
            fs::remove_file(&path).map_err(|e| EngineError::io(path.display().to_string(), e))?;
        }
    }
    Ok(TpchFile { path, rows })
}

/// Writes every table at `scale` under `root/<table>/`, large tables in
/// `parts` files generated in parallel; the same scale gives the same rows.
pub fn write_tpch(
    root: &Path,
    scale: f64,
    parts: usize,
    report: &(dyn Fn(&TpchFile) + Sync),
) -> Result<Vec<TpchFile>> {
    if scale.is_nan() || scale <= 0.0 {
        return Err(EngineError::spark(
            "INVALID_PARAMETER_VALUE",
            format!("the TPC-H scale factor must be positive, not {scale}"),
        ));
    }
    let mut written = Vec::new();
    for table in TABLES {
        let dir = root.join(table);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| EngineError::io(dir.display().to_string(), e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| EngineError::io(dir.display().to_string(), e))?;
        // Region and nation are fixed-size: one part.
        let table_parts = if matches!(table, "region" | "nation") {
            1
        } else {
            parts.max(1) as i32
        };
        let files = (1..=table_parts)
            .into_par_iter()
            .map(|part| write_part(&dir, table, scale, part, table_parts))
            .collect::<Result<Vec<_>>>()?;
        for file in files.into_iter().filter(|f| f.rows > 0) {
            report(&file);
            written.push(file);
        }
    }
    Ok(written)
}
