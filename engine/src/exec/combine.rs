//! Operators that regroup partitions without moving rows between them by
//! key: global limit, the first rows in an order, union and coalesce.

use std::sync::Arc;

use polars::prelude::DataFrame;

use crate::error::Result;
use crate::exec::pipeline::{run_steps, Step};
use crate::exec::{
    collect_partitions, from_polars, take_rows, Batches, ExecutionPlan, TaskContext,
};
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
        let skipped = self.offset.min(all.height());
        Ok(all.slice(skipped as i64, self.n.min(all.height() - skipped)))
    }
}

/// The first `n` rows in an order after skipping `offset`, in one partition
/// (Spark's `TakeOrderedAndProject`): each input partition keeps only its
/// own first `n + offset` rows in that order, so no range exchange sorts the
/// whole input for `orderBy(...).limit(n)` or a `show()` of a sorted frame.
#[derive(Debug)]
pub struct TakeOrderedExec {
    /// The input with each partition sorted and cut to `n + offset` rows.
    pub input: Arc<dyn ExecutionPlan>,
    /// The order, a `Step::Sort`, applied again to the partitions' rows.
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
        let heads = concat_frames(collect_partitions(&self.input, ctx)?, self.input.schema())?;
        let all = run_steps(heads, &[self.sort.clone(), Step::Limit(wanted)])?;
        let skipped = self.offset.min(all.height());
        Ok(all.slice(skipped as i64, self.n.min(all.height() - skipped)))
    }
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
