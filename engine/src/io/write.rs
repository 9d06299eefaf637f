//! Writes through Spark's commit protocol: every task writes its partition
//! under `<path>/_temporary/`, and only when all tasks succeeded are the
//! files moved into place (old data removed first for `overwrite`) and
//! `_SUCCESS` written. A failed or cancelled write leaves the old data as it was.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use polars::prelude::{DataFrame, IntoLazy};

use crate::error::{EngineError, Result};
use crate::exec::events::{StageKind, TaskMetrics};
use crate::exec::exchange::ShuffleExchangeExec;
use crate::exec::{
    consume_partitions, from_polars, run_tasks, Batches, ExecutionPlan, TaskContext,
};
use crate::io::arrow_bridge::frame_to_batch;
use crate::io::files::{qualified, NULL_PARTITION};
use crate::plan::PlanSchema;
use crate::types::DataType;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    ErrorIfExists,
    Append,
    Overwrite,
    Ignore,
}

impl SaveMode {
    pub fn parse(text: &str) -> Result<SaveMode> {
        Ok(match text.to_ascii_lowercase().as_str() {
            "error" | "errorifexists" | "default" => SaveMode::ErrorIfExists,
            "append" => SaveMode::Append,
            "overwrite" => SaveMode::Overwrite,
            "ignore" => SaveMode::Ignore,
            _ => {
                return Err(EngineError::analysis(
                    "INVALID_SAVE_MODE",
                    format!("The specified save mode \"{text}\" is invalid. Valid save modes include \"append\", \"overwrite\", \"ignore\", \"error\", \"errorifexists\", and \"default\"."),
                ))
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteFormat {
    /// Codec name as Spark spells it: snappy, gzip, zstd, none.
    Parquet { compression: String },
    Csv {
        header: bool,
        separator: u8,
        null_value: String,
        compression: Option<String>,
    },
    /// JSON Lines.
    Json { compression: Option<String> },
}

impl WriteFormat {
    fn extension(&self) -> Result<String> {
        Ok(match self {
            WriteFormat::Parquet { compression } => match compression.as_str() {
                "snappy" => ".snappy.parquet".into(),
                "gzip" => ".gz.parquet".into(),
                "zstd" => ".zstd.parquet".into(),
                "none" | "uncompressed" => ".parquet".into(),
                other => return Err(unknown_codec(other)),
            },
            WriteFormat::Csv { compression, .. } => match compression.as_deref() {
                None | Some("none") | Some("uncompressed") => ".csv".into(),
                Some("gzip") => ".csv.gz".into(),
                Some(other) => return Err(unknown_codec(other)),
            },
            WriteFormat::Json { compression } => match compression.as_deref() {
                None | Some("none") | Some("uncompressed") => ".json".into(),
                Some("gzip") => ".json.gz".into(),
                Some(other) => return Err(unknown_codec(other)),
            },
        })
    }
}

fn unknown_codec(codec: &str) -> EngineError {
    EngineError::spark(
        "CODEC_NOT_AVAILABLE.WITH_AVAILABLE_CODECS_SUGGESTION",
        format!("The codec {codec} is not available. Available codecs are none, uncompressed, snappy, gzip, zstd."),
    )
}

pub struct WriteRequest<'a> {
    pub path: &'a Path,
    pub mode: SaveMode,
    pub format: WriteFormat,
    pub partition_by: Vec<String>,
    /// Files the query reads, so overwriting its own input can be refused.
    pub inputs: Vec<PathBuf>,
    pub time_zone: chrono_tz::Tz,
}

/// What a finished write produced.
#[derive(Debug, Clone, Default)]
pub struct WriteSummary {
    pub files: Vec<PathBuf>,
    pub rows: u64,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> EngineError + '_ {
    move |e| EngineError::io(qualified(path), e)
}

/// `key=value` directory names, escaped as Spark escapes them.
fn partition_dir(values: &[(String, Value)], tz: &chrono_tz::Tz) -> PathBuf {
    let mut dir = PathBuf::new();
    for (name, value) in values {
        let text = match value {
            Value::Null => NULL_PARTITION.to_string(),
            other => other.to_spark_string(tz),
        };
        let escaped: String = text
            .chars()
            .map(|c| {
                if c.is_control() || "\"#%'*/:=?\\\u{7f}{[]^".contains(c) {
                    format!("%{:02X}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        dir.push(format!("{name}={escaped}"));
    }
    dir
}

fn write_parquet_file(
    path: &Path,
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
    compression: &str,
) -> Result<()> {
    let mut sink = ParquetSink::new(path, schema, skip, compression);
    sink.write(frame)?;
    sink.close()
}

/// A Parquet file written batch by batch; the file is created with the
/// first batch. Batches go to Arrow in slices, so a partition is never
/// copied whole into Arrow next to its polars columns.
struct ParquetSink<'a> {
    path: &'a Path,
    schema: &'a PlanSchema,
    skip: &'a [String],
    codec: Compression,
    /// Columns written without a dictionary, judged on the first rows.
    plain: Vec<String>,
    writer: Option<ArrowWriter<BufWriter<File>>>,
}

impl<'a> ParquetSink<'a> {
    fn new(
        path: &'a Path,
        schema: &'a PlanSchema,
        skip: &'a [String],
        compression: &str,
    ) -> ParquetSink<'a> {
        let codec = match compression {
            "snappy" => Compression::SNAPPY,
            "gzip" => Compression::GZIP(GzipLevel::default()),
            "zstd" => Compression::ZSTD(ZstdLevel::default()),
            _ => Compression::UNCOMPRESSED,
        };
        ParquetSink {
            path,
            schema,
            skip,
            codec,
            plain: Vec::new(),
            writer: None,
        }
    }

    /// Appends `frame`'s rows (an empty frame still fixes the file's schema).
    fn write(&mut self, frame: &DataFrame) -> Result<()> {
        if frame.height() == 0 {
            return self.write_batch(frame);
        }
        if self.writer.is_none() {
            self.plain = plain_columns(frame, self.schema, self.skip)?;
        }
        // Chunk by chunk: a batch within one chunk is exported without a copy.
        for chunk in frame.clone().split_chunks() {
            for offset in (0..chunk.height()).step_by(PARQUET_BATCH_ROWS) {
                self.write_batch(&chunk.slice(offset as i64, PARQUET_BATCH_ROWS))?;
            }
        }
        Ok(())
    }

    fn write_batch(&mut self, rows: &DataFrame) -> Result<()> {
        let batch = frame_to_batch(rows, self.schema, self.skip)?;
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => {
                if let Some(parent) = self.path.parent() {
                    fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                let file = File::create(self.path).map_err(io_error(self.path))?;
                let properties = self.plain.iter().fold(
                    WriterProperties::builder().set_compression(self.codec),
                    |builder, name| {
                        builder
                            .set_column_dictionary_enabled(ColumnPath::from(name.as_str()), false)
                    },
                );
                self.writer.insert(ArrowWriter::try_new(
                    BufWriter::new(file),
                    batch.schema(),
                    Some(properties.build()),
                )?)
            }
        };
        writer.write(&batch)?;
        Ok(())
    }

    fn close(self) -> Result<()> {
        if let Some(writer) = self.writer {
            writer.close()?;
        }
        Ok(())
    }
}

/// Rows a file's first batch needs for `plain_columns` to judge by it.
const DICTIONARY_SAMPLE_ROWS: usize = 4096;

/// The columns whose dictionary would not pay for itself, judged on a
/// file's first rows as parquet-mr (Spark's writer) judges a column on its
/// first page: when the dictionary plus the indices into it are no smaller
/// than the plain values, the whole column is written plain. Nearly unique
/// columns (a trip's timestamps) are then neither hashed value by value
/// nor stored twice, while repetitive ones keep their dictionary.
fn plain_columns(frame: &DataFrame, schema: &PlanSchema, skip: &[String]) -> Result<Vec<String>> {
    let rows = frame.height();
    if rows < DICTIONARY_SAMPLE_ROWS {
        return Ok(Vec::new());
    }
    let mut plain = Vec::new();
    for attr in &schema.attrs {
        let name = &attr.field.name;
        if skip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        // Bytes a plain value takes; strings are measured below.
        let width = match attr.field.data_type {
            DataType::Byte
            | DataType::Short
            | DataType::Integer
            | DataType::Float
            | DataType::Date => Some(4),
            DataType::Long | DataType::Double | DataType::Timestamp | DataType::TimestampNtz => {
                Some(8)
            }
            DataType::String => None,
            _ => continue,
        };
        let column = frame.column(&attr.physical).map_err(from_polars)?;
        let distinct = column.n_unique().map_err(from_polars)?;
        let value_bytes = match width {
            Some(width) => width * rows,
            None => {
                // Plain strings carry a 4-byte length each.
                let strings = column.as_materialized_series().str().map_err(from_polars)?;
                let bytes: usize = strings.downcast_iter().map(|a| a.total_bytes_len()).sum();
                bytes + 4 * rows
            }
        };
        let dictionary = value_bytes / rows * distinct;
        let index_bits = usize::BITS - distinct.saturating_sub(1).leading_zeros();
        let indices = rows * index_bits.max(1) as usize / 8;
        if dictionary + indices >= value_bytes {
            plain.push(name.clone());
        }
    }
    Ok(plain)
}

/// Rows converted to Arrow at a time when writing Parquet.
const PARQUET_BATCH_ROWS: usize = 64 * 1024;

fn csv_field(value: &Value, separator: u8, null_value: &str, tz: &chrono_tz::Tz) -> String {
    let text = match value {
        Value::Null => return null_value.to_string(),
        Value::Timestamp(us) => {
            // Spark's CSV writer default: yyyy-MM-dd'T'HH:mm:ss.SSSXXX
            let wall = crate::value::wall_clock(*us, Some(tz));
            let offset = {
                use chrono::{Offset, TimeZone};
                let utc = chrono::DateTime::from_timestamp_micros(*us)
                    .unwrap_or_default()
                    .naive_utc();
                tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
            };
            let zone = if offset == 0 {
                "Z".to_string()
            } else {
                let sign = if offset < 0 { '-' } else { '+' };
                format!(
                    "{sign}{:02}:{:02}",
                    offset.abs() / 3600,
                    offset.abs() % 3600 / 60
                )
            };
            format!("{}{zone}", wall.format("%Y-%m-%dT%H:%M:%S%.3f"))
        }
        other => other.to_spark_string(tz),
    };
    let needs_quotes = text.is_empty()
        || text.contains(separator as char)
        || text.contains(['"', '\n', '\r'])
        || text.starts_with(' ')
        || text.ends_with(' ');
    if needs_quotes {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        text
    }
}

fn write_csv_file(
    path: &Path,
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
    format: &WriteFormat,
    tz: &chrono_tz::Tz,
) -> Result<()> {
    let WriteFormat::Csv {
        header,
        separator,
        null_value,
        compression,
    } = format
    else {
        return Err(EngineError::Internal(
            "csv writer given another format".into(),
        ));
    };
    let sep = (*separator as char).to_string();
    write_lines(
        path,
        frame,
        schema,
        skip,
        compression.as_deref(),
        header.then_some(sep.as_str()),
        &|_, row| {
            row.iter()
                .map(|v| csv_field(v, *separator, null_value, tz))
                .collect::<Vec<_>>()
                .join(&sep)
        },
    )
}

/// One line per row (after a header line of the column names joined by
/// `header_separator`, when given), to a text file; the columns in `skip` (partition columns) left out.
fn write_lines(
    path: &Path,
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
    compression: Option<&str>,
    header_separator: Option<&str>,
    line: &dyn Fn(&[String], &[Value]) -> String,
) -> Result<()> {
    let kept = PlanSchema {
        attrs: schema
            .attrs
            .iter()
            .filter(|a| !skip.iter().any(|s| s.eq_ignore_ascii_case(&a.field.name)))
            .cloned()
            .collect(),
    };
    let names = kept.names();
    let mut out = text_output(path, compression)?;
    let mut text = String::new();
    if let Some(separator) = header_separator {
        text.push_str(&names.join(separator));
        text.push('\n');
    }
    for row in crate::rows::frame_rows(frame, &kept)? {
        text.push_str(&line(&names, &row));
        text.push('\n');
        if text.len() > 1 << 20 {
            out.write_all(text.as_bytes()).map_err(io_error(path))?;
            text.clear();
        }
    }
    out.write_all(text.as_bytes()).map_err(io_error(path))?;
    out.flush().map_err(io_error(path))?;
    Ok(())
}

/// A (maybe gzip-compressed) text file to write.
fn text_output(path: &Path, compression: Option<&str>) -> Result<Box<dyn Write>> {
    let file = File::create(path).map_err(io_error(path))?;
    Ok(if compression == Some("gzip") {
        Box::new(flate2::write::GzEncoder::new(
            BufWriter::new(file),
            flate2::Compression::default(),
        ))
    } else {
        Box::new(BufWriter::new(file))
    })
}

fn write_json_file(
    path: &Path,
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
    compression: Option<&str>,
    tz: &chrono_tz::Tz,
) -> Result<()> {
    write_lines(
        path,
        frame,
        schema,
        skip,
        compression,
        None,
        &|names, row| crate::io::json::row_line(names, row, tz),
    )
}

/// Runs the plan and writes its partitions with the commit protocol.
pub fn write(
    plan: &Arc<dyn ExecutionPlan>,
    request: &WriteRequest<'_>,
    ctx: &TaskContext,
) -> Result<WriteSummary> {
    let path = request.path;
    let exists = path.exists();
    match (request.mode, exists) {
        (SaveMode::ErrorIfExists, true) => {
            return Err(EngineError::spark(
                "PATH_ALREADY_EXISTS",
                format!(
                "Path {} already exists. Set mode as \"overwrite\" to overwrite the existing path.",
                qualified(path)
            ),
            ))
        }
        (SaveMode::Ignore, true) => return Ok(WriteSummary::default()),
        (SaveMode::Overwrite, true) => {
            let target = fs::canonicalize(path).map_err(io_error(path))?;
            if request
                .inputs
                .iter()
                .filter_map(|i| fs::canonicalize(i).ok())
                .any(|i| i.starts_with(&target))
            {
                return Err(EngineError::analysis(
                    "UNSUPPORTED_OVERWRITE.PATH",
                    format!("The target path {} cannot be overwritten because it is also being read from in the same query. Write to a new path, or cache/checkpoint the input first.", qualified(path)),
                ));
            }
        }
        _ => {}
    }
    let schema = plan.schema().clone();
    for name in &request.partition_by {
        if schema.resolve(name, None).is_err() {
            return Err(EngineError::analysis(
                "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                format!(
                    "Partition column `{name}` not found in schema {}.",
                    schema.schema().simple_string()
                ),
            ));
        }
    }
    let staging = path.join("_temporary").join("0");
    fs::create_dir_all(&staging).map_err(io_error(&staging))?;
    let job = WriteJob {
        schema: &schema,
        request,
        staging: &staging,
        uuid: uuid::Uuid::new_v4(),
        extension: request.format.extension()?,
        written: Mutex::new(Vec::new()),
    };
    let exchange = plan.as_any().downcast_ref::<ShuffleExchangeExec>();
    let result = match (exchange, &request.format) {
        (Some(exchange), WriteFormat::Parquet { compression })
            if request.partition_by.is_empty() && exchange.can_stream_buckets() =>
        {
            write_as_cut(exchange, &job, compression, ctx)
        }
        _ => consume_partitions(plan, ctx, StageKind::Result, |partition, batches| {
            write_task(&job, partition, batches)?;
            Ok(TaskMetrics::default())
        }),
    };
    if let Err(error) = result {
        let _ = fs::remove_dir_all(path.join("_temporary"));
        if !exists {
            let _ = fs::remove_dir(path);
        }
        return Err(error);
    }
    let first_file = job.file_name(0);
    let mut written = job.written.into_inner().unwrap_or_default();
    if written.is_empty() {
        // An empty result still writes one file carrying the schema.
        let empty = crate::exec::combine::empty_frame(&schema)?;
        let relative = PathBuf::from(first_file);
        let staged = staging.join(&relative);
        write_file(&staged, &empty, &schema, &request.partition_by, request)?;
        written.push((staged, relative, 0));
    }
    commit(path, request.mode, exists, &written)?;
    let mut files: Vec<PathBuf> = written.iter().map(|(_, r, _)| path.join(r)).collect();
    files.sort();
    Ok(WriteSummary {
        files,
        rows: written.iter().map(|(_, _, n)| n).sum(),
    })
}

fn write_file(
    staged: &Path,
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
    request: &WriteRequest<'_>,
) -> Result<()> {
    if let Some(parent) = staged.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    match &request.format {
        WriteFormat::Parquet { compression } => {
            write_parquet_file(staged, frame, schema, skip, compression)
        }
        WriteFormat::Json { compression } => write_json_file(
            staged,
            frame,
            schema,
            skip,
            compression.as_deref(),
            &request.time_zone,
        ),
        csv => write_csv_file(staged, frame, schema, skip, csv, &request.time_zone),
    }
}

/// What every task of one write shares.
struct WriteJob<'a> {
    schema: &'a PlanSchema,
    request: &'a WriteRequest<'a>,
    staging: &'a Path,
    uuid: uuid::Uuid,
    extension: String,
    written: Mutex<Vec<(PathBuf, PathBuf, u64)>>,
}

impl WriteJob<'_> {
    /// The file task `partition` writes, as Spark names it.
    fn file_name(&self, partition: usize) -> String {
        format!("part-{partition:05}-{}-c000{}", self.uuid, self.extension)
    }

    /// A task's file staged under `staged`, to be committed as `relative`.
    fn record(&self, staged: PathBuf, relative: PathBuf, rows: u64) -> Result<()> {
        self.written
            .lock()
            .map_err(|_| EngineError::Internal("write lock poisoned".into()))?
            .push((staged, relative, rows));
        Ok(())
    }
}

/// Parquet files of an exchange whose buckets one map task cuts (a single
/// file read and repartitioned, say): each bucket's file is encoded as its
/// pieces are cut, so encoding runs while the input is still being read and
/// the buckets are never held, then a result stage of a task per bucket
/// finishes the files. Row for row the files the reduce tasks would write.
fn write_as_cut(
    exchange: &ShuffleExchangeExec,
    job: &WriteJob<'_>,
    compression: &str,
    ctx: &TaskContext,
) -> Result<()> {
    let buckets = exchange.partitioning.count();
    let names: Vec<String> = (0..buckets).map(|p| job.file_name(p)).collect();
    let staged: Vec<PathBuf> = names
        .iter()
        .enumerate()
        .map(|(p, name)| job.staging.join(format!("task_{p:05}")).join(name))
        .collect();
    let sinks: Vec<Mutex<Option<(ParquetSink, u64)>>> = staged
        .iter()
        .map(|path| {
            Mutex::new(Some((
                ParquetSink::new(path, job.schema, &[], compression),
                0,
            )))
        })
        .collect();
    let poisoned = || EngineError::Internal("parquet sink lock poisoned".into());
    let closed = || EngineError::Internal("parquet sink used after it was closed".into());
    exchange.stream_buckets(ctx, |bucket, piece| {
        let mut sink = sinks[bucket].lock().map_err(|_| poisoned())?;
        let (sink, rows) = sink.as_mut().ok_or_else(closed)?;
        *rows += piece.height() as u64;
        sink.write(&piece)
    })?;
    let tasks: Vec<usize> = (0..buckets).collect();
    run_tasks(&tasks, ctx, StageKind::Result, |p, _| {
        let taken = sinks[p].lock().map_err(|_| poisoned())?.take();
        let (sink, rows) = taken.ok_or_else(closed)?;
        sink.close()?;
        if rows > 0 {
            job.record(staged[p].clone(), PathBuf::from(&names[p]), rows)?;
        }
        let metrics = TaskMetrics {
            rows_out: rows,
            ..Default::default()
        };
        Ok(((), metrics))
    })?;
    Ok(())
}

/// Writes one partition's rows (one file, or one per partition-column
/// value; none when it has no rows). Parquet without partition columns is
/// written as the batches come, so the task never holds its partition.
fn write_task(job: &WriteJob<'_>, partition: usize, batches: Batches<'_>) -> Result<()> {
    let (schema, request, staging) = (job.schema, job.request, job.staging);
    let name = job.file_name(partition);
    if let (WriteFormat::Parquet { compression }, true) =
        (&request.format, request.partition_by.is_empty())
    {
        let staged = staging.join(format!("task_{partition:05}")).join(&name);
        let mut sink = ParquetSink::new(&staged, schema, &[], compression);
        let mut rows = 0u64;
        for batch in batches {
            let batch = batch?;
            if batch.height() > 0 {
                rows += batch.height() as u64;
                sink.write(&batch)?;
            }
        }
        sink.close()?;
        if rows > 0 {
            job.record(staged, PathBuf::from(&name), rows)?;
        }
        return Ok(());
    }
    let frames = batches.collect::<Result<Vec<_>>>()?;
    let frame = crate::exec::combine::concat_frames(frames, schema)?;
    if frame.height() == 0 {
        return Ok(());
    }
    let mut outputs = Vec::new();
    if request.partition_by.is_empty() {
        outputs.push((PathBuf::from(&name), frame));
    } else {
        let keys: Vec<String> = request
            .partition_by
            .iter()
            .map(|n| schema.resolve(n, None).map(|a| a.physical.clone()))
            .collect::<Result<_>>()?;
        let key_schema = PlanSchema {
            attrs: keys
                .iter()
                .filter_map(|k| schema.attrs.iter().find(|a| &a.physical == k).cloned())
                .collect(),
        };
        let sorted = frame
            .lazy()
            .sort(
                keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                Default::default(),
            )
            .collect()
            .map_err(from_polars)?;
        let groups = sorted
            .partition_by_stable(keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(), true)
            .map_err(from_polars)?;
        for group in groups {
            let first = crate::rows::frame_rows(&group.head(Some(1)), &key_schema)?;
            let values: Vec<(String, Value)> = key_schema
                .attrs
                .iter()
                .map(|a| a.field.name.clone())
                .zip(first.into_iter().next().unwrap_or_default())
                .collect();
            outputs.push((
                partition_dir(&values, &request.time_zone).join(&name),
                group,
            ));
        }
    }
    for (relative, frame) in outputs {
        let staged = staging.join(format!("task_{partition:05}")).join(&relative);
        write_file(&staged, &frame, schema, &request.partition_by, request)?;
        job.record(staged, relative, frame.height() as u64)?;
    }
    Ok(())
}

/// Moves staged files into place; for overwrite, old contents go first.
fn commit(
    path: &Path,
    mode: SaveMode,
    existed: bool,
    written: &[(PathBuf, PathBuf, u64)],
) -> Result<()> {
    if mode == SaveMode::Overwrite && existed {
        for entry in fs::read_dir(path).map_err(io_error(path))? {
            let entry = entry.map_err(io_error(path))?;
            if entry.file_name() == "_temporary" {
                continue;
            }
            let target = entry.path();
            if target.is_dir() {
                fs::remove_dir_all(&target).map_err(io_error(&target))?;
            } else {
                fs::remove_file(&target).map_err(io_error(&target))?;
            }
        }
    }
    for (staged, relative, _) in written {
        let target = path.join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::rename(staged, &target).map_err(io_error(&target))?;
    }
    let temporary = path.join("_temporary");
    fs::remove_dir_all(&temporary).map_err(io_error(&temporary))?;
    let success = path.join("_SUCCESS");
    File::create(&success).map_err(io_error(&success))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Schema, StructField};
    use polars::prelude::{Column, NamedFrom, Series};

    #[test]
    fn only_columns_a_dictionary_does_not_shrink_are_written_plain() {
        let rows = 10_000i64;
        let schema = PlanSchema::from_schema(
            &Schema::new(vec![
                StructField::new("trip_id", DataType::Long, true),
                StructField::new("zone", DataType::Integer, true),
                StructField::new("flag", DataType::String, true),
                StructField::new("label", DataType::String, true),
            ]),
            0,
        );
        let column = |i: usize, series: Series| -> Column {
            series
                .with_name(schema.attrs[i].physical.as_str().into())
                .into()
        };
        let frame = DataFrame::new(
            rows as usize,
            vec![
                column(0, Series::new("".into(), (0..rows).collect::<Vec<_>>())),
                column(
                    1,
                    Series::new(
                        "".into(),
                        (0..rows).map(|i| (i % 265) as i32).collect::<Vec<_>>(),
                    ),
                ),
                column(
                    2,
                    Series::new(
                        "".into(),
                        (0..rows)
                            .map(|i| if i % 3 == 0 { "Y" } else { "N" })
                            .collect::<Vec<_>>(),
                    ),
                ),
                column(
                    3,
                    Series::new(
                        "".into(),
                        (0..rows).map(|i| format!("trip {i}")).collect::<Vec<_>>(),
                    ),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            plain_columns(&frame, &schema, &[]).unwrap(),
            vec!["trip_id".to_string(), "label".to_string()]
        );
        // A partition column is not written, so it is not judged either.
        assert_eq!(
            plain_columns(&frame, &schema, &["label".into()]).unwrap(),
            vec!["trip_id".to_string()]
        );
        // Too few rows to judge by: every column keeps its dictionary.
        assert!(plain_columns(&frame.head(Some(100)), &schema, &[])
            .unwrap()
            .is_empty());
    }
}
