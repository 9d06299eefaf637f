//! Physical planning: turns an analyzed logical plan into operators, cutting
//! stages at exchanges (shuffles for aggregation and repartitioning) and
//! fusing narrow steps into per-partition pipelines.

pub mod reuse;
mod window;

use std::sync::Arc;

use polars::prelude::{self as pl};

use crate::config::Config;
use crate::error::{EngineError, Result};
use crate::exec::combine::{CoalesceExec, GlobalLimitExec, TakeOrderedExec, UnionExec};
use crate::exec::exchange::{Coalescing, ExchangePartitioning, ShuffleExchangeExec};
use crate::exec::join::{
    AdaptiveBroadcast, BuildSide, HashJoinExec, JoinKind, JoinStrategy, EXISTENCE_MARK,
};
use crate::exec::pipeline::{PipelineExec, Step};
use crate::exec::source::{LocalExec, RangeExec};
use crate::exec::ExecutionPlan;
use crate::expr::Expr;
use crate::functions::{self, AggregateLowering};
use crate::io::csv::CsvScanExec;
use crate::io::files::pack_splits;
use crate::io::parquet::{ParquetScanExec, StatsPredicate};
use crate::lower::{LowerContext, Typed};
use crate::plan::{
    next_id, FileSource, JoinOn, LogicalPlan, Partitioning, Plan, PlanSchema, SortKey, SourceFormat,
};
use crate::types::{DataType, StructField};

/// Bytes of its map output a range shuffle (a global sort's) keeps in
/// memory, whatever the session's budget (`PhysicalPlanner::exchange`).
const SORTED_SHUFFLE_BUDGET: u64 = 32 << 20;

/// Session settings the planner reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerConfig {
    pub shuffle_partitions: usize,
    pub parallelism: usize,
    pub adaptive: Option<Coalescing>,
    pub time_zone: chrono_tz::Tz,
    pub ansi: bool,
    pub max_partition_bytes: i64,
    pub open_cost: i64,
    pub broadcast_threshold: i64,
    /// Under adaptive execution, the real size under which a shuffled
    /// join's side is broadcast after all.
    pub adaptive_broadcast_threshold: Option<u64>,
    pub spill: crate::exec::spill::SpillConfig,
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
            broadcast_threshold: config.broadcast_threshold(),
            adaptive_broadcast_threshold: config.adaptive_broadcast_threshold(),
            spill: crate::exec::spill::SpillConfig {
                memory_budget: config.memory_budget().max(0) as u64,
                directory: config.scratch_dir(),
            },
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

/// The condition of `call`'s `FILTER (WHERE condition)`, checked as Spark
/// checks it: a boolean over the input rows, without aggregates or windows.
fn aggregate_filter<'e>(
    condition: &'e Expr,
    call: &Expr,
    ctx: &LowerContext<'_>,
) -> Result<&'e Expr> {
    if condition.contains_aggregate() || condition.contains_window() {
        return Err(EngineError::analysis(
            "INVALID_AGGREGATE_FILTER.CONTAINS_AGGREGATE",
            format!("The FILTER expression {condition} in an aggregate function is invalid. Expected a FILTER expression without an aggregation, but found {call}."),
        ));
    }
    let data_type = ctx.lower(condition)?.data_type;
    if data_type != DataType::Boolean {
        return Err(EngineError::analysis(
            "INVALID_AGGREGATE_FILTER.NOT_BOOLEAN",
            format!("The FILTER expression {condition} in an aggregate function is invalid. Expected a FILTER expression of the BOOLEAN type, but found {}.", data_type.simple_string().to_uppercase()),
        ));
    }
    Ok(condition)
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
            filter,
        } if functions::is_aggregate(name) => {
            let lower_argument = |a: &Expr| {
                if a.contains_aggregate() {
                    return Err(EngineError::analysis(
                        "NESTED_AGGREGATE_FUNCTION",
                        "It is not allowed to use an aggregate function in the argument of another aggregate function. Please use the inner aggregate function in a sub-query.",
                    ));
                }
                ctx.lower(a)
            };
            // Rows that fail a FILTER become nulls, which aggregates skip; the
            // `first` family, which keeps nulls, drops those rows instead.
            let (args, kept_rows) = match filter {
                None => (args.clone(), None),
                Some(condition) => {
                    let condition = aggregate_filter(condition, expr, ctx)?;
                    if functions::skips_nulls(name, args) {
                        (functions::masked_arguments(name, args, condition), None)
                    } else {
                        (args.clone(), Some(ctx.lower(condition)?.expr))
                    }
                }
            };
            let mut lowered_args = args
                .iter()
                .filter(|a| !matches!(a, Expr::Star(None)))
                .map(lower_argument)
                .collect::<Result<Vec<_>>>()?;
            if let (Some(rows), Some(value)) = (kept_rows, lowered_args.first_mut()) {
                value.expr = value.expr.clone().filter(rows);
            }
            let column = format!("__agg{}", next_id());
            let lowering =
                functions::aggregate(name, lowered_args, &args, *distinct, &column, ctx)?;
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
            filter,
        } => Expr::Function {
            name: name.clone(),
            args: args
                .iter()
                .map(|a| extract_calls(a, ctx, calls, intermediate))
                .collect::<Result<_>>()?,
            distinct: *distinct,
            filter: filter.clone(),
        },
        Expr::Udf { function, args } => Expr::Udf {
            function: function.clone(),
            args: args
                .iter()
                .map(|a| extract_calls(a, ctx, calls, intermediate))
                .collect::<Result<_>>()?,
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
                // Spark resolves functions before it checks grouping: an
                // unknown function over an input column is reported as such.
                if let Err(unknown) = ctx.lower(&expr) {
                    if unknown.error_class() == Some("UNRESOLVED_ROUTINE") {
                        return unknown;
                    }
                }
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

/// A reference to one attribute by its physical name.
fn physical_ref(physical: &str) -> Expr {
    Expr::Column {
        name: format!("`{}`", physical.replace('`', "``")),
        plan_id: None,
    }
}

pub(crate) fn split_and(expr: &Expr) -> Vec<Expr> {
    match expr {
        Expr::Binary(crate::expr::BinaryOp::And, l, r) => {
            let mut out = split_and(l);
            out.extend(split_and(r));
            out
        }
        other => vec![other.clone()],
    }
}

/// `column op literal` (either way round) as (column name, op, value).
fn column_vs_literal(
    expr: &Expr,
    schema: &PlanSchema,
) -> Option<(String, crate::expr::BinaryOp, crate::value::Value)> {
    use crate::expr::BinaryOp;
    let Expr::Binary(op, l, r) = expr else {
        return None;
    };
    let flipped = match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Eq | BinaryOp::EqNullSafe => *op,
        _ => return None,
    };
    match (l.as_ref(), r.as_ref()) {
        (Expr::Column { name, plan_id }, Expr::Literal(v)) if !v.is_null() => {
            let attr = schema.resolve(name, *plan_id).ok()?;
            Some((attr.field.name.clone(), *op, v.clone()))
        }
        (Expr::Literal(v), Expr::Column { name, plan_id }) if !v.is_null() => {
            let attr = schema.resolve(name, *plan_id).ok()?;
            Some((attr.field.name.clone(), flipped, v.clone()))
        }
        _ => None,
    }
}

/// Whether every column the expression names resolves in `schema`.
fn resolves_in(expr: &Expr, schema: &PlanSchema) -> bool {
    let mut ok = true;
    let mut any = false;
    expr.walk(&mut |e| {
        if let Expr::Column { name, plan_id } = e {
            any = true;
            if schema.resolve(name, *plan_id).is_err() {
                ok = false;
            }
            // A reference tied to a DataFrame must belong to this side.
            if let Some(id) = plan_id {
                if !schema.attrs.iter().any(|a| a.plan_ids.contains(id)) {
                    ok = false;
                }
            }
        }
    });
    ok && any
}

/// `l = r` with one side from each input.
/// An equality between one side's expression and the other's: `(left,
/// right, null_safe)`, where `null_safe` marks `<=>`.
pub(crate) fn equi_pair(
    expr: &Expr,
    left: &PlanSchema,
    right: &PlanSchema,
) -> Option<(Expr, Expr, bool)> {
    let (null_safe, a, b) = match expr {
        Expr::Binary(crate::expr::BinaryOp::Eq, a, b) => (false, a, b),
        Expr::Binary(crate::expr::BinaryOp::EqNullSafe, a, b) => (true, a, b),
        _ => return None,
    };
    if resolves_in(a, left) && resolves_in(b, right) && !resolves_in(a, right) {
        return Some(((**a).clone(), (**b).clone(), null_safe));
    }
    if resolves_in(b, left) && resolves_in(a, right) && !resolves_in(b, right) {
        return Some(((**b).clone(), (**a).clone(), null_safe));
    }
    if resolves_in(a, left) && resolves_in(b, right) {
        return Some(((**a).clone(), (**b).clone(), null_safe));
    }
    None
}

/// A join key that never is null, so `<=>` joins as plain equality: whether
/// the value is null, and the value with nulls replaced by a constant.
fn null_safe_key(key: pl::Expr, data_type: &DataType) -> Result<[pl::Expr; 2]> {
    let filler = match data_type {
        DataType::String => pl::lit(""),
        DataType::Boolean => pl::lit(false),
        t if t.is_numeric()
            || matches!(
                t,
                DataType::Date | DataType::Timestamp | DataType::TimestampNtz
            ) =>
        {
            pl::lit(0i32).cast(t.to_polars())
        }
        other => {
            return Err(EngineError::spark(
                "UNSUPPORTED_FEATURE.JOIN_CONDITION",
                format!(
                    "Kiln cannot join on <=> over {} values yet.",
                    other.simple_string()
                ),
            ))
        }
    };
    Ok([key.clone().is_null(), key.fill_null(filler)])
}

/// How a join meets its two sides (Spark's `JoinSelection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinChoice {
    /// One side collected once and joined with every partition of the
    /// other: a hash join on equi-keys, a nested loop without them.
    Broadcast(BuildSide),
    /// Both sides hash-partitioned by the equi-keys.
    Shuffled,
    /// A full outer join without equi-keys: both sides whole in one
    /// partition, where every unmatched row of either side is known.
    SinglePartition,
}

/// Spark's choice: with equi-keys a broadcast hash join when a side may be
/// broadcast, else a shuffle; without them a broadcast nested loop join
/// that broadcasts the side the join type does not preserve, however large.
pub fn choose_join(
    kind: JoinKind,
    keyed: bool,
    left: &Plan,
    right: &Plan,
    config: &PlannerConfig,
) -> JoinChoice {
    if keyed {
        return match choose_build_side(kind, left, right, config) {
            Some(build) => JoinChoice::Broadcast(build),
            None => JoinChoice::Shuffled,
        };
    }
    match kind {
        JoinKind::Inner | JoinKind::Cross => JoinChoice::Broadcast(
            choose_build_side(JoinKind::Cross, left, right, config).unwrap_or(BuildSide::Right),
        ),
        JoinKind::Left | JoinKind::LeftSemi | JoinKind::LeftAnti | JoinKind::LeftMark => {
            JoinChoice::Broadcast(BuildSide::Right)
        }
        JoinKind::Right => JoinChoice::Broadcast(BuildSide::Left),
        JoinKind::Full => JoinChoice::SinglePartition,
    }
}

/// Which side of a join is broadcast, if any: a hinted side, or one under
/// `autoBroadcastJoinThreshold` that the join type allows (the smaller when both are).
fn choose_build_side(
    kind: JoinKind,
    left: &Plan,
    right: &Plan,
    config: &PlannerConfig,
) -> Option<BuildSide> {
    let threshold = config.broadcast_threshold;
    let small =
        |plan: &Plan| has_broadcast_hint(plan) || under_broadcast_threshold(plan, threshold);
    match kind {
        JoinKind::Inner | JoinKind::Cross => {
            let (ls, rs) = (estimated_size(left), estimated_size(right));
            if has_broadcast_hint(right)
                || (small(right) && !has_broadcast_hint(left) && (rs <= ls || !small(left)))
            {
                Some(BuildSide::Right)
            } else if small(left) {
                Some(BuildSide::Left)
            } else if kind == JoinKind::Cross {
                Some(BuildSide::Right)
            } else {
                None
            }
        }
        JoinKind::Left | JoinKind::LeftSemi | JoinKind::LeftAnti | JoinKind::LeftMark => {
            small(right).then_some(BuildSide::Right)
        }
        JoinKind::Right => small(left).then_some(BuildSide::Left),
        JoinKind::Full => None,
    }
}

/// The side of a shuffled join adaptive execution measures first and may
/// still broadcast: for an inner, semi, anti or existence join the one
/// likely to be smaller (a small left side of the last three is then joined
/// in one partition against the unshuffled right side).
fn adaptive_broadcast(
    kind: JoinKind,
    left: &Plan,
    right: &Plan,
    config: &PlannerConfig,
) -> Option<AdaptiveBroadcast> {
    let threshold = config.adaptive_broadcast_threshold?;
    let side = match kind {
        JoinKind::Inner | JoinKind::LeftSemi | JoinKind::LeftAnti | JoinKind::LeftMark
            if likely_size(left) < likely_size(right) =>
        {
            BuildSide::Left
        }
        JoinKind::Inner
        | JoinKind::Left
        | JoinKind::LeftSemi
        | JoinKind::LeftAnti
        | JoinKind::LeftMark => BuildSide::Right,
        JoinKind::Right => BuildSide::Left,
        JoinKind::Full | JoinKind::Cross => return None,
    };
    Some(AdaptiveBroadcast { side, threshold })
}

fn has_broadcast_hint(plan: &Plan) -> bool {
    match &plan.node {
        LogicalPlan::BroadcastHint { .. } => true,
        LogicalPlan::Project { input, .. } | LogicalPlan::Filter { input, .. } => {
            has_broadcast_hint(input)
        }
        _ => false,
    }
}

/// Whether Spark's estimate of `plan` is within a broadcast threshold
/// (never, for a negative one).
pub fn under_broadcast_threshold(plan: &Plan, threshold: i64) -> bool {
    u64::try_from(threshold).is_ok_and(|max| estimated_size(plan) <= max)
}

/// Spark's size estimate without statistics: file sizes for scans, the
/// child's size through narrow operators.
pub fn estimated_size(plan: &Plan) -> u64 {
    size_estimate(plan, false)
}

/// A guess at a plan's real size, to choose which side of a join to
/// measure first: unlike Spark's estimate, a join is no bigger than its
/// bigger input and a filter keeps half its input.
fn likely_size(plan: &Plan) -> u64 {
    size_estimate(plan, true)
}

fn size_estimate(plan: &Plan, likely: bool) -> u64 {
    let estimated_size = |plan: &Plan| size_estimate(plan, likely);
    let row_width: u64 = plan
        .schema
        .attrs
        .iter()
        .map(|a| type_width(&a.field.data_type))
        .sum::<u64>()
        + 8;
    match &plan.node {
        LogicalPlan::Scan { source } => source.files.iter().map(|f| f.len).sum(),
        LogicalPlan::LocalRelation { batches } => {
            batches.iter().map(|b| b.estimated_size() as u64).sum()
        }
        LogicalPlan::Range {
            start, end, step, ..
        } => {
            let rows = ((*end as i128 - *start as i128) / (*step as i128).max(1)).max(0) as u64;
            rows.saturating_mul(8)
        }
        LogicalPlan::Limit { input, n, .. } => {
            estimated_size(input).min((*n as u64).saturating_mul(row_width))
        }
        LogicalPlan::Aggregate { keys, .. } if keys.is_empty() => row_width,
        LogicalPlan::Union { inputs } => inputs.iter().map(|i| estimated_size(i)).sum(),
        LogicalPlan::Join { left, right, .. } if likely => {
            estimated_size(left).max(estimated_size(right))
        }
        LogicalPlan::Filter { input, .. } if likely => estimated_size(input) / 2,
        LogicalPlan::Join { left, right, .. } => {
            estimated_size(left).saturating_mul(estimated_size(right).max(1))
        }
        LogicalPlan::Project { input, .. } => {
            let child_width: u64 = input
                .schema
                .attrs
                .iter()
                .map(|a| type_width(&a.field.data_type))
                .sum::<u64>()
                + 8;
            estimated_size(input).saturating_mul(row_width) / child_width.max(1)
        }
        other => other
            .children()
            .first()
            .map(|c| estimated_size(c))
            .unwrap_or(u64::MAX),
    }
}

/// Spark's `defaultSize` of each type, for size estimates.
fn type_width(t: &DataType) -> u64 {
    match t {
        DataType::Byte | DataType::Boolean => 1,
        DataType::Short => 2,
        DataType::Integer | DataType::Float | DataType::Date | DataType::YearMonthInterval(_) => 4,
        DataType::Long | DataType::Double | DataType::Timestamp | DataType::TimestampNtz => 8,
        DataType::DayTimeInterval(_) => 8,
        DataType::Decimal(p, _) => {
            if *p <= 18 {
                8
            } else {
                16
            }
        }
        DataType::String | DataType::Binary => 20,
        DataType::Null => 1,
        DataType::Array(e, _) => type_width(e),
        DataType::Map(k, v, _) => type_width(k) + type_width(v),
        DataType::Struct(fields) => fields.iter().map(|f| type_width(&f.data_type)).sum(),
    }
}

pub struct PhysicalPlanner {
    pub config: PlannerConfig,
    /// Plans whose partitions are (or will be) cached.
    pub cache: Vec<(Arc<Plan>, Arc<crate::exec::cache::CacheEntry>)>,
    /// Subtrees earlier queries of the session planned and ran.
    pub reuse: Arc<reuse::ReusedStages>,
}

impl PhysicalPlanner {
    pub fn plan(&self, plan: &Plan) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some((_, entry)) = self
            .cache
            .iter()
            .find(|(p, _)| std::ptr::eq(p.as_ref(), plan))
        {
            return Ok(Arc::new(crate::exec::cache::CachedExec {
                input: self.plan_uncached(plan)?,
                entry: entry.clone(),
            }));
        }
        if !reuse::has_exchange(plan) {
            return self.plan_uncached(plan);
        }
        if let Some(physical) = self.reuse.find(plan, &self.config) {
            return Ok(physical);
        }
        let physical = self.plan_uncached(plan)?;
        self.reuse.keep(plan, &self.config, &physical);
        Ok(physical)
    }

    fn plan_uncached(&self, plan: &Plan) -> Result<Arc<dyn ExecutionPlan>> {
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
            LogicalPlan::Scan { source } => self.plan_scan(source, schema, None),
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
                let reads_columns = exprs.iter().any(|e| {
                    let mut found = false;
                    e.walk(&mut |n| found |= matches!(n, Expr::Column { .. }));
                    found
                });
                if reads_columns || exprs.is_empty() {
                    PipelineExec::then(self.plan(input)?, Step::Select(selected), schema)
                } else {
                    // `SELECT 1 FROM t`: one row per input row, not one in all.
                    let added = PipelineExec::then(
                        self.plan(input)?,
                        Step::WithColumns(selected),
                        input.schema.clone(),
                    );
                    let columns = schema
                        .attrs
                        .iter()
                        .map(|a| pl::col(a.physical.as_str()))
                        .collect();
                    PipelineExec::then(added, Step::Select(columns), schema)
                }
            }
            LogicalPlan::Filter { input, predicate } => {
                let child = match &input.node {
                    LogicalPlan::Scan { source } => {
                        self.plan_scan(source, input.schema.clone(), Some(predicate))
                    }
                    _ => self.plan(input)?,
                };
                let ctx = self.config.lower_context(&input.schema);
                let predicate = ctx.coerce_to(ctx.lower(predicate)?, &DataType::Boolean)?;
                PipelineExec::then(child, Step::Filter(predicate.expr), schema)
            }
            LogicalPlan::Limit { input, n, offset } => {
                let rows = n.saturating_add(*offset);
                if let LogicalPlan::Sort {
                    input: sorted,
                    keys,
                    global: true,
                } = &input.node
                {
                    if *n != usize::MAX {
                        return Ok(Arc::new(TakeOrderedExec {
                            input: self.plan(sorted)?,
                            sort: self.sort_step(&sorted.schema, keys)?,
                            n: *n,
                            offset: *offset,
                        }));
                    }
                }
                Arc::new(GlobalLimitExec {
                    input: PipelineExec::then(
                        self.plan(input)?,
                        Step::Limit(rows),
                        input.schema.clone(),
                    ),
                    n: *n,
                    offset: *offset,
                })
            }
            LogicalPlan::Union { inputs } => Arc::new(UnionExec {
                inputs: inputs.iter().map(|i| self.plan(i)).collect::<Result<_>>()?,
                schema,
                named_alike: false,
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
                Arc::new(self.exchange(child, partitioning, coalescing))
            }
            LogicalPlan::Aggregate {
                input,
                keys,
                aggregates,
            } => self.plan_aggregate(input, keys, aggregates, schema)?,
            LogicalPlan::BroadcastHint { input } => self.plan(input)?,
            LogicalPlan::Window {
                input,
                partition_by,
                order_by,
                functions,
            } => self.plan_window(input, partition_by, order_by, functions, schema)?,
            LogicalPlan::Generate {
                input,
                collection,
                generator,
            } => {
                let ctx = self.config.lower_context(&input.schema);
                let lowered = ctx.lower(collection)?;
                let split_struct =
                    generator.inline || matches!(lowered.data_type, DataType::Map(..));
                let mut with_collection = input.schema.clone();
                with_collection.push(
                    StructField::new("__kiln_collection", lowered.data_type, true),
                    vec![],
                    None,
                );
                let physical = with_collection
                    .attrs
                    .last()
                    .map(|a| a.physical.clone())
                    .ok_or_else(|| EngineError::Internal("collection column missing".into()))?;
                let added = PipelineExec::then(
                    self.plan(input)?,
                    Step::WithColumns(vec![lowered.expr.alias(physical.as_str())]),
                    with_collection,
                );
                Arc::new(crate::exec::generate::GenerateExec {
                    input: added,
                    position: generator.position,
                    outer: generator.outer,
                    split_struct,
                    schema,
                })
            }
            LogicalPlan::RowIds { input, values } => Arc::new(crate::exec::row_ids::RowIdsExec {
                input: self.plan(input)?,
                values: values.clone(),
                schema,
            }),
            LogicalPlan::Sample {
                input,
                lower,
                upper,
                with_replacement,
                seed,
            } => Arc::new(crate::exec::sample::SampleExec {
                input: self.plan(input)?,
                lower: *lower,
                upper: *upper,
                with_replacement: *with_replacement,
                seed: *seed,
            }),
            LogicalPlan::Join {
                left,
                right,
                kind,
                on,
            } => self.plan_join(left, right, *kind, on, schema)?,
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
                    Step::PartialAggregate {
                        keys: key_cols.clone(),
                        partial: others.clone(),
                        merge_keys: key_cols.clone(),
                        merge: others.clone(),
                    },
                    input.schema.clone(),
                );
                let exchange: Arc<dyn ExecutionPlan> = Arc::new(self.exchange(
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
                let child = match (&step, global) {
                    (
                        Step::Sort {
                            by,
                            descending,
                            nulls_last,
                        },
                        true,
                    ) => {
                        let exchange = self.exchange(
                            child,
                            ExchangePartitioning::Range {
                                keys: by.clone(),
                                descending: descending.clone(),
                                nulls_last: nulls_last.clone(),
                                partitions: self.config.shuffle_partitions,
                            },
                            self.config.adaptive,
                        );
                        Arc::new(match self.key_sample(input, keys)? {
                            Some(sample) => exchange.with_key_sample(sample),
                            None => exchange,
                        }) as Arc<dyn ExecutionPlan>
                    }
                    _ => child,
                };
                PipelineExec::then(child, step, schema)
            }
        })
    }

    fn plan_join(
        &self,
        left: &Plan,
        right: &Plan,
        kind: JoinKind,
        on: &JoinOn,
        schema: PlanSchema,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let tag = next_id();
        // Right columns get names that cannot collide with the left's.
        let mut right_renamed = right.schema.clone();
        for (j, attr) in right_renamed.attrs.iter_mut().enumerate() {
            attr.physical = format!("__r{tag}_{j}");
        }
        let mut both = left.schema.clone();
        both.attrs.extend(right_renamed.attrs.iter().cloned());
        // Equi-key pairs (left expr, right expr) and what is left of the condition.
        let mut pairs: Vec<(Expr, Expr, bool)> = Vec::new();
        let mut residual: Vec<Expr> = Vec::new();
        let mut using: Vec<(usize, usize)> = Vec::new();
        match on {
            JoinOn::Using(keys) => {
                for key in keys {
                    let l = left.schema.resolve_index(key, None)?;
                    let r = right.schema.resolve_index(key, None)?;
                    using.push((l, r));
                    pairs.push((
                        physical_ref(&left.schema.attrs[l].physical),
                        physical_ref(&right.schema.attrs[r].physical),
                        false,
                    ));
                }
            }
            JoinOn::Condition(condition) => {
                for conjunct in split_and(condition) {
                    match equi_pair(&conjunct, &left.schema, &right.schema) {
                        Some(pair) => pairs.push(pair),
                        None => residual.push(conjunct),
                    }
                }
            }
            JoinOn::Nothing => {}
        }
        let lctx = self.config.lower_context(&left.schema);
        let rctx = self.config.lower_context(&right.schema);
        let mut left_select: Vec<pl::Expr> = left
            .schema
            .attrs
            .iter()
            .map(|a| pl::col(a.physical.as_str()))
            .collect();
        let mut right_select: Vec<pl::Expr> = right
            .schema
            .attrs
            .iter()
            .zip(&right_renamed.attrs)
            .map(|(a, r)| pl::col(a.physical.as_str()).alias(r.physical.as_str()))
            .collect();
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        let mut key_types = Vec::new();
        for (i, (l, r, null_safe)) in pairs.iter().enumerate() {
            let lt = lctx.lower(l)?;
            let rt = rctx.lower(r)?;
            let common =
                crate::lower::comparison_type(&lt.data_type, &rt.data_type).ok_or_else(|| {
                    EngineError::analysis(
                        "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES",
                        format!(
                            "Cannot join {l} with {r}: incompatible types {} and {}.",
                            lt.data_type, rt.data_type
                        ),
                    )
                })?;
            let lk = format!("__lk{tag}_{i}");
            let rk = format!("__rk{tag}_{i}");
            let left_key = lctx.coerce_to(lt, &common)?.expr;
            let right_key = rctx.coerce_to(rt, &common)?.expr;
            if *null_safe {
                let [l_null, l_value] = null_safe_key(left_key, &common)?;
                let [r_null, r_value] = null_safe_key(right_key, &common)?;
                for (suffix, l_part, r_part, t) in [
                    ("n", l_null, r_null, DataType::Boolean),
                    ("v", l_value, r_value, common.clone()),
                ] {
                    left_select.push(l_part.alias(format!("{lk}{suffix}").as_str()));
                    right_select.push(r_part.alias(format!("{rk}{suffix}").as_str()));
                    left_keys.push(format!("{lk}{suffix}"));
                    right_keys.push(format!("{rk}{suffix}"));
                    key_types.push(t);
                }
                continue;
            }
            left_select.push(left_key.alias(lk.as_str()));
            right_select.push(right_key.alias(rk.as_str()));
            left_keys.push(lk);
            right_keys.push(rk);
            key_types.push(common);
        }
        // An outer join's condition on the preserved side's partner alone
        // filters that partner before the join (Spark's PushPredicateThroughJoin).
        let mut left_filters = Vec::new();
        let mut right_filters = Vec::new();
        let residual: Vec<Expr> = residual
            .into_iter()
            .filter(|c| {
                let only_right = resolves_in(c, &right.schema) && !resolves_in(c, &left.schema);
                let only_left = resolves_in(c, &left.schema) && !resolves_in(c, &right.schema);
                match kind {
                    JoinKind::Left
                    | JoinKind::LeftSemi
                    | JoinKind::LeftAnti
                    | JoinKind::LeftMark
                        if only_right =>
                    {
                        right_filters.push(c.clone());
                        false
                    }
                    JoinKind::Right if only_left => {
                        left_filters.push(c.clone());
                        false
                    }
                    _ => true,
                }
            })
            .collect();
        let residual = match residual.into_iter().reduce(|a, b| a.and(b)) {
            Some(condition) => {
                let ctx = self.config.lower_context(&both);
                Some(
                    ctx.coerce_to(ctx.lower(&condition)?, &DataType::Boolean)?
                        .expr,
                )
            }
            None => None,
        };
        // Output columns from the joined frame.
        let mut output = Vec::new();
        let keeps_right = !kind.keeps_left_only();
        let mut out_attrs = schema.attrs.iter();
        for (i, (l, r)) in using.iter().enumerate() {
            let Some(attr) = out_attrs.next() else { break };
            let lk = pl::col(left.schema.attrs[*l].physical.as_str());
            let rk = pl::col(right_renamed.attrs[*r].physical.as_str());
            let expr = match kind {
                JoinKind::Right => rk,
                JoinKind::Full => pl::coalesce(&[
                    pl::col(left_keys[i].as_str()),
                    pl::col(right_keys[i].as_str()),
                ])
                .cast(key_types[i].to_polars()),
                _ => lk,
            };
            output.push(expr.alias(attr.physical.as_str()));
        }
        let using_left: Vec<usize> = using.iter().map(|(l, _)| *l).collect();
        let using_right: Vec<usize> = using.iter().map(|(_, r)| *r).collect();
        for (i, a) in left.schema.attrs.iter().enumerate() {
            if using_left.contains(&i) {
                continue;
            }
            if let Some(attr) = out_attrs.next() {
                output.push(pl::col(a.physical.as_str()).alias(attr.physical.as_str()));
            }
        }
        if keeps_right {
            for (j, a) in right_renamed.attrs.iter().enumerate() {
                if using_right.contains(&j) {
                    continue;
                }
                if let Some(attr) = out_attrs.next() {
                    output.push(pl::col(a.physical.as_str()).alias(attr.physical.as_str()));
                }
            }
        }
        if kind == JoinKind::LeftMark {
            if let Some(attr) = out_attrs.next() {
                output.push(pl::col(EXISTENCE_MARK).alias(attr.physical.as_str()));
            }
        }
        let filtered = |exec: Arc<dyn ExecutionPlan>,
                        side: &Plan,
                        filters: Vec<Expr>|
         -> Result<Arc<dyn ExecutionPlan>> {
            match filters.into_iter().reduce(|a, b| a.and(b)) {
                Some(condition) => {
                    let ctx = self.config.lower_context(&side.schema);
                    let predicate = ctx.coerce_to(ctx.lower(&condition)?, &DataType::Boolean)?;
                    Ok(PipelineExec::then(
                        exec,
                        Step::Filter(predicate.expr),
                        side.schema.clone(),
                    ))
                }
                None => Ok(exec),
            }
        };
        let left_exec = PipelineExec::then(
            filtered(self.plan(left)?, left, left_filters)?,
            Step::Select(left_select),
            left.schema.clone(),
        );
        let right_exec = PipelineExec::then(
            filtered(self.plan(right)?, right, right_filters)?,
            Step::Select(right_select),
            right_renamed.clone(),
        );
        let choice = choose_join(kind, !pairs.is_empty(), left, right, &self.config);
        let kind = if pairs.is_empty() && kind == JoinKind::Inner {
            JoinKind::Cross
        } else {
            kind
        };
        let n = self.config.shuffle_partitions;
        let partitioning = |keys: &[String]| match choice {
            JoinChoice::SinglePartition => ExchangePartitioning::Single,
            _ => ExchangePartitioning::Hash(keys.iter().map(|k| pl::col(k.as_str())).collect(), n),
        };
        let strategy_and_children = match choice {
            JoinChoice::Broadcast(build) => (
                JoinStrategy::Broadcast {
                    build,
                    built: Default::default(),
                    lock: Default::default(),
                },
                left_exec,
                right_exec,
            ),
            JoinChoice::Shuffled | JoinChoice::SinglePartition => {
                let lx = Arc::new(self.exchange(left_exec, partitioning(&left_keys), None));
                let rx = Arc::new(self.exchange(right_exec, partitioning(&right_keys), None));
                (
                    JoinStrategy::Shuffled {
                        left: lx.clone(),
                        right: rx.clone(),
                        coalescing: self.config.adaptive,
                        adaptive: match choice {
                            JoinChoice::Shuffled => {
                                adaptive_broadcast(kind, left, right, &self.config)
                            }
                            _ => None,
                        },
                        layout: Default::default(),
                    },
                    lx as Arc<dyn ExecutionPlan>,
                    rx as Arc<dyn ExecutionPlan>,
                )
            }
        };
        let (strategy, left_child, right_child) = strategy_and_children;
        Ok(Arc::new(HashJoinExec {
            left: left_child,
            right: right_child,
            kind,
            left_keys,
            right_keys,
            residual,
            output,
            strategy,
            schema,
        }))
    }

    /// The input of a global sort reduced to the columns its keys read, for
    /// the exchange to sample key ranges from before it streams the input
    /// itself (as Spark's `RangePartitioner` runs a sampling job), so the
    /// input is never held whole. Only for inputs cheap to read twice:
    /// Parquet, local rows and ranges under projections, filters and unions,
    /// without Python UDFs. `None`: the exchange samples the computed input.
    fn key_sample(
        &self,
        input: &Arc<Plan>,
        keys: &[SortKey],
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        fn cheap_to_read_twice(plan: &Plan) -> bool {
            let own = match &plan.node {
                LogicalPlan::Scan { source } => matches!(source.format, SourceFormat::Parquet(_)),
                LogicalPlan::LocalRelation { .. } | LogicalPlan::Range { .. } => true,
                LogicalPlan::Project { input, .. } | LogicalPlan::Filter { input, .. } => {
                    cheap_to_read_twice(input)
                }
                LogicalPlan::Union { inputs } => inputs.iter().all(|i| cheap_to_read_twice(i)),
                _ => false,
            };
            own && plan.is_deterministic()
        }
        if !cheap_to_read_twice(input)
            || self.cache.iter().any(|(p, _)| p.as_ref() == input.as_ref())
        {
            return Ok(None);
        }
        let mut needed = std::collections::HashSet::new();
        for key in keys {
            crate::optimizer::references(&key.expr, &input.schema, &mut needed);
        }
        let cached: Vec<Arc<Plan>> = self.cache.iter().map(|(p, _)| p.clone()).collect();
        let pruned = crate::optimizer::prune(input, Some(&needed), &cached);
        Ok(Some(self.plan(&pruned)?))
    }

    /// A shuffle that spills past the session's memory budget. A range
    /// shuffle feeds a sort, which holds each of its partitions whole:
    /// holding the map output as well would double the sort's peak (the
    /// global sort of 5M rows peaked at 660-685 MB under 256 MB against
    /// 335-350 MB under 32 MB, in the same time), so it keeps at most
    /// `SORTED_SHUFFLE_BUDGET`.
    fn exchange(
        &self,
        input: Arc<dyn ExecutionPlan>,
        partitioning: ExchangePartitioning,
        coalescing: Option<Coalescing>,
    ) -> ShuffleExchangeExec {
        let mut spill = self.config.spill.clone();
        if matches!(partitioning, ExchangePartitioning::Range { .. }) {
            spill.memory_budget = spill.memory_budget.min(SORTED_SHUFFLE_BUDGET);
        }
        ShuffleExchangeExec::new(input, partitioning, coalescing).with_spill(spill)
    }

    /// A file scan; a filter right above it prunes partition directories and
    /// (for Parquet) row groups by their statistics.
    fn plan_scan(
        &self,
        source: &FileSource,
        schema: PlanSchema,
        filter: Option<&Expr>,
    ) -> Arc<dyn ExecutionPlan> {
        let mut stats = Vec::new();
        let mut partition_filters = Vec::new();
        for conjunct in filter.map(split_and).unwrap_or_default() {
            let Some((name, op, value)) = column_vs_literal(&conjunct, &schema) else {
                continue;
            };
            let predicate = StatsPredicate {
                column: name.clone(),
                op,
                value,
            };
            if source
                .partition_fields
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&name))
            {
                partition_filters.push(predicate);
            } else {
                stats.push(predicate);
            }
        }
        let kept: Vec<usize> = (0..source.files.len())
            .filter(|i| {
                let file = &source.files[*i];
                partition_filters.iter().all(|p| {
                    let Some(field) = source
                        .partition_fields
                        .iter()
                        .find(|f| f.name.eq_ignore_ascii_case(&p.column))
                    else {
                        return true;
                    };
                    let text = file
                        .partition_values
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&field.name))
                        .map(|(_, v)| v.as_str());
                    let value = crate::io::files::partition_value(text, &field.data_type);
                    crate::io::parquet::value_may_match(&value, &value, p)
                })
            })
            .collect();
        let files: Arc<Vec<_>> = Arc::new(kept.iter().map(|i| source.files[*i].clone()).collect());
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
                footers: Arc::new(kept.iter().map(|i| footers[*i].clone()).collect()),
                files,
                partition_fields: source.partition_fields.clone(),
                schema,
                predicates: stats,
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
                Step::PartialAggregate {
                    keys: analysis.keys.iter().map(|k| k.expr.clone()).collect(),
                    partial,
                    merge_keys: key_cols.clone(),
                    merge: merge.clone(),
                },
                schema.clone(),
            );
            let (partitioning, coalescing) = partitioning(key_cols.clone());
            let exchange: Arc<dyn ExecutionPlan> =
                Arc::new(self.exchange(partial_plan, partitioning, coalescing));
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
                Arc::new(self.exchange(child, partitioning, coalescing));
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
