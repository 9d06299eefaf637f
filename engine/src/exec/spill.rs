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

/// Shuffle bytes one exchange keeps in memory unless configured: about
/// what Spark's local mode holds in execution memory (60% of a 1 GB heap,
/// shared) before its sorter spills. A spill is not free even when the page
/// cache keeps the file: writing it runs on the map task's thread, and
/// reading it back copies it again. On the course's steps, holding 256 MB
/// instead of 32 MB (`kiln workload`, each once per budget, alternated):
/// CSV.gz → Parquet on 10M rows 6.8–7.0 s → 5.8–6.0 s at 196–201 MB → 460–474
/// MB peak; one yellow month CSV.gz → `repartition(4)` → Parquet 1.26–1.29 s
/// → 1.07–1.25 s; the fhvhv month's 24-way repartition 4.3 s → 4.0 s at
/// 206 MB → 655 MB; the global sort 3.3 s → 2.9–3.6 s at 340 MB → 670 MB.
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 << 20;

impl Default for SpillConfig {
    fn default() -> Self {
        SpillConfig {
            memory_budget: DEFAULT_MEMORY_BUDGET,
            directory: std::env::temp_dir(),
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Memory(DataFrame),
    /// Batch `batch` of a spill file holding one batch per bucket.
    Spilled {
        path: Arc<PathBuf>,
        batch: usize,
    },
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
    pub fn note_columns(&self, columns: &polars::prelude::SchemaRef) {
        let _ = self.columns.set(columns.clone());
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

    /// Adds map partition `map`'s rows for each bucket (`pieces[bucket]`,
    /// `None` where it has none); returns the bytes spilled. The pieces stay
    /// in memory while the store's budget allows, or else go together to one
    /// file, a batch per bucket, as Spark's sort shuffle spills a map task's
    /// output to one file with an index: one file per bucket would make
    /// creating and deleting files cost more than writing them.
    pub fn push_split(&self, map: usize, pieces: Vec<Option<DataFrame>>) -> Result<u64> {
        let pieces: Vec<(usize, DataFrame)> = pieces
            .into_iter()
            .enumerate()
            .filter_map(|(bucket, piece)| piece.map(|p| (bucket, p)))
            .collect();
        let sizes: Vec<u64> = pieces
            .iter()
            .map(|(_, p)| p.estimated_size() as u64)
            .collect();
        for ((bucket, _), size) in pieces.iter().zip(&sizes) {
            self.sizes[*bucket].fetch_add(*size, Ordering::Relaxed);
        }
        let bytes: u64 = sizes.iter().sum();
        let held = self.held.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if held <= self.config.memory_budget {
            for (bucket, piece) in pieces {
                self.buckets[bucket]
                    .lock()
                    .map_err(|_| poisoned())?
                    .push((map, Piece::Memory(piece)));
            }
            return Ok(0);
        }
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        if pieces.is_empty() {
            return Ok(0);
        }
        let path = Arc::new(self.spill_path()?);
        write_ipc(&path, pieces.iter().map(|(_, p)| p))?;
        let written = std::fs::metadata(&*path).map(|m| m.len()).unwrap_or(bytes);
        self.spilled.fetch_add(written, Ordering::Relaxed);
        for (batch, (bucket, _)) in pieces.into_iter().enumerate() {
            self.buckets[bucket].lock().map_err(|_| poisoned())?.push((
                map,
                Piece::Spilled {
                    path: path.clone(),
                    batch,
                },
            ));
        }
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
        self.batches(range)?.collect()
    }

    /// The pieces of `read`, handed out one joined frame at a time and read
    /// from disk only when reached, so a reduce task that writes as it reads
    /// holds one frame of its partition, not all of it. Consecutive pieces
    /// are joined into frames of about `COMPACT_BYTES`, small pieces into
    /// one chunk: a consumer gathers from large chunks then, not from a
    /// thousand small ones.
    pub fn batches(&self, range: std::ops::Range<usize>) -> Result<BucketBatches> {
        let mut pieces = Vec::new();
        for bucket in &self.buckets[range] {
            let mut held: Vec<(usize, Piece)> = bucket
                .lock()
                .map_err(|_| poisoned())?
                .iter()
                .cloned()
                .collect();
            held.sort_by_key(|(map, _)| *map);
            pieces.extend(held.into_iter().map(|(_, piece)| piece));
        }
        Ok(BucketBatches {
            pieces: pieces.into_iter(),
        })
    }
}

/// The frames of `ShuffleStore::batches`.
pub struct BucketBatches {
    pieces: std::vec::IntoIter<Piece>,
}

impl BucketBatches {
    fn next_joined(&mut self) -> Result<Option<DataFrame>> {
        let mut joined: Option<DataFrame> = None;
        // Counted piece by piece: sizing the joined frame each time would
        // walk all its chunks again, quadratic in a thousand tiny pieces.
        let mut bytes = 0;
        for piece in self.pieces.by_ref() {
            let piece = match piece {
                Piece::Memory(frame) => frame,
                Piece::Spilled { path, batch } => read_ipc(&path, batch)?,
            };
            bytes += piece.estimated_size();
            joined = Some(match joined {
                Some(mut joined) => {
                    joined.vstack_mut_owned(piece).map_err(from_polars)?;
                    joined
                }
                None => piece,
            });
            if bytes >= COMPACT_BYTES {
                break;
            }
        }
        Ok(joined.map(compacted))
    }
}

impl Iterator for BucketBatches {
    type Item = Result<DataFrame>;

    fn next(&mut self) -> Option<Result<DataFrame>> {
        self.next_joined().transpose()
    }
}

/// Bytes of shuffle pieces joined into one frame when read.
const COMPACT_BYTES: usize = 8 << 20;

/// Chunks a joined frame keeps as they are: a gather across a few large
/// chunks costs about what one across a single chunk does, and copying
/// them into one would touch every value (a write encodes chunk by chunk).
const MAX_JOINED_CHUNKS: usize = 8;

fn compacted(mut frame: DataFrame) -> DataFrame {
    if frame.max_n_chunks() > MAX_JOINED_CHUNKS {
        frame.rechunk_mut();
    }
    frame
}

impl Drop for ShuffleStore {
    fn drop(&mut self) {
        if let Ok(Some(dir)) = self.directory.lock().map(|d| d.clone()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Writes frames of one schema as the batches of one Arrow IPC file,
/// keeping polars' own column types.
fn write_ipc<'f>(path: &Path, frames: impl Iterator<Item = &'f DataFrame>) -> Result<()> {
    let mut writer: Option<FileWriter<BufWriter<File>>> = None;
    let mut schema: Option<Arc<arrow::datatypes::Schema>> = None;
    for frame in frames {
        let arrays = frame
            .columns()
            .iter()
            .map(|column| column_to_arrow(column))
            .collect::<Result<Vec<_>>>()?;
        let schema = schema
            .get_or_insert_with(|| {
                Arc::new(arrow::datatypes::Schema::new(
                    frame
                        .columns()
                        .iter()
                        .zip(&arrays)
                        .map(|(c, a)| {
                            arrow::datatypes::Field::new(
                                c.name().as_str(),
                                a.data_type().clone(),
                                true,
                            )
                        })
                        .collect::<Vec<_>>(),
                ))
            })
            .clone();
        let batch = RecordBatch::try_new_with_options(
            schema.clone(),
            arrays,
            &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(frame.height())),
        )?;
        let writer = match &mut writer {
            Some(writer) => writer,
            None => {
                let file = File::create(path)
                    .map_err(|e| EngineError::io(path.display().to_string(), e))?;
                writer.insert(FileWriter::try_new(BufWriter::new(file), &schema)?)
            }
        };
        writer.write(&batch)?;
    }
    if let Some(mut writer) = writer {
        writer.finish()?;
    }
    Ok(())
}

/// One polars column as an arrow-rs array (through the C data interface).
fn column_to_arrow(column: &Column) -> Result<arrow::array::ArrayRef> {
    let series = column.as_materialized_series().rechunk();
    let exported = series.to_arrow(0, CompatLevel::newest());
    let field =
        polars_arrow::datatypes::Field::new(series.name().clone(), exported.dtype().clone(), true);
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
    Ok(compact_views(arrow::array::make_array(data)))
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

/// Batch `batch` of a spill file.
fn read_ipc(path: &Path, batch: usize) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| EngineError::io(path.display().to_string(), e))?;
    let reader = FileReader::try_new(std::io::BufReader::new(file), None)?;
    // SAFETY: spill files are written by `write_ipc` in this process and
    // read back once; checking every string's UTF-8 again costs as much as
    // reading them.
    let mut reader = unsafe { reader.with_skip_validation(true) };
    reader.set_index(batch)?;
    let schema = reader.schema();
    let batch = reader.next().ok_or_else(|| {
        EngineError::Internal(format!("spill file {} ends early", path.display()))
    })??;
    let columns: Vec<Column> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, a)| series_from_arrow(f.name(), a).map(IntoColumn::into_column))
        .collect::<Result<_>>()?;
    DataFrame::new(batch.num_rows(), columns).map_err(from_polars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{NamedFrom, Series};

    fn frame(map: i64, rows: i64) -> DataFrame {
        let ids: Vec<i64> = (0..rows).map(|i| map * 1000 + i).collect();
        let names: Vec<String> = ids.iter().map(|i| format!("row number {i}")).collect();
        DataFrame::new(
            ids.len(),
            vec![
                Series::new("id".into(), ids).into_column(),
                Series::new("name".into(), names).into_column(),
            ],
        )
        .unwrap()
    }

    fn ids(frames: &[DataFrame]) -> Vec<i64> {
        frames
            .iter()
            .flat_map(|f| {
                f.column("id")
                    .unwrap()
                    .i64()
                    .unwrap()
                    .into_no_null_iter()
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn a_map_output_over_budget_spills_to_one_file_read_back_by_bucket() {
        let directory =
            std::env::temp_dir().join(format!("kiln-spill-unit-{}", std::process::id()));
        let store = ShuffleStore::new(
            4,
            SpillConfig {
                memory_budget: 0,
                directory: directory.clone(),
            },
        );
        // Map 1 pushes before map 0; bucket 2 gets nothing.
        for map in [1, 0] {
            let pieces = vec![
                Some(frame(map, 3)),
                Some(frame(map + 10, 2)),
                None,
                Some(frame(map + 20, 1)),
            ];
            assert!(store.push_split(map as usize, pieces).unwrap() > 0);
        }
        let dir = store.directory.lock().unwrap().clone().unwrap();
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "one file per map output"
        );
        assert_eq!(ids(&store.read(0..1).unwrap()), [0, 1, 2, 1000, 1001, 1002]);
        assert_eq!(
            ids(&store.read(1..2).unwrap()),
            [10000, 10001, 11000, 11001]
        );
        assert!(store.read(2..3).unwrap().is_empty());
        assert_eq!(ids(&store.read(3..4).unwrap()), [20000, 21000]);
        let read = store.read(3..4).unwrap();
        assert_eq!(read.len(), 1, "small pieces are joined into one frame");
        let names = read[0].column("name").unwrap().clone();
        assert_eq!(names.str().unwrap().get(1), Some("row number 21000"));
        drop(store);
        assert!(!dir.exists(), "spill files go with the store");
        let _ = std::fs::remove_dir_all(directory);
    }

    #[test]
    fn batches_hand_out_joined_pieces_and_read_spilled_ones_when_reached() {
        let directory =
            std::env::temp_dir().join(format!("kiln-spill-batches-{}", std::process::id()));
        let store = ShuffleStore::new(
            1,
            SpillConfig {
                memory_budget: 0,
                directory: directory.clone(),
            },
        );
        // Map 0's piece alone is over COMPACT_BYTES; map 1's is small.
        let big = 1_200_000;
        store.push_split(0, vec![Some(frame(0, big))]).unwrap();
        store.push_split(1, vec![Some(frame(1, 3))]).unwrap();
        let dir = store.directory.lock().unwrap().clone().unwrap();
        let mut batches = store.batches(0..1).unwrap();
        assert_eq!(batches.next().unwrap().unwrap().height(), big as usize);
        assert_eq!(ids(&[batches.next().unwrap().unwrap()]), [1000, 1001, 1002]);
        assert!(batches.next().is_none());

        let mut batches = store.batches(0..1).unwrap();
        assert!(batches.next().unwrap().is_ok());
        std::fs::remove_file(dir.join("spill-000001.arrow")).unwrap();
        assert!(
            batches.next().unwrap().is_err(),
            "map 1's piece is read only once the first frame was handed out"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(directory);
    }

    #[test]
    fn a_map_output_within_budget_stays_in_memory() {
        let store = ShuffleStore::new(2, SpillConfig::default());
        assert_eq!(
            store.push_split(0, vec![Some(frame(0, 5)), None]).unwrap(),
            0
        );
        assert_eq!(store.spilled_bytes(), 0);
        assert!(store.directory.lock().unwrap().is_none());
        assert_eq!(ids(&store.read(0..2).unwrap()), [0, 1, 2, 3, 4]);
    }
}
