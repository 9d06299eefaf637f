//! Physical execution: operators that produce their output one partition at
//! a time, and the scheduler that runs a stage's tasks (one per partition) on
//! polars' thread pool, so tasks and polars share one thread budget.

pub mod combine;
pub mod exchange;
pub mod hash;
pub mod join;
pub mod pipeline;
pub mod source;

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
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
}

/// A physical operator. Partitions are explicit: `execute(i)` computes
/// partition `i` of the output.
pub trait ExecutionPlan: Debug + Send + Sync + std::any::Any {
    fn as_any(&self) -> &dyn std::any::Any;
    fn schema(&self) -> &PlanSchema;
    fn partition_count(&self) -> usize;
    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame>;
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>>;

    /// Runs the stages this operator depends on (shuffle map stages), after
    /// which `partition_count` is final (adaptive coalescing applied).
    fn prepare(&self, ctx: &TaskContext) -> Result<()> {
        for child in self.children() {
            child.prepare(ctx)?;
        }
        Ok(())
    }
}

/// Runs the given partitions of `plan` in parallel, returning them in order.
pub fn run_partitions(
    plan: &Arc<dyn ExecutionPlan>,
    partitions: &[usize],
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    polars_core::runtime::THREAD_POOL.install(|| {
        partitions
            .par_iter()
            .with_max_len(1)
            .map(|&p| {
                ctx.cancel.check()?;
                plan.execute(p, ctx)
            })
            .collect()
    })
}

/// Runs every partition, handing each result to `sink` as it completes.
pub fn collect_partitions_with<F>(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
    sink: F,
) -> Result<()>
where
    F: Fn(usize, DataFrame) -> Result<()> + Sync,
{
    plan.prepare(ctx)?;
    let count = plan.partition_count();
    polars_core::runtime::THREAD_POOL.install(|| {
        (0..count)
            .into_par_iter()
            .with_max_len(1)
            .try_for_each(|p| {
                ctx.cancel.check()?;
                let frame = plan.execute(p, ctx)?;
                sink(p, frame)
            })
    })
}

/// Runs every partition.
pub fn collect_partitions(
    plan: &Arc<dyn ExecutionPlan>,
    ctx: &TaskContext,
) -> Result<Vec<DataFrame>> {
    plan.prepare(ctx)?;
    let all: Vec<usize> = (0..plan.partition_count()).collect();
    run_partitions(plan, &all, ctx)
}

/// Runs partitions in growing waves until `n` rows are found (Spark's
/// `take`: one partition first, then four times as many each round), so a
/// `show()` reads only what it prints.
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
        for frame in run_partitions(plan, &indices, ctx)? {
            rows += frame.height();
            out.push(frame);
        }
        next = end;
        wave *= 4;
    }
    Ok(out)
}

/// Polars errors raised by Kiln's own checks carry `[CLASS] message`.
pub fn from_polars(error: polars::error::PolarsError) -> EngineError {
    let text = error.to_string();
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
