//! Shuffle storage: map-side output held in memory up to a budget, and
//! written to Arrow IPC files in a scratch directory beyond it, so a shuffle
//! larger than memory still completes. Files are removed with the store.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use polars::prelude::{Column, CompatLevel, DataFrame, IntoColumn};

use crate::error::{EngineError, Result};
use crate::exec::from_polars;
use crate::io::arrow_bridge::series_from_arrow;

/// Where and when a shuffle spills.
#[derive(Debug, Clone, PartialEq)]
pub struct SpillConfig {
    /// Bytes of shuffle data one exchange keeps in memory.
    pub memory_budget: u64,
    pub directory: PathBuf,
}

impl Default for SpillConfig {
    fn default() -> Self {
        SpillConfig {
            memory_budget: 256 << 20,
            directory: std::env::temp_dir(),
        }
    }
}

#[derive(Debug)]
enum Piece {
    Memory(DataFrame),
    Spilled { path: PathBuf },
}

#[derive(Debug)]
pub struct ShuffleStore {
    /// Each bucket's pieces with the map partition that wrote them.
    buckets: Vec<Mutex<Vec<(usize, Piece)>>>,
    sizes: Vec<AtomicU64>,
    held: AtomicU64,
    spilled: AtomicU64,
    config: SpillConfig,
    directory: Mutex<Option<PathBuf>>,
    next_file: AtomicUsize,
    /// The columns map tasks wrote, helper columns included: an empty
    /// read has them too, where the plan's schema knows only the visible ones.
    columns: std::sync::OnceLock<polars::prelude::SchemaRef>,
}

fn poisoned() -> EngineError {
    EngineError::Internal("shuffle store lock poisoned".into())
}

impl ShuffleStore {
    pub fn new(buckets: usize, config: SpillConfig) -> ShuffleStore {
        ShuffleStore {
            buckets: (0..buckets).map(|_| Mutex::new(Vec::new())).collect(),
            sizes: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            held: AtomicU64::new(0),
            spilled: AtomicU64::new(0),
            config,
            directory: Mutex::new(None),
            next_file: AtomicUsize::new(0),
            columns: std::sync::OnceLock::new(),
        }
    }

    /// Records the columns of a map task's output (the first one seen).
    pub fn note_columns(&self, frame: &DataFrame) {
        let _ = self.columns.set(frame.schema().clone());
    }

    /// The rows of `range` as one frame, with the map side's columns when empty.
    pub fn read_frame(
        &self,
        range: std::ops::Range<usize>,
        schema: &crate::plan::PlanSchema,
    ) -> Result<DataFrame> {
        let frames = self.read(range)?;
        match self.columns.get() {
            Some(columns) if frames.is_empty() => Ok(DataFrame::empty_with_schema(columns)),
            _ => crate::exec::combine::concat_frames(frames, schema),
        }
    }

    /// Adds a piece to a bucket; returns the bytes written to disk for it.
    /// Adds map partition `map`'s rows for `bucket`; returns the bytes spilled.
    pub fn push(&self, bucket: usize, map: usize, frame: DataFrame) -> Result<u64> {
        let bytes = frame.estimated_size() as u64;
        self.sizes[bucket].fetch_add(bytes, Ordering::Relaxed);
        let held = self.held.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if held <= self.config.memory_budget {
            self.buckets[bucket]
                .lock()
                .map_err(|_| poisoned())?
                .push((map, Piece::Memory(frame)));
            return Ok(0);
        }
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        let path = self.spill_path()?;
        write_ipc(&path, &frame)?;
        let written = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(bytes);
        self.spilled.fetch_add(written, Ordering::Relaxed);
        self.buckets[bucket]
            .lock()
            .map_err(|_| poisoned())?
            .push((map, Piece::Spilled { path }));
        Ok(written)
    }

    fn spill_path(&self) -> Result<PathBuf> {
        let mut directory = self.directory.lock().map_err(|_| poisoned())?;
        let dir = match &*directory {
            Some(dir) => dir.clone(),
            None => {
                let dir = self
                    .config
                    .directory
                    .join(format!("kiln-shuffle-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir)
                    .map_err(|e| EngineError::io(dir.display().to_string(), e))?;
                *directory = Some(dir.clone());
                dir
            }
        };
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("spill-{n:06}.arrow")))
    }

    /// Estimated bytes per bucket (for adaptive coalescing).
    pub fn sizes(&self) -> Vec<i64> {
        self.sizes
            .iter()
            .map(|s| s.load(Ordering::Relaxed) as i64)
            .collect()
    }

    pub fn spilled_bytes(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    /// Every piece of the given buckets, read back from disk where spilled;
    /// within a bucket in map-partition order, as Spark's shuffle reads
    /// them, whichever map task finished first.
    pub fn read(&self, range: std::ops::Range<usize>) -> Result<Vec<DataFrame>> {
        let mut frames = Vec::new();
        for bucket in &self.buckets[range] {
            let pieces = bucket.lock().map_err(|_| poisoned())?;
            let mut order: Vec<usize> = (0..pieces.len()).collect();
            order.sort_by_key(|&i| pieces[i].0);
            for i in order {
                frames.push(match &pieces[i].1 {
                    Piece::Memory(frame) => frame.clone(),
                    Piece::Spilled { path } => read_ipc(path)?,
                });
            }
        }
        Ok(frames)
    }
}

impl Drop for ShuffleStore {
    fn drop(&mut self) {
        if let Ok(Some(dir)) = self.directory.lock().map(|d| d.clone()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes polars data as Arrow IPC, keeping polars' own column types.
fn write_ipc(path: &Path, frame: &DataFrame) -> Result<()> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for column in frame.columns() {
        let series = column.as_materialized_series().rechunk();
        let exported = series.to_arrow(0, CompatLevel::newest());
        let field = polars_arrow::datatypes::Field::new(
            series.name().clone(),
            exported.dtype().clone(),
            true,
        );
        let pl_schema = polars_arrow::ffi::export_field_to_c(&field);
        let pl_array = polars_arrow::ffi::export_array_to_c(exported);
        // SAFETY: identical `#[repr(C)]` C Data Interface structs; arrow-rs takes ownership.
        let (ffi_array, ffi_schema) = unsafe {
            (
                std::mem::transmute::<polars_arrow::ffi::ArrowArray, arrow::ffi::FFI_ArrowArray>(
                    pl_array,
                ),
                std::mem::transmute::<polars_arrow::ffi::ArrowSchema, arrow::ffi::FFI_ArrowSchema>(
                    pl_schema,
                ),
            )
        };
        let data = unsafe { arrow::ffi::from_ffi(ffi_array, &ffi_schema) }?;
        let array = compact_views(arrow::array::make_array(data));
        fields.push(arrow::datatypes::Field::new(
            series.name().as_str(),
            array.data_type().clone(),
            true,
        ));
        arrays.push(array);
    }
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    let batch = if arrays.is_empty() {
        RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(frame.height())),
        )?
    } else {
        RecordBatch::try_new(schema.clone(), arrays)?
    };
    let file = File::create(path).map_err(|e| EngineError::io(path.display().to_string(), e))?;
    let mut writer = FileWriter::try_new(BufWriter::new(file), &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    Ok(())
}

/// A string or binary column keeps only the bytes its rows use: a bucket
/// sliced from a larger frame shares that frame's string buffers, and the
/// IPC writer would otherwise write every one of them.
fn compact_views(array: arrow::array::ArrayRef) -> arrow::array::ArrayRef {
    use arrow::array::AsArray;
    match array.data_type() {
        arrow::datatypes::DataType::Utf8View => Arc::new(array.as_string_view().gc()),
        arrow::datatypes::DataType::BinaryView => Arc::new(array.as_binary_view().gc()),
        _ => array,
    }
}

fn read_ipc(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| EngineError::io(path.display().to_string(), e))?;
    let reader = FileReader::try_new(file, None)?;
    let schema = reader.schema();
    let mut frames = Vec::new();
    for batch in reader {
        let batch = batch?;
        let columns: Vec<Column> = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, a)| series_from_arrow(f.name(), a).map(IntoColumn::into_column))
            .collect::<Result<_>>()?;
        frames.push(DataFrame::new(batch.num_rows(), columns).map_err(from_polars)?);
    }
    let mut frames = frames.into_iter();
    let mut first = frames
        .next()
        .ok_or_else(|| EngineError::Internal(format!("empty spill file {}", path.display())))?;
    for frame in frames {
        first.vstack_mut_owned(frame).map_err(from_polars)?;
    }
    Ok(first)
}
