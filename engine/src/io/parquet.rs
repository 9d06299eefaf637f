//! Parquet sources through arrow-rs: footers read once per scan, schemas of
//! all files merged, splits assigned row groups by their midpoint (as Spark
//! does), only the needed columns decoded, and row groups skipped when their
//! statistics prove a pushed-down filter false.

use std::fs::File;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Schema as ArrowSchema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;
use polars::prelude::{Column, DataFrame, IntoColumn, Series};

use crate::error::{EngineError, Result};
use crate::exec::{from_polars, Batches, ExecutionPlan, TaskContext};
use crate::io::arrow_bridge::{batch_to_frame, spark_type};
use crate::io::files::{partition_splits, partition_value, FileSplit, InputFile};
use crate::plan::PlanSchema;
use crate::types::{DataType, Schema, StructField};
use crate::value::Value;

/// A footer and what Spark would see of the file.
#[derive(Debug, Clone)]
pub struct ParquetFile {
    pub metadata: ArrowReaderMetadata,
    pub schema: Schema,
}

pub fn read_footer(file: &InputFile) -> Result<ParquetFile> {
    let handle =
        File::open(&file.path).map_err(|e| EngineError::io(file.path.display().to_string(), e))?;
    let metadata = ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()).map_err(|e| {
        EngineError::spark(
            "CANNOT_READ_FILE_FOOTER",
            format!(
                "Could not read footer for file: {}. {e}",
                crate::io::files::qualified(&file.path)
            ),
        )
    })?;
    let metadata = with_view_strings(metadata)?;
    let fields = metadata
        .schema()
        .fields()
        .iter()
        .map(|f| {
            Ok(StructField::new(
                f.name().as_str(),
                spark_type(f.data_type())?,
                true,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ParquetFile {
        metadata,
        schema: Schema::new(fields),
    })
}

/// The footer with top-level strings and binaries read as arrow's view
/// types, which are polars' own layout: the hand-over to polars is then
/// free instead of a copy of every string.
fn with_view_strings(metadata: ArrowReaderMetadata) -> Result<ArrowReaderMetadata> {
    let schema = metadata.schema();
    let view = |t: &ArrowType| match t {
        ArrowType::Utf8 | ArrowType::LargeUtf8 => Some(ArrowType::Utf8View),
        ArrowType::Binary | ArrowType::LargeBinary => Some(ArrowType::BinaryView),
        _ => None,
    };
    if !schema
        .fields()
        .iter()
        .any(|f| view(f.data_type()).is_some())
    {
        return Ok(metadata);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| match view(f.data_type()) {
            Some(t) => Arc::new(f.as_ref().clone().with_data_type(t)),
            None => f.clone(),
        })
        .collect();
    let viewed = ArrowSchema::new_with_metadata(fields, schema.metadata().clone());
    Ok(ArrowReaderMetadata::try_new(
        metadata.metadata().clone(),
        ArrowReaderOptions::new().with_schema(Arc::new(viewed)),
    )?)
}

/// Merges file schemas by name, widening compatible types (Spark's `mergeSchema`).
pub fn merge_schemas(schemas: &[Schema]) -> Result<Schema> {
    let mut merged: Vec<StructField> = Vec::new();
    for schema in schemas {
        for field in &schema.fields {
            match merged
                .iter_mut()
                .find(|m| m.name.eq_ignore_ascii_case(&field.name))
            {
                None => merged.push(field.clone()),
                Some(existing) if existing.data_type == field.data_type => {}
                Some(existing) => {
                    existing.data_type = crate::lower::common_type(&existing.data_type, &field.data_type)
                        .filter(|t| *t != DataType::String || existing.data_type == DataType::String)
                        .ok_or_else(|| {
                            EngineError::spark(
                                "CANNOT_MERGE_SCHEMAS",
                                format!(
                                    "Failed merging schemas: column `{}` is {} in one file and {} in another.",
                                    field.name,
                                    existing.data_type.simple_string(),
                                    field.data_type.simple_string()
                                ),
                            )
                        })?;
                }
            }
        }
    }
    Ok(Schema::new(merged))
}

/// A comparison a scan can check against row-group statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsPredicate {
    pub column: String,
    pub op: crate::expr::BinaryOp,
    pub value: Value,
}

#[derive(Debug)]
pub struct ParquetScanExec {
    pub files: Arc<Vec<InputFile>>,
    pub footers: Arc<Vec<ParquetFile>>,
    pub partitions: Vec<Vec<FileSplit>>,
    pub partition_fields: Vec<StructField>,
    pub schema: PlanSchema,
    /// Filters that may skip row groups (rows are still filtered afterwards).
    pub predicates: Vec<StatsPredicate>,
}

fn row_group_start(rg: &RowGroupMetaData) -> i64 {
    rg.columns()
        .first()
        .map(|c| c.dictionary_page_offset().unwrap_or(c.data_page_offset()))
        .unwrap_or(0)
}

/// A row group belongs to the split that holds its midpoint.
fn row_groups_in(footer: &ParquetFile, split: &FileSplit) -> Vec<usize> {
    footer
        .metadata
        .metadata()
        .row_groups()
        .iter()
        .enumerate()
        .filter(|(_, rg)| {
            let mid = row_group_start(rg) + rg.compressed_size() / 2;
            mid >= split.start as i64 && mid < (split.start + split.length) as i64
        })
        .map(|(i, _)| i)
        .collect()
}

/// The stored (compressed) bytes of the selected row groups' wanted columns.
fn chunk_bytes(
    footer: &ParquetFile,
    groups: &[usize],
    wanted: &[(usize, &crate::plan::Attribute)],
) -> u64 {
    let metadata = footer.metadata.metadata();
    let schema = footer.metadata.parquet_schema();
    let leaves: Vec<usize> = (0..schema.num_columns())
        .filter(|leaf| {
            let root = schema.get_column_root_idx(*leaf);
            wanted.iter().any(|(i, _)| *i == root)
        })
        .collect();
    groups
        .iter()
        .flat_map(|g| {
            let rg = metadata.row_group(*g);
            leaves
                .iter()
                .map(move |leaf| rg.column(*leaf).compressed_size().max(0) as u64)
        })
        .sum()
}

fn stat_bounds(stats: &Statistics) -> Option<(Value, Value)> {
    Some(match stats {
        Statistics::Int32(s) => (
            Value::Long(*s.min_opt()? as i64),
            Value::Long(*s.max_opt()? as i64),
        ),
        Statistics::Int64(s) => (Value::Long(*s.min_opt()?), Value::Long(*s.max_opt()?)),
        Statistics::Double(s) => (Value::Double(*s.min_opt()?), Value::Double(*s.max_opt()?)),
        Statistics::Float(s) => (
            Value::Double(*s.min_opt()? as f64),
            Value::Double(*s.max_opt()? as f64),
        ),
        Statistics::ByteArray(s) => (
            Value::String(String::from_utf8_lossy(s.min_opt()?.data()).into_owned()),
            Value::String(String::from_utf8_lossy(s.max_opt()?.data()).into_owned()),
        ),
        _ => return None,
    })
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(y)),
        (Value::Double(x), Value::Double(y)) => x.partial_cmp(y),
        (Value::Long(x), Value::Double(y)) => (*x as f64).partial_cmp(y),
        (Value::Double(x), Value::Long(y)) => x.partial_cmp(&(*y as f64)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// False when the statistics prove no row of the group can match.
fn may_match(rg: &RowGroupMetaData, footer: &ParquetFile, predicate: &StatsPredicate) -> bool {
    let Some(index) = footer
        .schema
        .fields
        .iter()
        .position(|f| f.name.eq_ignore_ascii_case(&predicate.column))
    else {
        return true;
    };
    let descr = footer.metadata.parquet_schema();
    let Some(leaf) = (0..descr.num_columns())
        .find(|i| descr.column(*i).path().string() == footer.schema.fields[index].name)
    else {
        return true;
    };
    let Some((min, max)) = rg.column(leaf).statistics().and_then(stat_bounds) else {
        return true;
    };
    value_may_match(&min, &max, predicate)
}

fn comparable(value: &Value) -> Value {
    match value {
        Value::Integer(v) => Value::Long(*v as i64),
        Value::Short(v) => Value::Long(*v as i64),
        Value::Byte(v) => Value::Long(*v as i64),
        Value::Float(v) => Value::Double(*v as f64),
        Value::Date(v) => Value::Long(*v as i64),
        other => other.clone(),
    }
}

/// False when no value in `[min, max]` can satisfy the predicate; true when
/// it may, or when the types cannot be compared.
pub fn value_may_match(min: &Value, max: &Value, predicate: &StatsPredicate) -> bool {
    use crate::expr::BinaryOp;
    use std::cmp::Ordering::*;
    if min.is_null() || max.is_null() {
        return true;
    }
    let (min, max) = (comparable(min), comparable(max));
    let value = comparable(&predicate.value);
    let (Some(vs_min), Some(vs_max)) = (compare(&value, &min), compare(&value, &max)) else {
        return true;
    };
    match predicate.op {
        BinaryOp::Eq | BinaryOp::EqNullSafe => vs_min != Less && vs_max != Greater,
        BinaryOp::Lt => vs_min == Greater,
        BinaryOp::LtEq => vs_min != Less,
        BinaryOp::Gt => vs_max == Less,
        BinaryOp::GtEq => vs_max != Greater,
        _ => true,
    }
}

impl ParquetScanExec {
    /// One split's rows in batches of about `BATCH_ROWS`, each carrying the
    /// scan's whole schema (partition values, columns this file lacks).
    fn split_batches<'a>(&'a self, split: &FileSplit, ctx: &'a TaskContext) -> Result<Batches<'a>> {
        const BATCH_ROWS: usize = 128 * 1024;
        let file = &self.files[split.file];
        let footer = &self.footers[split.file];
        let groups: Vec<usize> = row_groups_in(footer, split)
            .into_iter()
            .filter(|g| {
                let rg = footer.metadata.metadata().row_group(*g);
                self.predicates.iter().all(|p| may_match(rg, footer, p))
            })
            .collect();
        if groups.is_empty() {
            return Ok(Box::new(std::iter::empty()));
        }
        // Data columns this scan outputs, in the file's own column order.
        let mut wanted: Vec<(usize, &crate::plan::Attribute)> = self
            .schema
            .attrs
            .iter()
            .filter(|a| !self.partition_fields.iter().any(|p| p.name == a.field.name))
            .filter_map(|a| {
                footer
                    .schema
                    .fields
                    .iter()
                    .position(|f| f.name.eq_ignore_ascii_case(&a.field.name))
                    .map(|i| (i, a))
            })
            .collect();
        let handle = File::open(&file.path)
            .map_err(|e| EngineError::io(file.path.display().to_string(), e))?;
        ctx.record_bytes_read(chunk_bytes(footer, &groups, &wanted));
        let mask = ProjectionMask::roots(
            footer.metadata.parquet_schema(),
            wanted.iter().map(|(i, _)| *i),
        );
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(handle, footer.metadata.clone())
                .with_row_groups(groups)
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()?;
        wanted.sort_by_key(|(i, _)| *i);
        let columns: Vec<(String, DataType)> = wanted
            .iter()
            .map(|(_, a)| (a.physical.clone(), a.field.data_type.clone()))
            .collect();
        Ok(Box::new(reader.map(move |batch| {
            ctx.cancel.check()?;
            let frame = batch_to_frame(&batch?, &columns)?;
            self.complete_batch(frame, file)
        })))
    }

    /// Adds the columns a file does not store: partition values, and
    /// columns of the merged schema this file lacks (null).
    fn complete_batch(&self, frame: DataFrame, file: &InputFile) -> Result<DataFrame> {
        let height = frame.height();
        let mut columns = Vec::with_capacity(self.schema.len());
        for attr in &self.schema.attrs {
            if let Ok(column) = frame.column(&attr.physical) {
                columns.push(column.clone());
                continue;
            }
            let value = match self
                .partition_fields
                .iter()
                .find(|p| p.name == attr.field.name)
            {
                Some(p) => partition_value(
                    file.partition_values
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&p.name))
                        .map(|(_, v)| v.as_str()),
                    &p.data_type,
                ),
                None => Value::Null,
            };
            columns.push(constant_column(
                &attr.physical,
                &value,
                &attr.field.data_type,
                height,
            )?);
        }
        DataFrame::new(height, columns).map_err(from_polars)
    }
}

/// A column repeating one value (partition values, columns a file lacks).
pub fn constant_column(
    name: &str,
    value: &Value,
    data_type: &DataType,
    height: usize,
) -> Result<Column> {
    let any = crate::session::any_value_of(value, data_type)?;
    let series =
        Series::from_any_values_and_dtype(name.into(), &[any], &data_type.to_polars(), true)
            .map_err(from_polars)?;
    Ok(series.new_from_index(0, height).into_column())
}

impl ExecutionPlan for ParquetScanExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.partitions.len().max(1)
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        crate::exec::concat_batches(self, partition, ctx)
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        let splits = partition_splits(&self.partitions, partition);
        let batches = splits.iter().map(move |split| {
            ctx.cancel.check()?;
            self.split_batches(split, ctx)
        });
        Ok(Box::new(
            batches
                .flat_map(|split| match split {
                    Ok(batches) => batches,
                    Err(e) => Box::new(std::iter::once(Err(e))),
                })
                .inspect(move |batch| {
                    if let Ok(frame) = batch {
                        ctx.record_rows_read(frame);
                    }
                }),
        ))
    }
}
