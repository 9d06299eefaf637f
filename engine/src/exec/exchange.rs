//! The shuffle: a stage boundary. On first use it runs every input
//! partition (the map stage), splits each task's rows into buckets by the
//! partitioning, and then serves reduce partitions from those buckets,
//! adaptively merging small neighbouring buckets as Spark's AQE does.

use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::{Column, DataFrame, IdxCa, IdxSize, IntoLazy, PlSmallStr, SchemaRef};
use rayon::prelude::*;

use crate::error::{EngineError, Result};
use crate::exec::events::{StageKind, TaskMetrics};
use crate::exec::hash::{byteswap32, java_random_next_int, partition_ids};
use crate::exec::spill::{ShuffleStore, SpillConfig};
use crate::exec::{from_polars, stream_partitions_with, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

/// How an exchange assigns rows to output partitions.
#[derive(Debug, Clone)]
pub enum ExchangePartitioning {
    /// `pmod(murmur3(keys), n)`; keys are evaluated on the input.
    Hash(Vec<polars::prelude::Expr>, usize),
    RoundRobin(usize),
    /// Global sort: rows split by key ranges sampled from the input, so
    /// partition i holds keys before partition i+1's.
    Range {
        keys: Vec<polars::prelude::Expr>,
        descending: Vec<bool>,
        nulls_last: Vec<bool>,
        partitions: usize,
    },
    Single,
}

impl ExchangePartitioning {
    pub fn count(&self) -> usize {
        match self {
            ExchangePartitioning::Hash(_, n) | ExchangePartitioning::RoundRobin(n) => *n,
            ExchangePartitioning::Range { partitions, .. } => *partitions,
            ExchangePartitioning::Single => 1,
        }
    }
}

/// When AQE may merge buckets and to what size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coalescing {
    pub advisory_size: i64,
    pub min_size: i64,
    pub parallelism: usize,
}

#[derive(Debug)]
struct ShuffleOutput {
    /// Bucket → the pieces map tasks wrote to it.
    store: ShuffleStore,
    /// Reduce partition → the contiguous buckets it reads.
    groups: Vec<std::ops::Range<usize>>,
}

#[derive(Debug)]
pub struct ShuffleExchangeExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub partitioning: ExchangePartitioning,
    /// `None`: the partition count is fixed (explicit `repartition(n)`).
    pub coalescing: Option<Coalescing>,
    output: OnceLock<ShuffleOutput>,
    materialize: Mutex<()>,
    spill: SpillConfig,
    /// For a range exchange: the input reduced to the sort keys' columns,
    /// read first for the key sample so the input itself can be streamed.
    key_sample: Option<Arc<dyn ExecutionPlan>>,
}

impl ShuffleExchangeExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        partitioning: ExchangePartitioning,
        coalescing: Option<Coalescing>,
    ) -> Self {
        ShuffleExchangeExec {
            input,
            partitioning,
            coalescing,
            output: OnceLock::new(),
            materialize: Mutex::new(()),
            spill: SpillConfig::default(),
            key_sample: None,
        }
    }

    /// A range exchange that samples its key ranges from `sample` (the
    /// input's key columns) instead of computing its whole input first.
    pub fn with_key_sample(mut self, sample: Arc<dyn ExecutionPlan>) -> Self {
        self.key_sample = Some(sample);
        self
    }

    /// Where and when this exchange spills its buckets.
    pub fn with_spill(mut self, spill: SpillConfig) -> Self {
        self.spill = spill;
        self
    }

    /// Cuts a batch of map partition `map_partition` into buckets; `offset`
    /// is how many of that partition's rows earlier batches held.
    fn split(
        &self,
        frame: DataFrame,
        map_partition: usize,
        offset: usize,
        bounds: &[Vec<u8>],
    ) -> Result<Vec<Option<DataFrame>>> {
        let n = self.partitioning.count();
        let rows = frame.height();
        let ids: Vec<u32> = match &self.partitioning {
            ExchangePartitioning::Single => return Ok(vec![Some(frame)]),
            ExchangePartitioning::Range { .. } => {
                crate::exec::sort_key::range_ids(&self.sort_keys(&frame)?, bounds)
            }
            ExchangePartitioning::Hash(keys, _) => {
                let key_frame = frame
                    .clone()
                    .lazy()
                    .select(keys.clone())
                    .collect()
                    .map_err(from_polars)?;
                let columns: Vec<Column> = key_frame.columns().to_vec();
                partition_ids(&columns, rows, n)?
            }
            ExchangePartitioning::RoundRobin(_) => {
                let start = java_random_next_int(byteswap32(map_partition as i32) as i64, n as i32);
                (0..rows)
                    .map(|i| ((start as usize + 1 + offset + i) % n) as u32)
                    .collect()
            }
        };
        scatter(frame, &ids, n)
    }

    /// Byte-comparable encodings of each row's sort key.
    fn sort_keys(&self, frame: &DataFrame) -> Result<polars::prelude::BinaryOffsetChunked> {
        let ExchangePartitioning::Range {
            keys,
            descending,
            nulls_last,
            ..
        } = &self.partitioning
        else {
            return Err(EngineError::Internal(
                "sort keys of a non-range exchange".into(),
            ));
        };
        crate::exec::sort_key::encode(frame, keys, descending, nulls_last)
    }

    /// Keys sampled from each batch of an input with `batches` partitions:
    /// Spark's `RangePartitioner` takes about 60 keys per output partition
    /// spread over the input, each weighted by the rows it stands for.
    fn sample_keys(&self, frame: &DataFrame, batches: usize) -> Result<Vec<(Vec<u8>, f64)>> {
        let rows = frame.height();
        if rows == 0 {
            return Ok(Vec::new());
        }
        let sample_size = (20 * self.partitioning.count()).min(1_000_000);
        let per_batch = (3 * sample_size).div_ceil(batches.max(1)).max(1);
        let take = per_batch.min(rows);
        let weight = rows as f64 / take as f64;
        // Only the sampled rows are encoded: a batch holds far more rows
        // than keys are taken from it.
        let picked: Vec<IdxSize> = (0..take).map(|i| (i * rows / take) as IdxSize).collect();
        let sampled = frame
            .take(&IdxCa::from_vec(PlSmallStr::EMPTY, picked))
            .map_err(from_polars)?;
        let encoded = self.sort_keys(&sampled)?;
        Ok(encoded
            .iter()
            .flatten()
            .map(|key| (key.to_vec(), weight))
            .collect())
    }

    /// The sampled keys cut into `partitions` ranges of equal weight.
    fn range_bounds(&self, mut candidates: Vec<(Vec<u8>, f64)>) -> Vec<Vec<u8>> {
        let n = self.partitioning.count();
        if n <= 1 || candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0));
        let total: f64 = candidates.iter().map(|(_, w)| w).sum();
        let step = total / n as f64;
        let mut bounds: Vec<Vec<u8>> = Vec::new();
        let mut cumulative = 0.0;
        let mut target = step;
        for (key, weight) in candidates {
            cumulative += weight;
            if cumulative >= target
                && bounds.len() < n - 1
                && bounds.last().is_none_or(|last| key > *last)
            {
                bounds.push(key);
                target += step;
            }
        }
        bounds
    }

    /// Key ranges from the key sample plan, read as a stage of its own.
    fn sampled_bounds(
        &self,
        sample: &Arc<dyn ExecutionPlan>,
        ctx: &TaskContext,
    ) -> Result<Vec<Vec<u8>>> {
        let batches = sample.partition_count();
        let candidates = Mutex::new(Vec::new());
        crate::exec::collect_partitions_with(sample, ctx, StageKind::Result, |_, frame| {
            let keys = self.sample_keys(&frame, batches)?;
            candidates
                .lock()
                .map_err(|_| EngineError::Internal("key sample lock poisoned".into()))?
                .extend(keys);
            Ok(TaskMetrics::default())
        })?;
        let candidates = candidates
            .into_inner()
            .map_err(|_| EngineError::Internal("key sample lock poisoned".into()))?;
        Ok(self.range_bounds(candidates))
    }

    fn run_map_stage(&self, ctx: &TaskContext) -> Result<ShuffleOutput> {
        let n = self.partitioning.count();
        let store = ShuffleStore::new(n, self.spill.clone());
        let bounds = match (&self.partitioning, &self.key_sample) {
            (ExchangePartitioning::Range { .. }, Some(sample)) => {
                self.sampled_bounds(sample, ctx)?
            }
            (ExchangePartitioning::Range { .. }, None) => {
                return self.split_whole_input(store, ctx)
            }
            _ => Vec::new(),
        };
        self.map_tasks(ctx, &bounds, |partition, columns, pieces| {
            store.note_columns(columns);
            store.push_split(partition, pieces)
        })?;
        Ok(self.finish_map_stage(store))
    }

    /// The map stage's tasks: every batch of the input cut into buckets and
    /// its pieces handed to `take` with the batch's columns; `take` returns
    /// the bytes it spilled.
    fn map_tasks<F>(&self, ctx: &TaskContext, bounds: &[Vec<u8>], take: F) -> Result<()>
    where
        F: Fn(usize, &SchemaRef, Vec<Option<DataFrame>>) -> Result<u64> + Sync,
    {
        // Rows each map partition has split so far: round-robin continues
        // from one batch to the next.
        let offsets = Mutex::new(std::collections::HashMap::<usize, usize>::new());
        stream_partitions_with(
            &self.input,
            ctx,
            StageKind::ShuffleMap,
            |partition, frame| {
                let rows = frame.height();
                let offset = {
                    let mut offsets = offsets
                        .lock()
                        .map_err(|_| EngineError::Internal("shuffle offsets poisoned".into()))?;
                    let seen = offsets.entry(partition).or_insert(0);
                    *seen += rows;
                    *seen - rows
                };
                let columns = frame.schema().clone();
                let pieces = self.split(frame, partition, offset, bounds)?;
                let written = pieces
                    .iter()
                    .flatten()
                    .map(|p| p.estimated_size() as u64)
                    .sum();
                let spilled = take(partition, &columns, pieces)?;
                Ok(TaskMetrics {
                    shuffle_write_bytes: written,
                    spill_bytes: spilled,
                    ..Default::default()
                })
            },
        )
    }

    /// Whether `stream_buckets` can run: one map task cuts every bucket's
    /// rows in the order a reduce task would read them, and the number of
    /// buckets is fixed (no adaptive merging waits for the whole map stage).
    pub fn can_stream_buckets(&self) -> bool {
        self.coalescing.is_none()
            && self.input.partition_count() == 1
            && self.output.get().is_none()
            && !matches!(
                (&self.partitioning, &self.key_sample),
                (ExchangePartitioning::Range { .. }, None)
            )
    }

    /// Runs the map stage handing each piece to `deliver(bucket, piece)` as
    /// it is cut, instead of keeping the buckets for reduce tasks: a
    /// consumer that writes a bucket's rows works while the input is still
    /// being read. A batch's pieces are delivered in parallel; a bucket's
    /// pieces arrive in order. Only when `can_stream_buckets`.
    pub fn stream_buckets<F>(&self, ctx: &TaskContext, deliver: F) -> Result<()>
    where
        F: Fn(usize, DataFrame) -> Result<()> + Sync,
    {
        if !self.can_stream_buckets() {
            return Err(EngineError::Internal(
                "buckets streamed from an exchange that must store them".into(),
            ));
        }
        let bounds = match &self.key_sample {
            Some(sample) => self.sampled_bounds(sample, ctx)?,
            None => Vec::new(),
        };
        self.map_tasks(ctx, &bounds, |_, _, pieces| {
            polars_core::runtime::THREAD_POOL.install(|| {
                pieces
                    .into_par_iter()
                    .enumerate()
                    .with_max_len(1)
                    .filter_map(|(bucket, piece)| piece.map(|p| (bucket, p)))
                    .try_for_each(|(bucket, piece)| deliver(bucket, piece))
            })?;
            Ok(0)
        })
    }

    /// A range exchange without a key sample plan: the input is computed
    /// whole, sampled, then split.
    fn split_whole_input(&self, store: ShuffleStore, ctx: &TaskContext) -> Result<ShuffleOutput> {
        let frames = crate::exec::collect_partitions(&self.input, ctx)?;
        let mut candidates = Vec::new();
        for frame in &frames {
            candidates.extend(self.sample_keys(frame, frames.len())?);
        }
        let bounds = self.range_bounds(candidates);
        polars_core::runtime::THREAD_POOL.install(|| {
            frames
                .into_par_iter()
                .enumerate()
                .with_max_len(1)
                .try_for_each(|(partition, frame)| {
                    ctx.cancel.check()?;
                    store.note_columns(frame.schema());
                    store.push_split(partition, self.split(frame, partition, 0, &bounds)?)?;
                    Ok::<(), EngineError>(())
                })
        })?;
        Ok(self.finish_map_stage(store))
    }

    fn finish_map_stage(&self, store: ShuffleStore) -> ShuffleOutput {
        let n = self.partitioning.count();
        let groups = match self.coalescing {
            Some(c) => coalesce_ranges(&store.sizes(), c),
            None => (0..n).map(|i| i..i + 1).collect(),
        };
        ShuffleOutput { store, groups }
    }

    /// Runs the map stage once; later calls reuse its output.
    fn output(&self, ctx: &TaskContext) -> Result<&ShuffleOutput> {
        if self.output.get().is_none() {
            let _guard = self
                .materialize
                .lock()
                .map_err(|_| EngineError::Internal("shuffle lock poisoned".into()))?;
            if self.output.get().is_none() {
                // A cancelled or failed stage is not cached: it can run again.
                let out = self.run_map_stage(ctx)?;
                let _ = self.output.set(out);
            }
        }
        self.output
            .get()
            .ok_or_else(|| EngineError::Internal("shuffle output missing".into()))
    }
}

/// Cuts `frame` into `n` buckets by each row's bucket id, rows keeping
/// their order within a bucket. One gather groups the rows by bucket and
/// each bucket is a slice of it, so every column is gathered once however
/// many buckets there are (a gather per bucket costs a pass per bucket).
fn scatter(frame: DataFrame, ids: &[u32], n: usize) -> Result<Vec<Option<DataFrame>>> {
    if ids.is_empty() {
        return Ok(vec![None; n]);
    }
    let mut starts = vec![0usize; n + 1];
    for &id in ids {
        starts[id as usize + 1] += 1;
    }
    if let Some(only) = (0..n).find(|&b| starts[b + 1] == ids.len()) {
        let mut pieces = vec![None; n];
        pieces[only] = Some(frame);
        return Ok(pieces);
    }
    for b in 0..n {
        starts[b + 1] += starts[b];
    }
    let mut next = starts.clone();
    let mut order = vec![0 as IdxSize; ids.len()];
    for (row, &id) in ids.iter().enumerate() {
        let slot = &mut next[id as usize];
        order[*slot] = row as IdxSize;
        *slot += 1;
    }
    // A gather from many chunks resolves each row's chunk first, several
    // times slower than one copy into a single chunk and a plain gather.
    // Column by column, each source column freed once gathered, so the
    // split holds one copy of the frame plus the columns in flight.
    let height = frame.height();
    let order = IdxCa::from_vec("idx".into(), order);
    let columns = polars_core::runtime::THREAD_POOL.install(|| {
        frame
            .into_columns()
            .into_par_iter()
            .with_max_len(1)
            .map(|column| column.rechunk().take(&order))
            .collect::<polars::prelude::PolarsResult<Vec<Column>>>()
    });
    let grouped = DataFrame::new(height, columns.map_err(from_polars)?).map_err(from_polars)?;
    Ok((0..n)
        .map(|b| {
            let len = starts[b + 1] - starts[b];
            (len > 0).then(|| grouped.slice(starts[b] as i64, len))
        })
        .collect())
}

/// Spark's `coalescePartitions`: contiguous buckets packed up to the target
/// size `max(minSize, min(advisory, ceil(total / parallelism)))`.
pub fn coalesce_ranges(sizes: &[i64], c: Coalescing) -> Vec<std::ops::Range<usize>> {
    let total: i64 = sizes.iter().sum();
    let per_core = (total + c.parallelism as i64 - 1) / c.parallelism.max(1) as i64;
    let target = c.min_size.max(c.advisory_size.min(per_core));
    let mut groups = Vec::new();
    let mut start = 0;
    let mut current = 0i64;
    for (i, size) in sizes.iter().enumerate() {
        if i > start && current + size > target {
            groups.push(start..i);
            start = i;
            current = 0;
        }
        current += size;
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    if groups.is_empty() {
        groups.push(0..0);
    }
    groups
}

impl ShuffleExchangeExec {
    /// Bytes in each bucket, after the map stage ran.
    pub fn bucket_sizes(&self) -> Result<Vec<i64>> {
        let out = self
            .output
            .get()
            .ok_or_else(|| EngineError::Internal("shuffle read before its map stage ran".into()))?;
        Ok(out.store.sizes())
    }

    /// The rows of a contiguous range of buckets (for joins that coalesce both sides together).
    pub fn read_buckets(
        &self,
        range: std::ops::Range<usize>,
        ctx: &TaskContext,
    ) -> Result<DataFrame> {
        let out = self.output(ctx)?;
        out.store.read_frame(range, self.input.schema())
    }
}

impl ExecutionPlan for ShuffleExchangeExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        match (self.coalescing, self.output.get()) {
            (Some(_), Some(out)) => out.groups.len(),
            _ => self.partitioning.count(),
        }
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let out = self.output(ctx)?;
        let range = out.groups.get(partition).cloned().unwrap_or(0..0);
        out.store.read_frame(range, self.input.schema())
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<crate::exec::Batches<'a>> {
        let out = self.output(ctx)?;
        let range = out.groups.get(partition).cloned().unwrap_or(0..0);
        let mut batches = out.store.batches(range.clone())?.peekable();
        if batches.peek().is_none() {
            return Ok(Box::new(std::iter::once(
                out.store.read_frame(range, self.input.schema()),
            )));
        }
        Ok(Box::new(batches))
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn prepare(&self, ctx: &TaskContext) -> Result<()> {
        self.input.prepare(ctx)?;
        self.output(ctx).map(|_| ())
    }

    fn retained_bytes(&self) -> u64 {
        let own: i64 = self
            .output
            .get()
            .map_or(0, |out| out.store.sizes().iter().sum());
        own.max(0) as u64 + self.input.retained_bytes()
    }
}
