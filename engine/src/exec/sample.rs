//! `sample(withReplacement, fraction, seed)`: each partition sampled on its
//! own with Spark's generator seeded by the seed plus the partition index.
//! Without replacement a row is kept when its draw falls in the sample's
//! range (`[0, fraction)`, or a `randomSplit` weight's share), as Spark's
//! `BernoulliCellSampler` keeps it, so a seeded sample holds the rows
//! Spark's holds; with replacement each row is repeated a
//! Poisson count of times.

use std::sync::Arc;

use polars::prelude::{DataFrame, IdxCa, NamedFrom};

use crate::error::Result;
use crate::exec::{from_polars, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;
use crate::spark_random::XorShiftRandom;

#[derive(Debug)]
pub struct SampleExec {
    pub input: Arc<dyn ExecutionPlan>,
    pub lower: f64,
    pub upper: f64,
    pub with_replacement: bool,
    pub seed: i64,
}

impl ExecutionPlan for SampleExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        self.input.partition_count()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        let frame = self.input.execute(partition, ctx)?;
        let mut rng = XorShiftRandom::new(self.seed.wrapping_add(partition as i64));
        let mut rows: Vec<u32> = Vec::new();
        for row in 0..frame.height() as u32 {
            let copies = if self.with_replacement {
                rng.poisson(self.upper - self.lower)
            } else {
                let draw = rng.next_double();
                u32::from(draw >= self.lower && draw < self.upper)
            };
            for _ in 0..copies {
                rows.push(row);
            }
        }
        frame
            .take(&IdxCa::new("rows".into(), rows))
            .map_err(from_polars)
    }
}
