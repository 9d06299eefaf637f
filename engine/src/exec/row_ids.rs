//! `RowIdsExec`: its input's rows with Spark's `monotonically_increasing_id()`
//! (the partition index in the upper 31 bits, the row's place in the
//! partition in the lower 33) and `spark_partition_id()` added, batch by
//! batch.

use std::sync::Arc;

use polars::prelude::{Column, DataFrame, Int64Chunked, IntoColumn, NewChunkedArray};

use crate::error::Result;
use crate::exec::{concat_batches, from_polars, Batches, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

#[derive(Debug)]
pub struct RowIdsExec {
    pub input: Arc<dyn ExecutionPlan>,
    /// The input's columns, then the row id and the partition id.
    pub schema: PlanSchema,
}

impl RowIdsExec {
    fn numbered(&self, frame: DataFrame, partition: usize, first: i64) -> Result<DataFrame> {
        let names: Vec<&str> = self.schema.attrs[self.schema.len() - 2..]
            .iter()
            .map(|a| a.physical.as_str())
            .collect();
        let base = ((partition as i64) << 33) + first;
        let rows = frame.height();
        let ids =
            Int64Chunked::from_iter_values(names[0].into(), (0..rows as i64).map(|i| base + i));
        let partition_ids = Column::new_scalar(
            names[1].into(),
            polars::prelude::Scalar::from(partition as i32),
            rows,
        );
        let mut columns = frame.columns().to_vec();
        columns.push(ids.into_column());
        columns.push(partition_ids);
        DataFrame::new(rows, columns).map_err(from_polars)
    }
}

impl ExecutionPlan for RowIdsExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        &self.schema
    }

    fn partition_count(&self) -> usize {
        self.input.partition_count()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        concat_batches(self, partition, ctx)
    }

    fn execute_batches<'a>(
        &'a self,
        partition: usize,
        ctx: &'a TaskContext,
    ) -> Result<Batches<'a>> {
        let mut seen = 0i64;
        let batches = self.input.execute_batches(partition, ctx)?;
        Ok(Box::new(batches.map(move |batch| {
            let batch = batch?;
            let rows = batch.height() as i64;
            let numbered = self.numbered(batch, partition, seen);
            seen += rows;
            numbered
        })))
    }
}
