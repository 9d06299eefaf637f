//! Narrow operators fused per partition: projections, filters and local
//! limits run as one polars lazy query over the input partition.

use std::sync::Arc;

use polars::prelude::{self as pl, DataFrame, IntoLazy};

use crate::error::Result;
use crate::exec::{from_polars, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

#[derive(Debug, Clone)]
pub enum Step {
    /// Output columns, each aliased to its physical name.
    Select(Vec<pl::Expr>),
    Filter(pl::Expr),
    /// At most n rows of this partition.
    Limit(usize),
    /// Group by the keys (or the whole partition when there are none) and aggregate.
    Aggregate {
        keys: Vec<pl::Expr>,
        aggregates: Vec<pl::Expr>,
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
        let input = self.input.execute(partition, ctx)?;
        ctx.cancel.check()?;
        let mut frame = input.lazy();
        for step in &self.steps {
            frame = match step {
                Step::Select(exprs) => frame.select(exprs.clone()),
                Step::Filter(predicate) => {
                    frame.filter(predicate.clone().fill_null(pl::lit(false)))
                }
                Step::Limit(n) => frame.limit(*n as pl::IdxSize),
                Step::Aggregate { keys, aggregates } if keys.is_empty() => {
                    frame.select(aggregates.clone())
                }
                Step::Aggregate { keys, aggregates } => {
                    frame.group_by(keys.clone()).agg(aggregates.clone())
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
        }
        frame.collect().map_err(from_polars)
    }
}
