//! Leaf operators over data that is already here: `range` and local rows.

use std::sync::Arc;

use polars::prelude::{DataFrame, IntoColumn, NamedFrom, Series};

use crate::error::Result;
use crate::exec::{ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

/// `spark.range(start, end, step)` split evenly into `partitions` slices, as Spark splits it.
#[derive(Debug)]
pub struct RangeExec {
    pub schema: PlanSchema,
    pub start: i64,
    pub end: i64,
    pub step: i64,
    pub partitions: usize,
}

impl RangeExec {
    fn total(&self) -> i64 {
        if (self.step > 0 && self.start >= self.end) || (self.step < 0 && self.start <= self.end) {
            return 0;
        }
        let span = (self.end as i128 - self.start as i128).abs();
        let step = (self.step as i128).abs();
        ((span + step - 1) / step) as i64
    }
}

impl ExecutionPlan for RangeExec {
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
        self.partitions
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let total = self.total() as i128;
        let parts = self.partitions as i128;
        let first = total * partition as i128 / parts;
        let last = total * (partition as i128 + 1) / parts;
        let values: Vec<i64> = (first..last)
            .map(|i| (self.start as i128 + i * self.step as i128) as i64)
            .collect();
        let name = self.schema.attrs[0].physical.as_str();
        let column = Series::new(name.into(), values).into_column();
        let frame = DataFrame::new(values_height(&column), vec![column])?;
        ctx.record_rows_read(&frame);
        Ok(frame)
    }
}

fn values_height(column: &polars::prelude::Column) -> usize {
    column.len()
}

/// Rows the user gave (`createDataFrame`), one polars frame per partition.
#[derive(Debug)]
pub struct LocalExec {
    pub schema: PlanSchema,
    pub batches: Arc<Vec<DataFrame>>,
}

impl ExecutionPlan for LocalExec {
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
        self.batches.len()
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let frame = self.batches[partition].clone();
        ctx.record_rows_read(&frame);
        Ok(frame)
    }
}
