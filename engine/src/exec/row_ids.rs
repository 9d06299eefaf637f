//! `RowIdsExec`: its input's rows with the `RowIds` node's values added,
//! batch by batch: `monotonically_increasing_id()` (the partition index in
//! the upper 31 bits, the row's place in the partition in the lower 33),
//! `spark_partition_id()`, and `rand` / `randn` drawn row after row from
//! Spark's generator seeded with the seed plus the partition index.

use std::sync::Arc;

use polars::prelude::{
    Column, DataFrame, Float64Chunked, Int64Chunked, IntoColumn, NewChunkedArray,
};

use crate::error::Result;
use crate::exec::{concat_batches, from_polars, Batches, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;
use crate::row_ids::RowValue;
use crate::spark_random::XorShiftRandom;

#[derive(Debug)]
pub struct RowIdsExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub values: Vec<RowValue>,
    /// The input's columns, then one per value.
    pub schema: PlanSchema,
}

/// How one added column continues from one batch of a partition to the
/// next: the ids from the rows numbered so far, a random value from its
/// generator.
enum ColumnState {
    RowId,
    PartitionId,
    Uniform(XorShiftRandom),
    Gaussian(XorShiftRandom),
}

/// One partition's running state.
struct PartitionState {
    partition: usize,
    seen: i64,
    columns: Vec<ColumnState>,
}

impl RowIdsExec {
    fn start(&self, partition: usize) -> PartitionState {
        let generator = |seed: &i64| XorShiftRandom::new(seed.wrapping_add(partition as i64));
        let columns = self
            .values
            .iter()
            .map(|v| match v {
                RowValue::RowId => ColumnState::RowId,
                RowValue::PartitionId => ColumnState::PartitionId,
                RowValue::Uniform(seed) => ColumnState::Uniform(generator(seed)),
                RowValue::Gaussian(seed) => ColumnState::Gaussian(generator(seed)),
            })
            .collect();
        PartitionState {
            partition,
            seen: 0,
            columns,
        }
    }

    fn numbered(&self, frame: DataFrame, state: &mut PartitionState) -> Result<DataFrame> {
        let rows = frame.height();
        let names = self.schema.attrs[self.schema.len() - self.values.len()..]
            .iter()
            .map(|a| a.physical.as_str());
        let (partition, seen) = (state.partition, state.seen);
        let mut columns = frame.columns().to_vec();
        for (column, name) in state.columns.iter_mut().zip(names) {
            columns.push(match column {
                ColumnState::RowId => {
                    let base = ((partition as i64) << 33) + seen;
                    Int64Chunked::from_iter_values(name.into(), (0..rows as i64).map(|i| base + i))
                        .into_column()
                }
                ColumnState::PartitionId => Column::new_scalar(
                    name.into(),
                    polars::prelude::Scalar::from(partition as i32),
                    rows,
                ),
                ColumnState::Uniform(rng) => Float64Chunked::from_iter_values(
                    name.into(),
                    (0..rows).map(|_| rng.next_double()),
                )
                .into_column(),
                ColumnState::Gaussian(rng) => Float64Chunked::from_iter_values(
                    name.into(),
                    (0..rows).map(|_| rng.next_gaussian()),
                )
                .into_column(),
            });
        }
        state.seen += rows as i64;
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
        let mut state = self.start(partition);
        let batches = self.input.execute_batches(partition, ctx)?;
        Ok(Box::new(
            batches.map(move |batch| self.numbered(batch?, &mut state)),
        ))
    }
}
