//! Narrow operators fused per partition: projections, filters and local
//! limits run as one polars lazy query over the input partition.

use std::sync::Arc;

use polars::prelude::{self as pl, DataFrame, IntoLazy};

use crate::error::Result;
use crate::exec::combine::{concat_frames, empty_frame, UnionExec};
use crate::exec::row_counts::NullFree;
use crate::exec::{first_batches, from_polars, Batches, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

#[derive(Debug, Clone)]
pub enum Step {
    /// Output columns, each aliased to its physical name.
    Select(Vec<pl::Expr>),
    /// Columns added to the input (a constant fills every row, where a
    /// `Select` of constants alone yields one row).
    WithColumns(Vec<pl::Expr>),
    Filter(pl::Expr),
    /// At most n rows of this partition.
    Limit(usize),
    /// Group by the keys (or the whole partition when there are none) and aggregate.
    Aggregate {
        keys: Vec<pl::Expr>,
        aggregates: Vec<pl::Expr>,
    },
    /// The map side of a two-phase aggregate: `partial` states per group of
    /// `keys`, computed batch by batch; states of the same group are
    /// combined by `merge`, grouped by the key columns `merge_keys`.
    PartialAggregate {
        keys: Vec<pl::Expr>,
        partial: Vec<pl::Expr>,
        merge_keys: Vec<pl::Expr>,
        merge: Vec<pl::Expr>,
    },
    /// Sort this partition.
    Sort {
        by: Vec<pl::Expr>,
        descending: Vec<bool>,
        nulls_last: Vec<bool>,
    },
}

#[derive(Debug)]
pub struct PipelineExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub steps: Vec<Step>,
    pub schema: PlanSchema,
}

impl PipelineExec {
    /// Adds a step, fusing it into the input when that is a pipeline already.
    pub fn then(
        input: Arc<dyn ExecutionPlan>,
        step: Step,
        schema: PlanSchema,
    ) -> Arc<dyn ExecutionPlan> {
        if let Some(union) = input.as_any().downcast_ref::<UnionExec>() {
            if is_row_wise(&step) || matches!(step, Step::PartialAggregate { .. }) {
                return Arc::new(union.within_branches(step, schema));
            }
        }
        if let Some(pipeline) = input.as_any().downcast_ref::<PipelineExec>() {
            let mut steps = pipeline.steps.clone();
            steps.push(step);
            return Arc::new(PipelineExec {
                input: pipeline.input.clone(),
                steps,
                schema,
            });
        }
        Arc::new(PipelineExec {
            input,
            steps: vec![step],
            schema,
        })
    }
}

impl ExecutionPlan for PipelineExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.input.partition_count()
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        if let Some((Step::Limit(n), rest)) = self.steps.split_last() {
            if rest.iter().all(is_row_wise) {
                return self.first_rows(partition, rest, *n, ctx);
            }
        }
        if self.batchable() {
            let frames = self
                .execute_batches(partition, ctx)?
                .collect::<Result<Vec<_>>>()?;
            return concat_frames(frames, &self.schema);
        }
        let input = self.input.execute(partition, ctx)?;
        ctx.cancel.check()?;
        run_steps(input, &self.steps)
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        if let Some(at) = self.sort_between_row_wise_steps() {
            return self.sorted_batches(partition, at, ctx);
        }
        if !self.batchable() {
            return Ok(Box::new(std::iter::once(self.execute(partition, ctx))));
        }
        let input = self.input.execute_batches(partition, ctx)?;
        match self.steps.last() {
            Some(Step::PartialAggregate {
                merge_keys, merge, ..
            }) => Ok(Box::new(std::iter::once(
                self.fold_partials(input, merge_keys, merge, ctx),
            ))),
            _ => Ok(Box::new(input.map(move |batch| {
                ctx.cancel.check()?;
                run_steps(batch?, &self.steps)
            }))),
        }
    }
}

impl UnionExec {
    /// The union with `step` run in each branch, where it sees the branch's
    /// own steps (a union's partitions are its branches' partitions, so a
    /// step that works partition by partition gives the same rows there).
    fn within_branches(&self, step: Step, schema: PlanSchema) -> UnionExec {
        let inputs = self
            .inputs
            .iter()
            .map(|branch| {
                let renamed = self.renamed_branch(branch);
                PipelineExec::then(renamed, step.clone(), schema.clone())
            })
            .collect();
        UnionExec {
            inputs,
            schema,
            named_alike: true,
        }
    }

    /// A branch with its columns under the union's names.
    fn renamed_branch(&self, branch: &Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        let names = branch.schema().attrs.iter().map(|a| a.physical.as_str());
        if names.eq(self.schema.attrs.iter().map(|a| a.physical.as_str())) {
            return branch.clone();
        }
        let renames = branch
            .schema()
            .attrs
            .iter()
            .zip(&self.schema.attrs)
            .map(|(from, to)| pl::col(from.physical.as_str()).alias(to.physical.as_str()))
            .collect();
        PipelineExec::then(branch.clone(), Step::Select(renames), self.schema.clone())
    }
}

fn is_row_wise(step: &Step) -> bool {
    matches!(
        step,
        Step::Select(_) | Step::WithColumns(_) | Step::Filter(_)
    )
}

impl PipelineExec {
    /// Whether the steps can run batch by batch: row-wise steps, optionally
    /// ending in a partial aggregate.
    fn batchable(&self) -> bool {
        let (last, rest) = match self.steps.split_last() {
            Some(split) => split,
            None => return true,
        };
        rest.iter().all(is_row_wise)
            && (is_row_wise(last) || matches!(last, Step::PartialAggregate { .. }))
    }

    /// Where the steps hold one sort with only row-wise steps around it.
    fn sort_between_row_wise_steps(&self) -> Option<usize> {
        let at = self
            .steps
            .iter()
            .position(|s| matches!(s, Step::Sort { .. }))?;
        let (before, rest) = self.steps.split_at(at);
        (before.iter().all(is_row_wise) && rest[1..].iter().all(is_row_wise)).then_some(at)
    }

    /// The partition sorted, handed out in batches gathered one at a time
    /// from the sort order, so a consumer that writes as it reads holds the
    /// partition once (as Spark's sorter hands out rows from its sorted
    /// pointer array) rather than unsorted and sorted side by side.
    fn sorted_batches<'a>(
        &'a self,
        partition: usize,
        at: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        let (before, rest) = self.steps.split_at(at);
        let (
            Some(Step::Sort {
                by,
                descending,
                nulls_last,
            }),
            after,
        ) = (rest.first(), &rest[1..])
        else {
            return Err(crate::error::EngineError::Internal(
                "a sorted stream without a sort".into(),
            ));
        };
        let mut frames = Vec::new();
        for batch in self.input.execute_batches(partition, ctx)? {
            ctx.cancel.check()?;
            let batch = batch?;
            frames.push(if before.is_empty() {
                batch
            } else {
                run_steps(batch, before)?
            });
        }
        if frames.iter().all(|f| f.height() == 0) {
            let empty = run_steps(empty_frame(self.input.schema())?, &self.steps);
            return Ok(Box::new(std::iter::once(empty)));
        }
        let frame = concat_frames(frames, self.input.schema())?;
        let order = sort_order(&frame, by, descending, nulls_last)?;
        let height = frame.height();
        Ok(Box::new((0..height).step_by(SORTED_BATCH_ROWS).map(
            move |offset| {
                ctx.cancel.check()?;
                let rows = order.slice(offset as i64, SORTED_BATCH_ROWS);
                let batch = frame.take(&rows).map_err(from_polars)?;
                if after.is_empty() {
                    Ok(batch)
                } else {
                    run_steps(batch, after)
                }
            },
        )))
    }

    /// A local limit over row-wise steps: the input is read batch by batch
    /// only until `n` rows came through, so `show()` over a large file
    /// decodes a batch, not the partition.
    fn first_rows(
        &self,
        partition: usize,
        steps: &[Step],
        n: usize,
        ctx: &TaskContext,
    ) -> Result<DataFrame> {
        let stepped = self
            .input
            .execute_batches(partition, ctx)?
            .map(|batch| run_steps(batch?, steps));
        let frames = first_batches(Box::new(stepped), n, ctx)?;
        Ok(concat_frames(frames, &self.schema)?.slice(0, n))
    }

    /// Partial aggregation over a stream of batches: batches gathered into
    /// frames, each aggregated on its own. The states are left unmerged
    /// (the final aggregation after the exchange merges them anyway) until
    /// they hold more than `STATE_BYTES`: merging a state of many small
    /// groups costs about as much as aggregating the rows did, for little
    /// shrinkage. Where aggregating shrinks a frame little, the frames grow
    /// up to `MAX_FRAME_BYTES`, as one streaming aggregation of a large frame
    /// costs less than several small ones; where it shrinks a frame a lot,
    /// small frames hold less memory for the same work.
    fn fold_partials(
        &self,
        mut input: Batches<'_>,
        merge_keys: &[pl::Expr],
        merge: &[pl::Expr],
        ctx: &TaskContext,
    ) -> Result<DataFrame> {
        const STATE_BYTES: usize = 32 << 20;
        const MAX_FRAME_BYTES: usize = 64 << 20;
        const POOR_REDUCTION: usize = 16;
        let merge_states = |states: Vec<DataFrame>| -> Result<DataFrame> {
            let all = concat_frames(states, &self.schema)?;
            let streaming = all.height() >= STREAMING_ROWS;
            let all = chunk_sources(all)?;
            let merged = if merge_keys.is_empty() {
                all.select(merge)
            } else {
                all.group_by(merge_keys).agg(merge)
            };
            if streaming {
                collect_streaming(merged)
            } else {
                merged.collect().map_err(from_polars)
            }
        };
        let mut states: Vec<DataFrame> = Vec::new();
        let mut held = 0;
        let mut bound = STATE_BYTES;
        let mut frame_rows = STREAMING_ROWS;
        while let Some(frame) = gather(&mut input, frame_rows, self.input.schema()) {
            ctx.cancel.check()?;
            let frame = frame?;
            let rows = frame.height();
            // Sizing a frame reads every string's length: only when it may grow.
            let input = (rows >= frame_rows).then(|| frame.clone());
            let state = run_steps(frame, &self.steps)?;
            if input.is_some_and(|input| {
                state.height() * POOR_REDUCTION > rows
                    && input.estimated_size() * 2 <= MAX_FRAME_BYTES
            }) {
                frame_rows *= 2;
            }
            held += state.estimated_size();
            states.push(state);
            if held > bound && states.len() > 1 {
                let merged = merge_states(std::mem::take(&mut states))?;
                held = merged.estimated_size();
                // Groups that do not shrink under merging raise the bound, so
                // merging stays linear in the input.
                bound = bound.max(2 * held);
                states.push(merged);
            }
        }
        if states.is_empty() {
            return run_steps(empty_frame(self.input.schema())?, &self.steps);
        }
        concat_frames(states, &self.schema)
    }
}

/// Rows a sorted partition hands out at a time.
const SORTED_BATCH_ROWS: usize = 64 * 1024;

/// The rows of `frame` in sorted order (a stable sort).
fn sort_order(
    frame: &DataFrame,
    by: &[pl::Expr],
    descending: &[bool],
    nulls_last: &[bool],
) -> Result<pl::IdxCa> {
    let keys = crate::exec::sort_key::encode(frame, by, descending, nulls_last)?;
    Ok(crate::exec::sort_key::sort_order(keys))
}

/// Rows without columns (the input of a `SELECT` without `FROM`) keep their
/// count through a polars query only with a column to carry it: this one,
/// dropped from every result.
const ROW_CARRIER: &str = "__kiln_rows";

/// Below this many rows polars' in-memory engine aggregates sooner than its
/// streaming engine.
const STREAMING_ROWS: usize = 512 * 1024;

/// The next batches joined (without copying their columns) into a frame of
/// at least `rows` rows, or fewer at the end of the input.
fn gather(
    batches: &mut Batches<'_>,
    rows: usize,
    schema: &PlanSchema,
) -> Option<Result<DataFrame>> {
    let mut pending = Vec::new();
    let mut held = 0;
    while held < rows {
        match batches.next() {
            Some(Ok(batch)) => {
                held += batch.height();
                pending.push(batch);
            }
            Some(Err(e)) => return Some(Err(e)),
            None => break,
        }
    }
    (!pending.is_empty()).then(|| concat_frames(pending, schema))
}

/// Runs the steps over one frame as a polars query. A large aggregate runs
/// on the streaming engine up to the aggregate; the steps after it (a few
/// projections and filters over the groups) run in memory, where polars'
/// streaming engine has been seen to drop a column aliased twice.
pub(crate) fn run_steps(input: DataFrame, steps: &[Step]) -> Result<DataFrame> {
    if input.width() == 0 && input.height() > 0 {
        let carrier =
            pl::Column::full_null(ROW_CARRIER.into(), input.height(), &pl::DataType::Boolean);
        let carried = DataFrame::new(input.height(), vec![carrier]).map_err(from_polars)?;
        return run_steps(carried, steps);
    }
    let last_aggregate = steps
        .iter()
        .rposition(|s| matches!(s, Step::Aggregate { .. } | Step::PartialAggregate { .. }));
    match last_aggregate {
        Some(at) if input.height() >= STREAMING_ROWS => {
            let null_free = NullFree::of(&input);
            let grouped =
                collect_streaming(build(chunk_sources(input)?, &steps[..=at], null_free))?;
            if at + 1 == steps.len() {
                return Ok(grouped);
            }
            build(grouped.lazy(), &steps[at + 1..], NullFree::default())
                .collect()
                .map_err(from_polars)
        }
        _ => {
            let null_free = NullFree::of(&input);
            build(input.lazy(), steps, null_free)
                .collect()
                .map_err(from_polars)
        }
    }
    .and_then(|mut out| {
        if out.get_column_index(ROW_CARRIER).is_some() {
            out = out.drop(ROW_CARRIER).map_err(from_polars)?;
        }
        Ok(out)
    })
}

/// A frame of several chunks (batches joined without copying) as one
/// source per chunk: polars' streaming engine cuts a source into slices of
/// its own size and copies every slice that spans two chunks into one.
fn chunk_sources(mut input: DataFrame) -> Result<pl::LazyFrame> {
    if input.max_n_chunks() <= 1 {
        return Ok(input.lazy());
    }
    let chunks: Vec<pl::LazyFrame> = input.split_chunks().map(|chunk| chunk.lazy()).collect();
    pl::concat(chunks, pl::UnionArgs::default()).map_err(from_polars)
}

/// `steps` over `frame`, whose columns `null_free` have no nulls.
fn build(mut frame: pl::LazyFrame, steps: &[Step], mut null_free: NullFree) -> pl::LazyFrame {
    let mut constants = Constants::default();
    for step in steps {
        frame = match step {
            Step::Select(exprs) if exprs.is_empty() => frame
                .with_column(
                    pl::lit(pl::Null {})
                        .cast(pl::DataType::Boolean)
                        .alias(ROW_CARRIER),
                )
                .select([pl::col(ROW_CARRIER)]),
            Step::Select(exprs) => frame.select(exprs.clone()),
            Step::WithColumns(exprs) => frame.with_columns(exprs.clone()),
            Step::Filter(predicate) => frame.filter(predicate.clone().fill_null(pl::lit(false))),
            Step::Limit(n) => frame.limit(*n as pl::IdxSize),
            Step::Aggregate {
                keys,
                aggregates: aggs,
            }
            | Step::PartialAggregate {
                keys,
                partial: aggs,
                ..
            } => {
                let counted = null_free.row_counted(keys, aggs);
                let aggs = counted.as_ref().map_or(aggs, |c| &c.aggregates);
                let grouped = if keys.is_empty() {
                    frame.select(aggs.clone())
                } else {
                    constants
                        .group_by(frame.clone(), keys, aggs)
                        .unwrap_or_else(|| frame.group_by(keys.clone()).agg(aggs.clone()))
                };
                match counted {
                    Some(counted) => grouped.select(counted.outputs),
                    None => grouped,
                }
            }
            Step::Sort {
                by,
                descending,
                nulls_last,
            } => frame.sort_by_exprs(
                by.clone(),
                pl::SortMultipleOptions::default()
                    .with_order_descending_multi(descending.clone())
                    .with_nulls_last_multi(nulls_last.clone())
                    .with_maintain_order(true),
            ),
        };
        constants.follow(step);
        null_free.follow(step);
    }
    frame
}

/// The columns that hold one literal in every row at a point of a pipeline
/// (the input of a union branch tagged with `lit('green')`), so grouping
/// can leave them out: a key that never varies splits no group, and a
/// string key makes polars encode every row's keys as bytes.
#[derive(Default)]
struct Constants(Vec<(pl::PlSmallStr, pl::Expr)>);

impl Constants {
    /// Updates the columns for the output of `step`.
    fn follow(&mut self, step: &Step) {
        match step {
            Step::Select(exprs) => {
                self.0 = exprs.iter().filter_map(|e| self.named_value(e)).collect();
            }
            Step::WithColumns(exprs) => {
                // Every expression reads the input, so values are taken first.
                let values: Vec<_> = exprs.iter().map(|e| self.named_value(e)).collect();
                for (expr, value) in exprs.iter().zip(values) {
                    let Some(name) = output_name(expr) else {
                        self.0.clear();
                        return;
                    };
                    self.0.retain(|(n, _)| *n != name);
                    self.0.extend(value);
                }
            }
            Step::Filter(_) | Step::Limit(_) | Step::Sort { .. } => {}
            Step::Aggregate { .. } | Step::PartialAggregate { .. } => self.0.clear(),
        }
    }

    /// An output column's name and literal, if it holds a constant.
    fn named_value(&self, expr: &pl::Expr) -> Option<(pl::PlSmallStr, pl::Expr)> {
        Some((output_name(expr)?, self.value_of(expr)?))
    }

    /// The literal an expression evaluates to, if it is a literal or a
    /// constant column (under any alias).
    fn value_of(&self, key: &pl::Expr) -> Option<pl::Expr> {
        match unaliased(key) {
            literal @ pl::Expr::Literal(_) => Some(literal.clone()),
            pl::Expr::Column(name) => self
                .0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone()),
            _ => None,
        }
    }

    /// `frame` grouped by the keys that vary, the constant keys added back
    /// in their places; `None` when no key is constant or an output has no
    /// plain name.
    fn group_by(
        &self,
        frame: pl::LazyFrame,
        keys: &[pl::Expr],
        aggs: &[pl::Expr],
    ) -> Option<pl::LazyFrame> {
        const GROUP_ROWS: &str = "__kiln_group_rows";
        let values: Vec<Option<pl::Expr>> = keys.iter().map(|k| self.value_of(k)).collect();
        if values.iter().all(Option::is_none) {
            return None;
        }
        let mut columns = Vec::with_capacity(keys.len() + aggs.len());
        for (key, value) in keys.iter().zip(&values) {
            let name = output_name(key)?;
            columns.push(match value {
                Some(value) => value.clone().alias(name),
                None => pl::col(name),
            });
        }
        for agg in aggs {
            columns.push(pl::col(output_name(agg)?));
        }
        let varying: Vec<pl::Expr> = keys
            .iter()
            .zip(&values)
            .filter(|(_, value)| value.is_none())
            .map(|(key, _)| key.clone())
            .collect();
        let grouped = if varying.is_empty() {
            // One group, which exists only where some row does.
            let mut all = aggs.to_vec();
            all.push(pl::len().alias(GROUP_ROWS));
            frame.select(all).filter(pl::col(GROUP_ROWS).gt(pl::lit(0)))
        } else {
            frame.group_by(varying).agg(aggs)
        };
        Some(grouped.select(columns))
    }
}

fn unaliased(expr: &pl::Expr) -> &pl::Expr {
    match expr {
        pl::Expr::Alias(inner, _) => unaliased(inner),
        other => other,
    }
}

pub(crate) fn output_name(expr: &pl::Expr) -> Option<pl::PlSmallStr> {
    match expr {
        pl::Expr::Alias(_, name) | pl::Expr::Column(name) => Some(name.clone()),
        _ => None,
    }
}

/// Runs a query on polars' streaming engine, which aggregates in bounded
/// memory and about 1.5x faster than the in-memory engine; a plan the
/// streaming engine has not implemented yet runs in memory instead.
fn collect_streaming(frame: pl::LazyFrame) -> Result<DataFrame> {
    let streaming = frame.clone();
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        streaming.collect_with_engine(pl::Engine::Streaming)
    }));
    match attempt {
        Ok(result) => match result.map_err(from_polars)? {
            polars_core::query_result::QueryResult::Single(frame) => Ok(frame),
            polars_core::query_result::QueryResult::Multiple(_) => {
                Err(crate::error::EngineError::Internal(
                    "a streaming query returned several frames".into(),
                ))
            }
        },
        Err(panic) => {
            let unimplemented = panic
                .downcast_ref::<&str>()
                .is_some_and(|s| s.starts_with("not yet implemented"))
                || panic
                    .downcast_ref::<String>()
                    .is_some_and(|s| s.starts_with("not yet implemented"));
            if !unimplemented {
                std::panic::resume_unwind(panic);
            }
            frame.collect().map_err(from_polars)
        }
    }
}
