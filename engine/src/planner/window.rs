//! Physical planning of a `Window` node, as Spark plans it: compute the
//! partition keys, order keys and function arguments, shuffle by the
//! partition keys, sort each partition by partition and order keys, mark
//! where partitions and peer groups start, evaluate (`WindowExec`), and
//! project the input's columns with the window columns.

use std::sync::Arc;

use polars::prelude::{self as pl, lit as pl_lit, RankMethod, RankOptions};

use super::PhysicalPlanner;
use crate::error::{EngineError, Result};
use crate::exec::exchange::ExchangePartitioning;
use crate::exec::pipeline::{PipelineExec, Step};
use crate::exec::window::{RangeKey, SumKind, WindowCall, WindowExec, WindowKernel};
use crate::exec::ExecutionPlan;
use crate::expr::Expr;
use crate::plan::{next_id, Plan, PlanSchema, SortKey};
use crate::types::DataType;
use crate::window::{FrameBound, FrameKind, WindowAggregate, WindowFunction};

/// Columns computed per row before the shuffle (with their names), and
/// after the sort.
struct Columns {
    before: Vec<pl::Expr>,
    names: Vec<String>,
    after: Vec<pl::Expr>,
}

impl Columns {
    fn add(&mut self, name: String, expr: pl::Expr) -> String {
        self.before.push(expr.alias(name.as_str()));
        self.names.push(name.clone());
        name
    }
}

impl PhysicalPlanner {
    pub(super) fn plan_window(
        &self,
        input: &Plan,
        partition_by: &[Expr],
        order_by: &[SortKey],
        functions: &[Expr],
        schema: PlanSchema,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let tag = next_id();
        let ctx = self.config.lower_context(&input.schema);
        let mut columns = Columns {
            before: input
                .schema
                .attrs
                .iter()
                .map(|a| pl::col(a.physical.as_str()))
                .collect(),
            names: input
                .schema
                .attrs
                .iter()
                .map(|a| a.physical.clone())
                .collect(),
            after: vec![],
        };
        let mut keys = Vec::new();
        for (i, key) in partition_by.iter().enumerate() {
            keys.push(columns.add(format!("__wk{tag}_{i}"), ctx.lower(key)?.expr));
        }
        let mut orders = Vec::new();
        for (i, key) in order_by.iter().enumerate() {
            orders.push(columns.add(format!("__wo{tag}_{i}"), ctx.lower(&key.expr)?.expr));
        }
        let mut range_key = None;
        let mut calls = Vec::new();
        let mut finish = Vec::new();
        for (i, window) in functions.iter().enumerate() {
            let Expr::Window { function, spec } = window else {
                return Err(EngineError::Internal(format!(
                    "not a window expression: {window}"
                )));
            };
            let frame = spec.frame.ok_or_else(|| {
                EngineError::Internal(format!("window frame not resolved: {window}"))
            })?;
            let ranged = frame.kind == FrameKind::Range
                && [frame.start, frame.end]
                    .iter()
                    .any(|b| matches!(b, FrameBound::Offset { .. }));
            if ranged && range_key.is_none() {
                range_key = Some(self.range_key(&ctx, order_by, tag, &mut columns)?);
            }
            let output = format!("__wf{tag}_{i}");
            let prefix = format!("__wa{tag}_{i}");
            let kind = WindowFunction::of(function)?;
            let whole_partition = frame.start == FrameBound::UnboundedPreceding
                && frame.end == FrameBound::UnboundedFollowing;
            if matches!(kind, WindowFunction::Grouped { .. }) && !whole_partition {
                return Err(EngineError::spark(
                    "UNSUPPORTED_FEATURE",
                    format!(
                        "Kiln computes {function} over a whole window partition only (no ORDER BY, or ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), not over {}.",
                        spec
                    ),
                ));
            }
            let (kernel, done) = kernel(&kind, &ctx, &prefix, &output, &mut columns)?;
            calls.push(WindowCall {
                kernel,
                frame,
                output,
            });
            finish.push(done);
        }
        let child = PipelineExec::then(
            self.plan(input)?,
            Step::Select(columns.before.clone()),
            input.schema.clone(),
        );
        let key_cols: Vec<pl::Expr> = keys.iter().map(|k| pl::col(k.as_str())).collect();
        let (partitioning, coalescing) = if keys.is_empty() {
            (ExchangePartitioning::Single, None)
        } else {
            (
                ExchangePartitioning::Hash(key_cols.clone(), self.config.shuffle_partitions),
                self.config.adaptive,
            )
        };
        let shuffled: Arc<dyn ExecutionPlan> =
            Arc::new(self.exchange(child, partitioning, coalescing));
        let mut by = key_cols.clone();
        let mut descending = vec![false; keys.len()];
        let mut nulls_last = vec![false; keys.len()];
        for (name, key) in orders.iter().zip(order_by) {
            by.push(pl::col(name.as_str()));
            descending.push(!key.ascending);
            nulls_last.push(!key.nulls_first);
        }
        let sorted = if by.is_empty() {
            shuffled
        } else {
            PipelineExec::then(
                shuffled,
                Step::Sort {
                    by,
                    descending,
                    nulls_last,
                },
                input.schema.clone(),
            )
        };
        let partition_starts = format!("__wp{tag}");
        let peer_starts = format!("__wq{tag}");
        let changed = |names: &[String]| {
            names
                .iter()
                .map(|n| pl::col(n.as_str()).neq_missing(pl::col(n.as_str()).shift(pl_lit(1))))
                .reduce(|a, b| a.or(b))
                .unwrap_or(pl_lit(false))
        };
        let mut marked: Vec<pl::Expr> = columns.names.iter().map(|n| pl::col(n.as_str())).collect();
        marked.push(changed(&keys).alias(partition_starts.as_str()));
        marked.push(changed(&orders).alias(peer_starts.as_str()));
        marked.extend(columns.after);
        let marked = PipelineExec::then(sorted, Step::Select(marked), input.schema.clone());
        let evaluated: Arc<dyn ExecutionPlan> = Arc::new(WindowExec {
            input: marked,
            partition_starts,
            peer_starts,
            range_key,
            calls,
            schema: schema.clone(),
        });
        let mut outputs: Vec<pl::Expr> = input
            .schema
            .attrs
            .iter()
            .map(|a| pl::col(a.physical.as_str()))
            .collect();
        for (done, attr) in finish
            .into_iter()
            .zip(schema.attrs.iter().skip(input.schema.len()))
        {
            outputs.push(done.alias(attr.physical.as_str()));
        }
        Ok(PipelineExec::then(evaluated, Step::Select(outputs), schema))
    }

    /// The order key of a `RANGE` frame with offsets, as doubles.
    fn range_key(
        &self,
        ctx: &crate::lower::LowerContext<'_>,
        order_by: &[SortKey],
        tag: u64,
        columns: &mut Columns,
    ) -> Result<RangeKey> {
        let [key] = order_by else {
            return Err(EngineError::analysis(
                "DATATYPE_MISMATCH.RANGE_FRAME_MULTI_ORDER",
                "A range window frame with value boundaries needs exactly one order by expression.",
            ));
        };
        let typed = ctx.lower(&key.expr)?;
        let value = match &typed.data_type {
            t if t.is_numeric() => typed.expr.cast(pl::DataType::Float64),
            DataType::Date => typed
                .expr
                .cast(pl::DataType::Int32)
                .cast(pl::DataType::Float64),
            other => {
                return Err(EngineError::analysis(
                    "DATATYPE_MISMATCH.SPECIFIED_WINDOW_FRAME_UNACCEPTED_TYPE",
                    format!(
                        "Cannot resolve the range frame over {}: the data type \"{}\" used in the order specification does not support value offsets.",
                        key.expr,
                        other.simple_string().to_uppercase()
                    ),
                ))
            }
        };
        Ok(RangeKey {
            column: columns.add(format!("__wr{tag}"), value),
            descending: !key.ascending,
        })
    }
}

/// The kernel for one function, the columns it reads, and the expression
/// that turns its raw output into the Spark-typed result.
fn kernel(
    function: &WindowFunction,
    ctx: &crate::lower::LowerContext<'_>,
    prefix: &str,
    output: &str,
    columns: &mut Columns,
) -> Result<(WindowKernel, pl::Expr)> {
    let done = pl::col(output);
    let mut add = |suffix: &str, expr: pl::Expr| columns.add(format!("{prefix}{suffix}"), expr);
    Ok(match function {
        WindowFunction::RowNumber => (WindowKernel::RowNumber, done),
        WindowFunction::Rank => (WindowKernel::Rank, done),
        WindowFunction::DenseRank => (WindowKernel::DenseRank, done),
        WindowFunction::PercentRank => (WindowKernel::PercentRank, done),
        WindowFunction::CumeDist => (WindowKernel::CumeDist, done),
        WindowFunction::Ntile(n) => (WindowKernel::Ntile(*n), done),
        WindowFunction::Offset {
            value,
            offset,
            default,
            ignore_nulls,
        } => {
            let value = ctx.lower(value)?;
            let default = ctx.coerce_to(ctx.lower(default)?, &value.data_type)?;
            (
                WindowKernel::Offset {
                    value: add("v", value.expr),
                    default: add("d", default.expr),
                    offset: *offset,
                    ignore_nulls: *ignore_nulls,
                },
                done,
            )
        }
        WindowFunction::Value {
            value,
            pick,
            ignore_nulls,
        } => (
            WindowKernel::Value {
                value: add("v", ctx.lower(value)?.expr),
                pick: *pick,
                ignore_nulls: *ignore_nulls,
            },
            done,
        ),
        WindowFunction::Grouped { name, args } => {
            let lowered = crate::window::grouped_aggregate(name, args, ctx)?;
            // Spark updates one buffer with each row of the partition, in
            // order, then evaluates it: the partial step and the final one,
            // never a merge (whose rounding differs).
            const VALUE: &str = "__window_value";
            let (rows, value) = match lowered.phases {
                Some(phases) => (phases.partial, phases.finish),
                None => (vec![lowered.complete.alias(VALUE)], pl::col(VALUE)),
            };
            (
                WindowKernel::Grouped { rows, value },
                done.cast(lowered.data_type.to_polars()),
            )
        }
        WindowFunction::Aggregate { kind, args } => {
            let (data_type, _) = function.result_type(ctx)?;
            match kind {
                WindowAggregate::Count => {
                    let counted = args
                        .iter()
                        .map(|a| ctx.lower(a).map(|t| t.expr.is_not_null()))
                        .collect::<Result<Vec<_>>>()?
                        .into_iter()
                        .reduce(|a, b| a.and(b))
                        .map(|marks| add("c", marks));
                    (WindowKernel::Count { counted }, done)
                }
                WindowAggregate::Sum => {
                    let kind = match &data_type {
                        DataType::Long => SumKind::Long,
                        DataType::Double => SumKind::Double,
                        DataType::Decimal(p, s) => SumKind::Decimal {
                            precision: *p as usize,
                            scale: *s as usize,
                        },
                        other => {
                            return Err(EngineError::spark(
                                "UNSUPPORTED_FEATURE.WINDOW_SUM",
                                format!(
                                    "Kiln does not sum {} values over a window yet.",
                                    other.simple_string()
                                ),
                            ))
                        }
                    };
                    let value = ctx.coerce_to(ctx.lower(&args[0])?, &data_type)?;
                    (
                        WindowKernel::Sum {
                            value: add("v", value.expr),
                            kind,
                        },
                        done,
                    )
                }
                WindowAggregate::Avg => {
                    let value = ctx.coerce_to(ctx.lower(&args[0])?, &DataType::Double)?;
                    let done = match &data_type {
                        DataType::Decimal(_, scale) => done
                            .round(*scale as u32, pl::RoundMode::HalfAwayFromZero)
                            .cast(data_type.to_polars()),
                        _ => done,
                    };
                    (
                        WindowKernel::Avg {
                            value: add("v", value.expr),
                        },
                        done,
                    )
                }
                WindowAggregate::Min | WindowAggregate::Max => {
                    let value = add("v", ctx.lower(&args[0])?.expr);
                    // Codes rank values within the shuffled partition, so after the sort.
                    let code = format!("{prefix}r");
                    columns.after.push(
                        pl::col(value.as_str())
                            .rank(
                                RankOptions {
                                    method: RankMethod::Dense,
                                    descending: false,
                                },
                                None,
                            )
                            .alias(code.as_str()),
                    );
                    (
                        WindowKernel::Extreme {
                            value,
                            code,
                            min: *kind == WindowAggregate::Min,
                        },
                        done,
                    )
                }
            }
        }
    })
}
