//! Operators that regroup partitions without moving rows between them by
//! key: global limit, the first rows in an order, union and coalesce.

use std::sync::Arc;

use polars::prelude::{self as pl, DataFrame, IntoLazy};

use crate::error::Result;
use crate::exec::events::{StageKind, TaskMetrics};
use crate::exec::pipeline::{run_steps, Step};
use crate::exec::{from_polars, run_stage, take_rows, Batches, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

/// The first `n` rows of the input after skipping `offset`, in one
/// partition; reads input partitions in waves and stops as soon as it has enough.
#[derive(Debug)]
pub struct GlobalLimitExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub n: usize,
    pub offset: usize,
}

impl ExecutionPlan for GlobalLimitExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        1
    }

    fn execute(&self, _partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let wanted = self.n.saturating_add(self.offset);
        let frames = take_rows(&self.input, wanted, ctx)?;
        let all = concat_frames(frames, self.input.schema())?;
        Ok(skip_then_take(&all, self.offset, self.n))
    }
}

/// The first `n` rows in an order after skipping `offset`, in one partition
/// (Spark's `TakeOrderedAndProject`): each task keeps only its partition's
/// first `n + offset` rows in that order, so no range exchange sorts the
/// whole input for `orderBy(...).limit(n)` or a `show()` of a sorted frame.
#[derive(Debug)]
pub struct TakeOrderedExec {
    pub input: Arc<dyn ExecutionPlan>,
    /// The order, a `Step::Sort`.
    pub sort: Step,
    pub n: usize,
    pub offset: usize,
}

impl ExecutionPlan for TakeOrderedExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        1
    }

    fn execute(&self, _partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let wanted = self.n.saturating_add(self.offset);
        self.input.prepare(ctx)?;
        let all: Vec<usize> = (0..self.input.partition_count()).collect();
        let heads = run_stage(&self.input, &all, ctx, StageKind::Result, |_, frame| {
            Ok((
                first_in_order(frame, &self.sort, wanted)?,
                TaskMetrics::default(),
            ))
        })?;
        let all = first_in_order(
            concat_frames(heads, self.input.schema())?,
            &self.sort,
            wanted,
        )?;
        Ok(skip_then_take(&all, self.offset, self.n))
    }
}

/// The `n` rows of `all` after its first `offset`.
fn skip_then_take(all: &DataFrame, offset: usize, n: usize) -> DataFrame {
    let skipped = offset.min(all.height());
    all.slice(skipped as i64, n.min(all.height() - skipped))
}

/// The first `n` rows of `frame` in the order of `sort` (a `Step::Sort`).
fn first_in_order(frame: DataFrame, sort: &Step, n: usize) -> Result<DataFrame> {
    let frame = match sort {
        Step::Sort {
            by,
            descending,
            nulls_last,
        } if by.len() > 1 && frame.height() > n && n > 0 => {
            prune_by_first_key(frame, &by[0], descending[0], nulls_last[0], n)?
        }
        _ => frame,
    };
    run_steps(frame, &[sort.clone(), Step::Limit(n)])
}

/// Drops the rows whose first sort key comes after the n-th row's: they
/// cannot be among the first n. A sort on several keys compares encoded
/// rows, far slower than finding the n-th value of one column, so it is left
/// a handful of rows. Float keys are kept whole, since NaN sorts last but
/// compares false.
fn prune_by_first_key(
    frame: DataFrame,
    key: &pl::Expr,
    descending: bool,
    nulls_last: bool,
    n: usize,
) -> Result<DataFrame> {
    let options = pl::SortOptions::default()
        .with_order_descending(descending)
        .with_nulls_last(nulls_last);
    let nth = frame
        .clone()
        .lazy()
        .select([key
            .clone()
            .sort(options)
            .slice(pl::lit((n - 1) as i64), pl::lit(1u64))
            .alias("nth")])
        .collect()
        .map_err(from_polars)?
        .column("nth")
        .map_err(from_polars)?
        .as_materialized_series()
        .clone();
    if nth.dtype().is_float() {
        return Ok(frame);
    }
    let null = nth.null_count() > 0;
    let within = if descending {
        key.clone().gt_eq(pl::lit(nth))
    } else {
        key.clone().lt_eq(pl::lit(nth))
    };
    let keep = match (null, nulls_last) {
        // The first n rows all have a null key.
        (true, false) => key.clone().is_null(),
        // Fewer than n keys are not null: every row may be needed.
        (true, true) => return Ok(frame),
        (false, false) => key.clone().is_null().or(within),
        (false, true) => within,
    };
    frame
        .lazy()
        .filter(keep.fill_null(pl::lit(false)))
        .collect()
        .map_err(from_polars)
}

/// Stacks frames of the same schema; an empty list gives an empty frame.
pub fn concat_frames(frames: Vec<DataFrame>, schema: &PlanSchema) -> Result<DataFrame> {
    let mut frames = frames.into_iter();
    let Some(mut first) = frames.next() else {
        return empty_frame(schema);
    };
    for frame in frames {
        first.vstack_mut_owned(frame).map_err(from_polars)?;
    }
    Ok(first)
}

/// A frame with the schema's columns and no rows.
pub fn empty_frame(schema: &PlanSchema) -> Result<DataFrame> {
    let columns = schema
        .attrs
        .iter()
        .map(|a| {
            polars::prelude::Column::full_null(
                a.physical.as_str().into(),
                0,
                &a.field.data_type.to_polars(),
            )
        })
        .collect();
    DataFrame::new(0, columns).map_err(from_polars)
}

/// Partitions of each input one after another (Spark's `UnionExec`); columns
/// are renamed to the first input's physical names.
#[derive(Debug)]
pub struct UnionExec {
    pub inputs: Vec<Arc<dyn ExecutionPlan>>,
    pub schema: PlanSchema,
    /// Whether the inputs name their columns alike already (a step pushed
    /// into every branch names its outputs itself), so none are renamed.
    pub named_alike: bool,
}

impl ExecutionPlan for UnionExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.inputs.iter().map(|i| i.partition_count()).sum()
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        match self.locate(partition) {
            Some((input, index)) => self.renamed(input.execute(index, ctx)?),
            None => empty_frame(&self.schema),
        }
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        match self.locate(partition) {
            Some((input, index)) => Ok(Box::new(
                input
                    .execute_batches(index, ctx)?
                    .map(move |batch| self.renamed(batch?)),
            )),
            None => Ok(Box::new(std::iter::empty())),
        }
    }
}

impl UnionExec {
    /// The input holding union partition `partition`, and its index there.
    fn locate(&self, partition: usize) -> Option<(&Arc<dyn ExecutionPlan>, usize)> {
        let mut index = partition;
        for input in &self.inputs {
            let count = input.partition_count();
            if index < count {
                return Some((input, index));
            }
            index -= count;
        }
        None
    }

    /// Rows of an input under the union's column names (by position).
    fn renamed(&self, mut frame: DataFrame) -> Result<DataFrame> {
        if self.named_alike {
            return Ok(frame);
        }
        let names: Vec<&str> = self
            .schema
            .attrs
            .iter()
            .map(|a| a.physical.as_str())
            .collect();
        frame.set_column_names(&names).map_err(from_polars)?;
        Ok(frame)
    }
}

/// `coalesce(n)`: groups neighbouring partitions into at most `n`, no shuffle.
#[derive(Debug)]
pub struct CoalesceExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub n: usize,
}

impl CoalesceExec {
    fn groups(&self) -> Vec<std::ops::Range<usize>> {
        let total = self.input.partition_count();
        let n = self.n.min(total).max(1);
        (0..n)
            .map(|i| (i * total / n)..((i + 1) * total / n))
            .collect()
    }
}

impl ExecutionPlan for CoalesceExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        self.groups().len()
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let range = self.groups().get(partition).cloned().unwrap_or(0..0);
        let mut frames = Vec::new();
        for p in range {
            ctx.cancel.check()?;
            frames.push(self.input.execute(p, ctx)?);
        }
        concat_frames(frames, self.input.schema())
    }
}
