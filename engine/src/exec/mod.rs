//! Physical execution: operators that produce their output one partition at
//! a time, and the scheduler that runs a stage's tasks (one per partition) on
//! polars' thread pool, so tasks and polars share one thread budget.

pub mod cache;
pub mod combine;
pub mod events;
pub mod exchange;
pub mod generate;
pub mod hash;
pub mod join;
pub mod pipeline;
mod row_counts;
pub mod row_ids;
pub mod sample;
pub mod sort_key;
pub mod source;
pub mod spill;
pub mod window;

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use polars::prelude::DataFrame;
use rayon::prelude::*;

use crate::error::{EngineError, Result};
use crate::plan::PlanSchema;

/// Cancels a job: checked between tasks and between batches inside them.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    pub fn same(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// What a running task can see.
#[derive(Debug, Clone, Default)]
pub struct TaskContext {
    pub cancel: CancelToken,
    /// The job this work belongs to, for events; none in bare unit tests.
    pub job: Option<Arc<events::Job>>,
    /// What the running task's sources read, for its metrics.
    pub input: Option<Arc<TaskInput>>,
}

/// Rows and bytes one task's sources read.
#[derive(Debug, Default)]
pub struct TaskInput {
    rows: AtomicU64,
    bytes: AtomicU64,
}

impl TaskContext {
    /// The context for one task of a stage: the job's, with its own input counters.
    fn for_task(&self) -> TaskContext {
        TaskContext {
            input: Some(Arc::default()),
            ..self.clone()
        }
    }

    /// A source operator's rows, counted for the task and the job's summary.
    pub fn record_rows_read(&self, frame: &DataFrame) {
        if let Some(job) = &self.job {
            job.add_rows_read(frame.height());
        }
        if let Some(input) = &self.input {
            input
                .rows
                .fetch_add(frame.height() as u64, Ordering::Relaxed);
        }
    }

    /// Bytes a source read from storage (compressed, as stored).
    pub fn record_bytes_read(&self, bytes: u64) {
        if let Some(input) = &self.input {
            input.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    fn input_read(&self) -> (u64, u64) {
        self.input.as_ref().map_or((0, 0), |input| {
            (
                input.rows.load(Ordering::Relaxed),
                input.bytes.load(Ordering::Relaxed),
            )
        })
    }
}

/// A partition's rows as a sequence of frames, produced on demand.
pub type Batches<'a> = Box<dyn Iterator<Item = Result<DataFrame>> + Send + 'a>;

/// A physical operator. Partitions are explicit: `execute(i)` computes
/// partition `i` of the output.
pub trait ExecutionPlan: Debug + Send + Sync + std::any::Any {
    fn as_any(&self) -> &dyn std::any::Any;
    fn schema(&self) -> &PlanSchema;
    fn partition_count(&self) -> usize;
    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame>;
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>>;

    /// Partition `i` in batches, so a consumer that works batch by batch
    /// (a shuffle write, a partial aggregate) never holds the whole
    /// partition. Operators that read incrementally override this.
    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        Ok(Box::new(std::iter::once(self.execute(partition, ctx))))
    }

    /// Runs the stages this operator depends on (shuffle map stages), after
    /// which `partition_count` is final (adaptive coalescing applied).
    fn prepare(&self, ctx: &TaskContext) -> Result<()> {
        for child in self.children() {
            child.prepare(ctx)?;
        }
        Ok(())
    }

    /// Bytes this operator and its inputs hold once run (shuffle outputs,
    /// broadcast tables): what keeping the plan for reuse keeps alive.
    fn retained_bytes(&self) -> u64 {
        self.children().iter().map(|c| c.retained_bytes()).sum()
    }
}

/// Partition `i` whole, for an operator whose batches are its primary way
/// of producing rows.
pub fn concat_batches(
    plan: &dyn ExecutionPlan,
    partition: usize,
    ctx: &TaskContext,
) -> Result<DataFrame> {
    let frames = plan
        .execute_batches(partition, ctx)?
        .collect::<Result<Vec<_>>>()?;
    combine::concat_frames(frames, plan.schema())
}

/// Runs `partitions` of `plan` as one stage: tasks in parallel on the
/// shared pool, each result handed to `sink`, events emitted for the stage
/// and every task.
pub fn run_stage<T, F>(
    plan: &Arc<dyn ExecutionPlan>,
    partitions: &[usize],
    ctx: &TaskContext,
    kind: events::StageKind,
    sink: F,
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize, DataFrame) -> Result<(T, events::TaskMetrics)> + Sync,
{
    run_tasks(partitions, ctx, kind, |p, ctx| {
        let frame = plan.execute(p, ctx)?;
        let rows = frame.height() as u64;
        let bytes = frame.estimated_size() as u64;
        let (value, mut metrics) = sink(p, frame)?;
        metrics.rows_out += rows;
        metrics.bytes_out += bytes;
        Ok((value, metrics))
    })
}

/// The scheduler: one task per partition on the shared pool, with stage and
/// task events; `task` computes a partition's value and metrics.
pub(crate) fn run_tasks<T, F>(
    partitions: &[usize],
    ctx: &TaskContext,
    kind: events::StageKind,
    task: F,
) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize, &TaskContext) -> Result<(T, events::TaskMetrics)> + Sync,
{
    let stage = ctx.job.as_ref().map(|job| {
        let stage = job.next_stage();
        job.emit(events::EngineEvent::StageStart {
            job: job.id,
            stage,
            kind,
            tasks: partitions.len(),
        });
        stage
    });
    let totals = std::sync::Mutex::new(events::TaskMetrics::default());
    let results = polars_core::runtime::THREAD_POOL.install(|| {
        partitions
            .par_iter()
            .with_max_len(1)
            .map(|&p| {
                ctx.cancel.check()?;
                let started = std::time::Instant::now();
                let task_ctx = ctx.for_task();
                let (value, mut metrics) = task(p, &task_ctx)?;
                metrics.duration = started.elapsed();
                (metrics.rows_read, metrics.bytes_read) = task_ctx.input_read();
                if let (Some(job), Some(stage)) = (&ctx.job, stage) {
                    if let Ok(mut t) = totals.lock() {
                        t.add(&metrics);
                    }
                    job.emit(events::EngineEvent::TaskEnd {
                        job: job.id,
                        stage,
                        partition: p,
                        metrics,
                    });
                }
                Ok(value)
            })
            .collect::<Result<Vec<T>>>()
    });
    if let (Some(job), Some(stage)) = (&ctx.job, stage) {
        job.emit(events::EngineEvent::StageEnd {
            job: job.id,
            stage,
            metrics: totals.into_inner().unwrap_or_default(),
        });
    }
    results
}

/// Runs every partition as one stage, handing each batch to `sink` as it is
/// produced; a task's metrics are the sum over its batches. The next batch
/// is computed while `sink` takes the current one: each is a fork-join of
/// its own, and overlapping them keeps the threads one of them leaves idle
/// at its end busy with the other (a task reading one gzip file is the
/// only task of its stage).
pub fn stream_partitions_with<F>(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
    kind: events::StageKind,
    sink: F,
) -> Result<()>
where
    F: Fn(usize, DataFrame) -> Result<events::TaskMetrics> + Sync,
{
    consume_partitions(plan, ctx, kind, |p, mut batches| {
        let mut metrics = events::TaskMetrics::default();
        let mut next = batches.next();
        while let Some(batch) = next {
            ctx.cancel.check()?;
            let batch = batch?;
            let (taken, following) = rayon::join(|| sink(p, batch), || batches.next());
            metrics.add(&taken?);
            next = following;
        }
        Ok(metrics)
    })
}

/// Runs every partition, handing each task its partition as a stream of
/// batches to consume (a writer that writes as it reads never holds a
/// whole partition). Rows and bytes out are counted as the batches pass.
pub fn consume_partitions<F>(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
    kind: events::StageKind,
    task: F,
) -> Result<()>
where
    F: Fn(usize, Batches<'_>) -> Result<events::TaskMetrics> + Sync,
{
    plan.prepare(ctx)?;
    let all: Vec<usize> = (0..plan.partition_count()).collect();
    run_tasks(&all, ctx, kind, |p, ctx| {
        let rows = AtomicU64::new(0);
        let bytes = AtomicU64::new(0);
        let counted = plan.execute_batches(p, ctx)?.inspect(|batch| {
            if let Ok(batch) = batch {
                rows.fetch_add(batch.height() as u64, Ordering::Relaxed);
                bytes.fetch_add(batch.estimated_size() as u64, Ordering::Relaxed);
            }
        });
        let mut metrics = task(p, Box::new(counted))?;
        metrics.rows_out += rows.load(Ordering::Relaxed);
        metrics.bytes_out += bytes.load(Ordering::Relaxed);
        Ok(((), metrics))
    })?;
    Ok(())
}

/// Runs the given partitions of `plan` in parallel, returning them in order.
pub fn run_partitions(
    plan: &Arc<dyn ExecutionPlan>,
    partitions: &[usize],
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    run_stage(
        plan,
        partitions,
        ctx,
        events::StageKind::Result,
        |_, frame| Ok((frame, events::TaskMetrics::default())),
    )
}

/// Runs every partition, handing each result to `sink` as it completes.
pub fn collect_partitions_with<F>(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
    kind: events::StageKind,
    sink: F,
) -> Result<()>
where
    F: Fn(usize, DataFrame) -> Result<events::TaskMetrics> + Sync,
{
    plan.prepare(ctx)?;
    let all: Vec<usize> = (0..plan.partition_count()).collect();
    run_stage(plan, &all, ctx, kind, |p, frame| Ok(((), sink(p, frame)?)))?;
    Ok(())
}

/// Runs every partition.
pub fn collect_partitions(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    collect_stage(plan, ctx, events::StageKind::Result)
}

/// Computes every partition of a broadcast join's build side as a stage of
/// its own kind.
pub fn collect_broadcast(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    collect_stage(plan, ctx, events::StageKind::Broadcast)
}

fn collect_stage(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
    kind: events::StageKind,
) -> Result<Vec<DataFrame>> {
    plan.prepare(ctx)?;
    let all: Vec<usize> = (0..plan.partition_count()).collect();
    run_stage(plan, &all, ctx, kind, |_, frame| {
        Ok((frame, events::TaskMetrics::default()))
    })
}

/// Runs partitions in growing waves until `n` rows are found (Spark's
/// `take`: one partition first, then four times as many each round), each
/// task pulling batches only until it has `n` rows, so a `show()` reads
/// only what it prints.
pub fn take_rows(
    plan: &Arc<dyn ExecutionPlan>,
    n: usize,
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    plan.prepare(ctx)?;
    let total = plan.partition_count();
    let mut out = Vec::new();
    let mut rows = 0;
    let mut next = 0;
    let mut wave = 1;
    while rows < n && next < total {
        let end = (next + wave).min(total);
        let indices: Vec<usize> = (next..end).collect();
        let frames = run_tasks(&indices, ctx, events::StageKind::Result, |p, ctx| {
            let frames = first_batches(plan.execute_batches(p, ctx)?, n, ctx)?;
            let frame = combine::concat_frames(frames, plan.schema())?;
            let metrics = events::TaskMetrics {
                rows_out: frame.height() as u64,
                bytes_out: frame.estimated_size() as u64,
                ..events::TaskMetrics::default()
            };
            Ok((frame, metrics))
        })?;
        for frame in frames {
            rows += frame.height();
            out.push(frame);
        }
        next = end;
        wave *= 4;
    }
    Ok(out)
}

/// The batches of a partition until they hold `n` rows; the rest are never
/// produced, as Spark's iterators stop.
pub fn first_batches(batches: Batches<'_>, n: usize, ctx: &TaskContext) -> Result<Vec<DataFrame>> {
    let mut frames = Vec::new();
    let mut rows = 0;
    for batch in batches {
        ctx.cancel.check()?;
        let batch = batch?;
        rows += batch.height();
        frames.push(batch);
        if rows >= n {
            break;
        }
    }
    Ok(frames)
}

/// Polars errors raised by Kiln's own checks carry `[CLASS] message`.
pub fn from_polars(error: polars::error::PolarsError) -> EngineError {
    let text = error.to_string();
    if let Some(at) = text.find(crate::error::ILLEGAL_ARGUMENT) {
        return EngineError::IllegalArgument(
            text[at + crate::error::ILLEGAL_ARGUMENT.len()..].to_string(),
        );
    }
    if let Some(start) = text.find('[') {
        if let Some(end) = text[start..].find(']') {
            let class = &text[start + 1..start + end];
            if !class.is_empty()
                && class
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c == '.')
            {
                let message = text[start + end + 1..].trim().to_string();
                let class: &'static str = Box::leak(class.to_string().into_boxed_str());
                return EngineError::spark(class, message);
            }
        }
    }
    EngineError::Polars(error)
}
