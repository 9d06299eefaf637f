//! Physical planning: turns an analyzed logical plan into operators, cutting
//! stages at exchanges (shuffles for aggregation and repartitioning) and
//! fusing narrow steps into per-partition pipelines.

use std::sync::Arc;

use polars::prelude::{self as pl};

use crate::config::Config;
use crate::error::{EngineError, Result};
use crate::exec::combine::{CoalesceExec, GlobalLimitExec, UnionExec};
use crate::exec::exchange::{Coalescing, ExchangePartitioning, ShuffleExchangeExec};
use crate::exec::pipeline::{PipelineExec, Step};
use crate::exec::source::{LocalExec, RangeExec};
use crate::exec::ExecutionPlan;
use crate::expr::Expr;
use crate::functions::{self, AggregateLowering};
use crate::io::csv::CsvScanExec;
use crate::io::files::pack_splits;
use crate::io::parquet::ParquetScanExec;
use crate::lower::{LowerContext, Typed};
use crate::plan::{
    next_id, FileSource, LogicalPlan, Partitioning, Plan, PlanSchema, SortKey, SourceFormat,
};
use crate::types::{DataType, StructField};

/// Session settings the planner reads.
#[derive(Debug, Clone)]
pub struct PlannerConfig {
    pub shuffle_partitions: usize,
    pub parallelism: usize,
    pub adaptive: Option<Coalescing>,
    pub time_zone: chrono_tz::Tz,
    pub ansi: bool,
    pub max_partition_bytes: i64,
    pub open_cost: i64,
}

impl PlannerConfig {
    pub fn new(config: &Config, parallelism: usize) -> PlannerConfig {
        PlannerConfig {
            shuffle_partitions: config.shuffle_partitions(),
            parallelism,
            adaptive: config.adaptive_coalesce().then(|| Coalescing {
                advisory_size: config.advisory_partition_size(),
                min_size: config.min_partition_size(),
                parallelism,
            }),
            time_zone: config.time_zone(),
            ansi: config.ansi(),
            max_partition_bytes: config.max_partition_bytes(),
            open_cost: config.open_cost_in_bytes(),
        }
    }

    pub fn lower_context<'a>(&self, input: &'a PlanSchema) -> LowerContext<'a> {
        LowerContext {
            input,
            time_zone: self.time_zone,
            ansi: self.ansi,
        }
    }
}

/// An aggregate call found inside an output expression.
struct AggregateCall {
    lowering: AggregateLowering,
    /// Physical name of its result in the intermediate frame.
    column: String,
}

/// `groupBy(keys).agg(outputs)` analyzed: keys and aggregate calls lowered
/// over the input, outputs rewritten over the intermediate (keys + results).
pub struct AggregateAnalysis {
    keys: Vec<Typed>,
    key_columns: Vec<String>,
    calls: Vec<AggregateCall>,
    outputs: Vec<Typed>,
    pub output_fields: Vec<StructField>,
}

/// Replaces each aggregate call with a reference to its intermediate column.
fn extract_calls(
    expr: &Expr,
    ctx: &LowerContext<'_>,
    calls: &mut Vec<AggregateCall>,
    intermediate: &mut PlanSchema,
) -> Result<Expr> {
    Ok(match expr {
        Expr::Function {
            name,
            args,
            distinct,
        } if functions::is_aggregate(name) => {
            let lowered_args = args
                .iter()
                .filter(|a| !matches!(a, Expr::Star(None)))
                .map(|a| {
                    if a.contains_aggregate() {
                        Err(EngineError::analysis(
                            "NESTED_AGGREGATE_FUNCTION",
                            "It is not allowed to use an aggregate function in the argument of another aggregate function. Please use the inner aggregate function in a sub-query.",
                        ))
                    } else {
                        ctx.lower(a)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            let column = format!("__agg{}", next_id());
            let lowering = functions::aggregate(name, lowered_args, *distinct, &column, ctx)?;
            intermediate.attrs.push(crate::plan::Attribute {
                field: StructField::new(
                    column.clone(),
                    lowering.data_type.clone(),
                    lowering.nullable,
                ),
                physical: column.clone(),
                plan_ids: vec![],
                qualifier: None,
            });
            calls.push(AggregateCall {
                lowering,
                column: column.clone(),
            });
            Expr::Column {
                name: format!("`{column}`"),
                plan_id: None,
            }
        }
        Expr::Alias(e, n) => Expr::Alias(
            Box::new(extract_calls(e, ctx, calls, intermediate)?),
            n.clone(),
        ),
        Expr::Cast(e, t) => Expr::Cast(
            Box::new(extract_calls(e, ctx, calls, intermediate)?),
            t.clone(),
        ),
        Expr::TryCast(e, t) => Expr::TryCast(
            Box::new(extract_calls(e, ctx, calls, intermediate)?),
            t.clone(),
        ),
        Expr::Unary(op, e) => {
            Expr::Unary(*op, Box::new(extract_calls(e, ctx, calls, intermediate)?))
        }
        Expr::Binary(op, l, r) => Expr::Binary(
            *op,
            Box::new(extract_calls(l, ctx, calls, intermediate)?),
            Box::new(extract_calls(r, ctx, calls, intermediate)?),
        ),
        Expr::Function {
            name,
            args,
            distinct,
        } => Expr::Function {
            name: name.clone(),
            args: args
                .iter()
                .map(|a| extract_calls(a, ctx, calls, intermediate))
                .collect::<Result<_>>()?,
            distinct: *distinct,
        },
        Expr::Case {
            branches,
            otherwise,
        } => Expr::Case {
            branches: branches
                .iter()
                .map(|(c, v)| {
                    Ok((
                        extract_calls(c, ctx, calls, intermediate)?,
                        extract_calls(v, ctx, calls, intermediate)?,
                    ))
                })
                .collect::<Result<_>>()?,
            otherwise: match otherwise {
                Some(o) => Some(Box::new(extract_calls(o, ctx, calls, intermediate)?)),
                None => None,
            },
        },
        Expr::InList {
            expr,
            list,
            negated,
        } => Expr::InList {
            expr: Box::new(extract_calls(expr, ctx, calls, intermediate)?),
            list: list
                .iter()
                .map(|a| extract_calls(a, ctx, calls, intermediate))
                .collect::<Result<_>>()?,
            negated: *negated,
        },
        other => other.clone(),
    })
}

/// Analyzes an aggregation; output = keys then one column per output expression.
pub fn analyze_aggregate(
    input: &PlanSchema,
    keys: &[Expr],
    outputs: &[Expr],
    config: &PlannerConfig,
) -> Result<AggregateAnalysis> {
    let ctx = config.lower_context(input);
    let mut intermediate = PlanSchema::default();
    let mut lowered_keys = Vec::new();
    let mut key_columns = Vec::new();
    let mut output_fields = Vec::new();
    for key in keys {
        let typed = ctx.lower(key)?;
        let name = key.output_name();
        let physical = format!("__key{}", next_id());
        let field = StructField::new(name, typed.data_type.clone(), typed.nullable);
        output_fields.push(field.clone());
        // Grouping expressions are visible by their written name and, for plain columns, as before.
        let qualifier = match key {
            Expr::Column { name, plan_id } => input
                .resolve(name, *plan_id)
                .ok()
                .and_then(|a| a.qualifier.clone()),
            _ => None,
        };
        intermediate.attrs.push(crate::plan::Attribute {
            field,
            physical: physical.clone(),
            plan_ids: vec![],
            qualifier,
        });
        lowered_keys.push(Typed::new(
            typed.expr.alias(physical.as_str()),
            typed.data_type,
            typed.nullable,
        ));
        key_columns.push(physical);
    }
    let mut calls = Vec::new();
    let mut rewritten = Vec::new();
    for output in outputs {
        rewritten.push((
            extract_calls(output, &ctx, &mut calls, &mut intermediate)?,
            output.output_name(),
        ));
    }
    let final_ctx = config.lower_context(&intermediate);
    let mut lowered_outputs = Vec::new();
    for (expr, name) in rewritten {
        let typed = final_ctx.lower(&expr).map_err(|e| match e {
            EngineError::Analysis { class, .. } if class.starts_with("UNRESOLVED_COLUMN") => {
                EngineError::analysis(
                    "MISSING_AGGREGATION",
                    format!(
                        "The non-aggregating expression {name} is based on columns which are not participating in the GROUP BY clause. Add the columns or the expression to the GROUP BY, aggregate the expression, or use \"any_value({name})\" if you do not care which of the values within a group is returned."
                    ),
                )
            }
            other => other,
        })?;
        output_fields.push(StructField::new(
            name,
            typed.data_type.clone(),
            typed.nullable,
        ));
        lowered_outputs.push(typed);
    }
    Ok(AggregateAnalysis {
        keys: lowered_keys,
        key_columns,
        calls,
        outputs: lowered_outputs,
        output_fields,
    })
}

pub struct PhysicalPlanner {
    pub config: PlannerConfig,
}

impl PhysicalPlanner {
    pub fn plan(&self, plan: &Plan) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = plan.schema.clone();
        Ok(match &plan.node {
            LogicalPlan::Range {
                start,
                end,
                step,
                partitions,
            } => Arc::new(RangeExec {
                schema,
                start: *start,
                end: *end,
                step: *step,
                partitions: *partitions,
            }),
            LogicalPlan::Scan { source } => self.plan_scan(source, schema),
            LogicalPlan::LocalRelation { batches } => Arc::new(LocalExec {
                schema,
                batches: batches.clone(),
            }),
            LogicalPlan::Project { input, exprs } => {
                let ctx = self.config.lower_context(&input.schema);
                let selected = exprs
                    .iter()
                    .zip(&schema.attrs)
                    .map(|(e, a)| Ok(ctx.lower(e)?.expr.alias(a.physical.as_str())))
                    .collect::<Result<Vec<_>>>()?;
                PipelineExec::then(self.plan(input)?, Step::Select(selected), schema)
            }
            LogicalPlan::Filter { input, predicate } => {
                let ctx = self.config.lower_context(&input.schema);
                let predicate = ctx.coerce_to(ctx.lower(predicate)?, &DataType::Boolean)?;
                PipelineExec::then(self.plan(input)?, Step::Filter(predicate.expr), schema)
            }
            LogicalPlan::Limit { input, n } => Arc::new(GlobalLimitExec {
                input: PipelineExec::then(self.plan(input)?, Step::Limit(*n), input.schema.clone()),
                n: *n,
            }),
            LogicalPlan::Union { inputs } => Arc::new(UnionExec {
                inputs: inputs.iter().map(|i| self.plan(i)).collect::<Result<_>>()?,
                schema,
            }),
            LogicalPlan::Coalesce { input, n } => Arc::new(CoalesceExec {
                input: self.plan(input)?,
                n: *n,
            }),
            LogicalPlan::Repartition {
                input,
                partitioning,
            } => {
                let child = self.plan(input)?;
                let ctx = self.config.lower_context(&input.schema);
                let (partitioning, coalescing) = match partitioning {
                    Partitioning::RoundRobin(n) => (ExchangePartitioning::RoundRobin(*n), None),
                    Partitioning::Single => (ExchangePartitioning::Single, None),
                    Partitioning::Hash(exprs, n) => {
                        let keys = exprs
                            .iter()
                            .map(|e| ctx.lower(e).map(|t| t.expr))
                            .collect::<Result<Vec<_>>>()?;
                        match n {
                            Some(n) => (ExchangePartitioning::Hash(keys, *n), None),
                            None => (
                                ExchangePartitioning::Hash(keys, self.config.shuffle_partitions),
                                self.config.adaptive,
                            ),
                        }
                    }
                };
                Arc::new(ShuffleExchangeExec::new(child, partitioning, coalescing))
            }
            LogicalPlan::Aggregate {
                input,
                keys,
                aggregates,
            } => self.plan_aggregate(input, keys, aggregates, schema)?,
            LogicalPlan::Deduplicate { input, keys } => {
                let ctx = self.config.lower_context(&input.schema);
                let child = self.plan(input)?;
                let key_exprs: Vec<pl::Expr> = match keys {
                    Some(keys) => keys
                        .iter()
                        .map(|k| ctx.lower(k).map(|t| t.expr))
                        .collect::<Result<_>>()?,
                    None => input
                        .schema
                        .attrs
                        .iter()
                        .map(|a| pl::col(a.physical.as_str()))
                        .collect(),
                };
                let others: Vec<pl::Expr> = input
                    .schema
                    .attrs
                    .iter()
                    .map(|a| pl::col(a.physical.as_str()).first())
                    .collect();
                let key_names: Vec<String> = (0..key_exprs.len())
                    .map(|_| format!("__dedup{}", next_id()))
                    .collect();
                let keyed: Vec<pl::Expr> = key_exprs
                    .iter()
                    .zip(&key_names)
                    .map(|(e, n)| e.clone().alias(n.as_str()))
                    .collect();
                let mut with_keys: Vec<pl::Expr> = input
                    .schema
                    .attrs
                    .iter()
                    .map(|a| pl::col(a.physical.as_str()))
                    .collect();
                with_keys.extend(keyed);
                let key_cols: Vec<pl::Expr> =
                    key_names.iter().map(|n| pl::col(n.as_str())).collect();
                let partial = PipelineExec::then(
                    PipelineExec::then(child, Step::Select(with_keys), input.schema.clone()),
                    Step::Aggregate {
                        keys: key_cols.clone(),
                        aggregates: others.clone(),
                    },
                    input.schema.clone(),
                );
                let exchange: Arc<dyn ExecutionPlan> = Arc::new(ShuffleExchangeExec::new(
                    partial,
                    ExchangePartitioning::Hash(key_cols.clone(), self.config.shuffle_partitions),
                    self.config.adaptive,
                ));
                let merged = PipelineExec::then(
                    exchange,
                    Step::Aggregate {
                        keys: key_cols,
                        aggregates: others,
                    },
                    schema.clone(),
                );
                let columns = schema
                    .attrs
                    .iter()
                    .map(|a| pl::col(a.physical.as_str()))
                    .collect();
                PipelineExec::then(merged, Step::Select(columns), schema)
            }
            LogicalPlan::Sort {
                input,
                keys,
                global,
            } => {
                let child = self.plan(input)?;
                let step = self.sort_step(&input.schema, keys)?;
                let child = if *global {
                    Arc::new(ShuffleExchangeExec::new(
                        child,
                        ExchangePartitioning::Single,
                        None,
                    )) as Arc<dyn ExecutionPlan>
                } else {
                    child
                };
                PipelineExec::then(child, step, schema)
            }
        })
    }

    fn plan_scan(&self, source: &FileSource, schema: PlanSchema) -> Arc<dyn ExecutionPlan> {
        let files = source.files.clone();
        match &source.format {
            SourceFormat::Csv(options) => Arc::new(CsvScanExec {
                partitions: pack_splits(
                    &files,
                    &crate::io::csv::splittable,
                    self.config.max_partition_bytes,
                    self.config.open_cost,
                    self.config.parallelism,
                ),
                files,
                data_schema: source.data_schema.clone(),
                partition_fields: source.partition_fields.clone(),
                options: options.clone(),
                schema,
                time_zone: self.config.time_zone,
            }),
            SourceFormat::Parquet(footers) => Arc::new(ParquetScanExec {
                partitions: pack_splits(
                    &files,
                    &|_| true,
                    self.config.max_partition_bytes,
                    self.config.open_cost,
                    self.config.parallelism,
                ),
                files,
                footers: footers.clone(),
                partition_fields: source.partition_fields.clone(),
                schema,
                predicates: Vec::new(),
            }),
        }
    }

    fn sort_step(&self, input: &PlanSchema, keys: &[SortKey]) -> Result<Step> {
        let ctx = self.config.lower_context(input);
        let mut by = Vec::new();
        let mut descending = Vec::new();
        let mut nulls_last = Vec::new();
        for key in keys {
            by.push(ctx.lower(&key.expr)?.expr);
            descending.push(!key.ascending);
            nulls_last.push(!key.nulls_first);
        }
        Ok(Step::Sort {
            by,
            descending,
            nulls_last,
        })
    }

    fn plan_aggregate(
        &self,
        input: &Plan,
        keys: &[Expr],
        aggregates: &[Expr],
        schema: PlanSchema,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let analysis = analyze_aggregate(&input.schema, keys, aggregates, &self.config)?;
        let child = self.plan(input)?;
        let key_cols: Vec<pl::Expr> = analysis
            .key_columns
            .iter()
            .map(|k| pl::col(k.as_str()))
            .collect();
        let two_phase = analysis.calls.iter().all(|c| c.lowering.phases.is_some());
        let partitioning = |keys: Vec<pl::Expr>| {
            if keys.is_empty() {
                (ExchangePartitioning::Single, None)
            } else {
                (
                    ExchangePartitioning::Hash(keys, self.config.shuffle_partitions),
                    self.config.adaptive,
                )
            }
        };
        let grouped = if two_phase {
            let mut partial = Vec::new();
            let mut merge = Vec::new();
            let mut finish = Vec::new();
            for call in &analysis.calls {
                if let Some(phases) = &call.lowering.phases {
                    partial.extend(phases.partial.iter().cloned());
                    merge.extend(phases.merge.iter().cloned());
                    finish.push(phases.finish.clone().alias(call.column.as_str()));
                }
            }
            let partial_plan = PipelineExec::then(
                child,
                Step::Aggregate {
                    keys: analysis.keys.iter().map(|k| k.expr.clone()).collect(),
                    aggregates: partial,
                },
                schema.clone(),
            );
            let (partitioning, coalescing) = partitioning(key_cols.clone());
            let exchange: Arc<dyn ExecutionPlan> = Arc::new(ShuffleExchangeExec::new(
                partial_plan,
                partitioning,
                coalescing,
            ));
            let merged = PipelineExec::then(
                exchange,
                Step::Aggregate {
                    keys: key_cols.clone(),
                    aggregates: merge,
                },
                schema.clone(),
            );
            let mut finished = key_cols.clone();
            finished.extend(finish);
            PipelineExec::then(merged, Step::Select(finished), schema.clone())
        } else {
            let ctx = self.config.lower_context(&input.schema);
            let shuffle_keys = keys
                .iter()
                .map(|k| ctx.lower(k).map(|t| t.expr))
                .collect::<Result<Vec<_>>>()?;
            let (partitioning, coalescing) = partitioning(shuffle_keys);
            let exchange: Arc<dyn ExecutionPlan> =
                Arc::new(ShuffleExchangeExec::new(child, partitioning, coalescing));
            let complete = analysis
                .calls
                .iter()
                .map(|c| c.lowering.complete.clone().alias(c.column.as_str()))
                .collect();
            PipelineExec::then(
                exchange,
                Step::Aggregate {
                    keys: analysis.keys.iter().map(|k| k.expr.clone()).collect(),
                    aggregates: complete,
                },
                schema.clone(),
            )
        };
        let mut outputs: Vec<pl::Expr> = key_cols
            .into_iter()
            .zip(&schema.attrs)
            .map(|(k, a)| k.alias(a.physical.as_str()))
            .collect();
        for (typed, attr) in analysis
            .outputs
            .iter()
            .zip(schema.attrs.iter().skip(keys.len()))
        {
            outputs.push(typed.expr.clone().alias(attr.physical.as_str()));
        }
        Ok(PipelineExec::then(grouped, Step::Select(outputs), schema))
    }
}
