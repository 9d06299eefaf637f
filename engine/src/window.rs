//! Window functions as the analyzer sees them: the `OVER (...)` spec, its
//! frame and Spark's default frames, the names Spark prints for window
//! columns, and which functions run over a window with what result type.

use std::fmt;

use crate::error::{EngineError, Result};
use crate::expr::{lit, Expr};
use crate::lower::{LowerContext, Typed};
use crate::plan::SortKey;
use crate::types::DataType;
use crate::value::Value;

/// `PARTITION BY ... ORDER BY ... frame`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowSpec {
    pub partition_by: Vec<Expr>,
    /// Sort orders (`Expr::SortOrder`) or plain expressions (ascending).
    pub order_by: Vec<Expr>,
    pub frame: Option<WindowFrame>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Rows,
    Range,
}

/// One end of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameBound {
    UnboundedPreceding,
    CurrentRow,
    UnboundedFollowing,
    /// Rows (or order-key distance) from the current row, negative before it.
    /// `sql_preceding` records SQL's `n PRECEDING` spelling, which Spark
    /// names `n PRECEDING` while the API's `-n` prints as `-n FOLLOWING`.
    Offset {
        value: i64,
        sql_preceding: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowFrame {
    pub kind: FrameKind,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl WindowFrame {
    pub fn rows(start: FrameBound, end: FrameBound) -> Self {
        WindowFrame {
            kind: FrameKind::Rows,
            start,
            end,
        }
    }

    pub fn range(start: FrameBound, end: FrameBound) -> Self {
        WindowFrame {
            kind: FrameKind::Range,
            start,
            end,
        }
    }

    /// `rowsBetween(start, end)` with the API's numbers: `Long.MinValue`
    /// style sentinels for unbounded ends, 0 for the current row.
    pub fn from_api(kind: FrameKind, start: i64, end: i64) -> Self {
        let bound = |v: i64| match v {
            i64::MIN => FrameBound::UnboundedPreceding,
            i64::MAX => FrameBound::UnboundedFollowing,
            0 => FrameBound::CurrentRow,
            v => FrameBound::Offset {
                value: v,
                sql_preceding: false,
            },
        };
        WindowFrame {
            kind,
            start: bound(start),
            end: bound(end),
        }
    }

    /// The bound's position relative to the current row, for ordering checks.
    fn position(bound: FrameBound) -> i128 {
        match bound {
            FrameBound::UnboundedPreceding => i128::MIN,
            FrameBound::CurrentRow => 0,
            FrameBound::UnboundedFollowing => i128::MAX,
            FrameBound::Offset { value, .. } => i128::from(value),
        }
    }

    fn has_offset(&self) -> bool {
        matches!(self.start, FrameBound::Offset { .. })
            || matches!(self.end, FrameBound::Offset { .. })
    }
}

impl fmt::Display for FrameBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameBound::UnboundedPreceding => write!(f, "UNBOUNDED PRECEDING"),
            FrameBound::CurrentRow => write!(f, "CURRENT ROW"),
            FrameBound::UnboundedFollowing => write!(f, "UNBOUNDED FOLLOWING"),
            FrameBound::Offset {
                value,
                sql_preceding: true,
            } => write!(f, "{} PRECEDING", -i128::from(*value)),
            FrameBound::Offset { value, .. } => write!(f, "{value} FOLLOWING"),
        }
    }
}

impl fmt::Display for WindowFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            FrameKind::Rows => "ROWS",
            FrameKind::Range => "RANGE",
        };
        write!(f, "{kind} BETWEEN {} AND {}", self.start, self.end)
    }
}

impl fmt::Display for WindowSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.partition_by.is_empty() {
            let keys: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
            parts.push(format!("PARTITION BY {}", keys.join(", ")));
        }
        if !self.order_by.is_empty() {
            let keys: Vec<String> = self.sort_keys().iter().map(sort_text).collect();
            parts.push(format!("ORDER BY {}", keys.join(", ")));
        }
        if let Some(frame) = &self.frame {
            parts.push(frame.to_string());
        }
        write!(f, "{}", parts.join(" "))
    }
}

fn sort_text(key: &SortKey) -> String {
    format!(
        "{} {} NULLS {}",
        key.expr,
        if key.ascending { "ASC" } else { "DESC" },
        if key.nulls_first { "FIRST" } else { "LAST" }
    )
}

impl WindowSpec {
    pub fn sort_keys(&self) -> Vec<SortKey> {
        self.order_by.iter().map(SortKey::from_expr).collect()
    }

    /// Partition and order expressions.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.partition_by.iter().chain(&self.order_by)
    }

    pub fn map_exprs(&self, map: &mut dyn FnMut(Expr) -> Expr) -> WindowSpec {
        WindowSpec {
            partition_by: self.partition_by.iter().cloned().map(&mut *map).collect(),
            order_by: self.order_by.iter().cloned().map(&mut *map).collect(),
            frame: self.frame,
        }
    }

    /// True when both specs need the same shuffle and sort.
    pub fn same_partitioning(&self, other: &WindowSpec) -> bool {
        self.partition_by.len() == other.partition_by.len()
            && self
                .partition_by
                .iter()
                .zip(&other.partition_by)
                .all(|(a, b)| a.same_as(b))
            && self.sort_keys() == other.sort_keys()
    }
}

/// Which value a value function picks from its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValuePick {
    First,
    Last,
    /// The n-th row (1-based).
    Nth(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAggregate {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// A function as it runs over a window.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowFunction {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile(i64),
    /// `lag` (negative offset) and `lead`: the row `offset` away, or `default`.
    Offset {
        value: Expr,
        offset: i64,
        default: Expr,
        ignore_nulls: bool,
    },
    Value {
        value: Expr,
        pick: ValuePick,
        ignore_nulls: bool,
    },
    /// `args` empty means every row counts (`count(*)`).
    Aggregate {
        kind: WindowAggregate,
        args: Vec<Expr>,
    },
    /// Any other aggregate (`stddev`, `collect_list`, `percentile`, ...),
    /// over a frame that holds the whole partition: the partition's
    /// aggregate on each of its rows.
    Grouped {
        name: String,
        args: Vec<Expr>,
    },
}

const RANKING: &[&str] = &[
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
];

fn integer_arg(name: &str, arg: Option<&Expr>, default: i64) -> Result<i64> {
    match arg {
        None => Ok(default),
        Some(Expr::Literal(Value::Integer(v))) => Ok(i64::from(*v)),
        Some(Expr::Literal(Value::Long(v))) => Ok(*v),
        Some(Expr::Unary(crate::expr::UnaryOp::Negate, inner)) => {
            integer_arg(name, Some(inner), default).map(|v| -v)
        }
        Some(other) => Err(EngineError::analysis(
            "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
            format!("Cannot resolve \"{name}\": its offset or bucket count must be an integer literal, not {other}."),
        )),
    }
}

fn bool_arg(arg: Option<&Expr>) -> bool {
    matches!(arg, Some(Expr::Literal(Value::Boolean(true))))
}

fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<()> {
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            min.to_string()
        } else {
            format!("[{min}, {max}]")
        };
        return Err(EngineError::analysis(
            "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
            format!(
                "The `{name}` requires {expected} parameters but the actual number is {}. \
                 Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix.",
                args.len()
            ),
        ));
    }
    Ok(())
}

impl WindowFunction {
    /// What `function` computes over a window.
    pub fn of(function: &Expr) -> Result<WindowFunction> {
        let Expr::Function {
            name,
            args,
            distinct,
            filter,
        } = function
        else {
            return Err(not_a_window_function(&function.to_string()));
        };
        let lower = name.to_ascii_lowercase();
        // A FILTER keeps its rows by turning the others into nulls, which
        // these aggregates skip.
        let masked;
        let args = match filter {
            None => args,
            Some(condition)
                if crate::functions::is_aggregate(&lower)
                    && crate::functions::skips_nulls(&lower, args) =>
            {
                masked = crate::functions::masked_arguments(name, args, condition);
                &masked
            }
            Some(_) => {
                return Err(EngineError::spark(
                    "UNSUPPORTED_FEATURE",
                    format!("Kiln supports FILTER over a window only on aggregates that skip nulls, not in {function}."),
                ))
            }
        };
        if *distinct {
            return Err(EngineError::analysis(
                "DISTINCT_WINDOW_FUNCTION_UNSUPPORTED",
                format!("Distinct window functions are not supported: {function}."),
            ));
        }
        let value = |i: usize| args.get(i).cloned().unwrap_or(lit(Value::Null));
        Ok(match lower.as_str() {
            "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" => {
                arity(name, args, 0, 0)?;
                match lower.as_str() {
                    "row_number" => WindowFunction::RowNumber,
                    "rank" => WindowFunction::Rank,
                    "dense_rank" => WindowFunction::DenseRank,
                    "percent_rank" => WindowFunction::PercentRank,
                    _ => WindowFunction::CumeDist,
                }
            }
            "ntile" => {
                arity(name, args, 1, 1)?;
                let buckets = integer_arg(name, args.first(), 1)?;
                if buckets <= 0 {
                    return Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                        format!("Cannot resolve \"{function}\": the bucket count must be greater than 0, but got {buckets}."),
                    ));
                }
                WindowFunction::Ntile(buckets)
            }
            "lag" | "lead" => {
                arity(name, args, 1, 4)?;
                let offset = integer_arg(name, args.get(1), 1)?;
                WindowFunction::Offset {
                    value: value(0),
                    offset: if lower == "lag" { -offset } else { offset },
                    default: value(2),
                    ignore_nulls: bool_arg(args.get(3)),
                }
            }
            "first" | "first_value" | "last" | "last_value" | "any_value" => {
                arity(name, args, 1, 2)?;
                WindowFunction::Value {
                    value: value(0),
                    pick: if lower.starts_with("last") {
                        ValuePick::Last
                    } else {
                        ValuePick::First
                    },
                    ignore_nulls: bool_arg(args.get(1)),
                }
            }
            "nth_value" => {
                arity(name, args, 2, 3)?;
                let n = integer_arg(name, args.get(1), 1)?;
                if n <= 0 {
                    return Err(EngineError::analysis(
                        "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
                        format!("Cannot resolve \"{function}\": the offset must be greater than 0, but got {n}."),
                    ));
                }
                WindowFunction::Value {
                    value: value(0),
                    pick: ValuePick::Nth(n),
                    ignore_nulls: bool_arg(args.get(2)),
                }
            }
            "count" => WindowFunction::Aggregate {
                kind: WindowAggregate::Count,
                args: args
                    .iter()
                    .filter(|a| !matches!(a, Expr::Literal(v) if !v.is_null()))
                    .cloned()
                    .collect(),
            },
            "sum" | "avg" | "mean" | "min" | "max" => {
                arity(name, args, 1, 1)?;
                let kind = match lower.as_str() {
                    "sum" => WindowAggregate::Sum,
                    "min" => WindowAggregate::Min,
                    "max" => WindowAggregate::Max,
                    _ => WindowAggregate::Avg,
                };
                WindowFunction::Aggregate {
                    kind,
                    args: args.clone(),
                }
            }
            _ if crate::functions::is_aggregate(&lower) => WindowFunction::Grouped {
                name: lower,
                args: args.clone(),
            },
            _ => return Err(not_a_window_function(name)),
        })
    }

    fn is_ranking(function: &Expr) -> Option<String> {
        match function {
            Expr::Function { name, .. }
                if RANKING.contains(&name.to_ascii_lowercase().as_str()) =>
            {
                Some(name.to_ascii_lowercase())
            }
            _ => None,
        }
    }

    /// The result type: what Spark's function yields for these inputs.
    pub fn result_type(&self, ctx: &LowerContext<'_>) -> Result<(DataType, bool)> {
        Ok(match self {
            WindowFunction::RowNumber
            | WindowFunction::Rank
            | WindowFunction::DenseRank
            | WindowFunction::Ntile(_) => (DataType::Integer, false),
            WindowFunction::PercentRank | WindowFunction::CumeDist => (DataType::Double, false),
            WindowFunction::Offset { value, .. } | WindowFunction::Value { value, .. } => {
                (ctx.lower(value)?.data_type, true)
            }
            WindowFunction::Aggregate { kind, args } => {
                let typed: Vec<Typed> = args.iter().map(|a| ctx.lower(a)).collect::<Result<_>>()?;
                let name = match kind {
                    WindowAggregate::Count => "count",
                    WindowAggregate::Sum => "sum",
                    WindowAggregate::Avg => "avg",
                    WindowAggregate::Min => "min",
                    WindowAggregate::Max => "max",
                };
                let lowered =
                    crate::functions::aggregate(name, typed, args, false, "__window", ctx)?;
                (lowered.data_type, lowered.nullable)
            }
            WindowFunction::Grouped { name, args } => {
                let lowered = grouped_aggregate(name, args, ctx)?;
                (lowered.data_type, lowered.nullable)
            }
        })
    }
}

/// An aggregate lowered to run over each window partition's rows.
pub fn grouped_aggregate(
    name: &str,
    args: &[Expr],
    ctx: &LowerContext<'_>,
) -> Result<crate::functions::AggregateLowering> {
    let typed: Vec<Typed> = args.iter().map(|a| ctx.lower(a)).collect::<Result<_>>()?;
    crate::functions::aggregate(name, typed, args, false, "__window", ctx)
}

fn not_a_window_function(name: &str) -> EngineError {
    EngineError::analysis(
        "UNSUPPORTED_EXPR_FOR_WINDOW",
        format!(
            "Expression \"{name}\" not supported within a window function. Kiln runs row_number, rank, \
             dense_rank, percent_rank, cume_dist, ntile, lag, lead, first, last, first_value, last_value, \
             nth_value, count, sum, avg, min and max over windows."
        ),
    )
}

/// A window expression as Spark's analyzer leaves it: `lag`/`lead`
/// arguments filled in, the frame made explicit, the frame checked against
/// the function.
pub fn resolve(function: &Expr, spec: &WindowSpec) -> Result<Expr> {
    let kind = WindowFunction::of(function)?;
    let ordered = !spec.order_by.is_empty();
    let mut function = function.clone();
    let frame = match (&kind, WindowFunction::is_ranking(&function)) {
        (_, Some(name)) => {
            if !ordered {
                return Err(EngineError::analysis(
                    "WINDOW_FUNCTION_FRAME_NOT_ORDERED",
                    format!("Window function {name} requires the window to be ordered. You need to add an ORDER BY clause. For example: SELECT {name}() OVER (PARTITION BY window_partition ORDER BY window_ordering) FROM table."),
                ));
            }
            let required = if name == "cume_dist" {
                WindowFrame::range(FrameBound::UnboundedPreceding, FrameBound::CurrentRow)
            } else {
                WindowFrame::rows(FrameBound::UnboundedPreceding, FrameBound::CurrentRow)
            };
            frame_must_be(spec.frame, required, &name)?;
            required
        }
        (
            WindowFunction::Offset {
                value,
                offset,
                default,
                ..
            },
            None,
        ) => {
            let name = if *offset < 0 { "lag" } else { "lead" };
            if !ordered {
                return Err(EngineError::analysis(
                    "WINDOW_FUNCTION_FRAME_NOT_ORDERED",
                    format!("Window function {name} requires the window to be ordered. You need to add an ORDER BY clause. For example: SELECT {name}(value_expr) OVER (PARTITION BY window_partition ORDER BY window_ordering) FROM table."),
                ));
            }
            let at = FrameBound::Offset {
                value: *offset,
                sql_preceding: false,
            };
            let required = WindowFrame::rows(at, at);
            frame_must_be(spec.frame, required, name)?;
            if let Expr::Function { args, .. } = &mut function {
                let mut filled = vec![
                    value.clone(),
                    lit(offset.unsigned_abs() as i32),
                    default.clone(),
                ];
                filled.extend(args.iter().skip(3).cloned());
                *args = filled;
            }
            required
        }
        _ => match spec.frame {
            Some(frame) => frame,
            None if ordered => {
                WindowFrame::range(FrameBound::UnboundedPreceding, FrameBound::CurrentRow)
            }
            None => WindowFrame::rows(
                FrameBound::UnboundedPreceding,
                FrameBound::UnboundedFollowing,
            ),
        },
    };
    check_frame(&frame, spec)?;
    Ok(Expr::Window {
        function: Box::new(function),
        spec: Box::new(WindowSpec {
            frame: Some(frame),
            ..spec.clone()
        }),
    })
}

/// Windows grouped by partitioning and order, bottom group first, stacked
/// as Spark's plans stack them: in order of first use, then a window whose
/// partition keys are a strict prefix (in any order) of the one below it
/// moves below it (Spark's TransposeWindow), which decides the row order.
pub fn stacked_groups(windows: Vec<Expr>) -> Vec<(WindowSpec, Vec<Expr>)> {
    let mut groups: Vec<(WindowSpec, Vec<Expr>)> = Vec::new();
    for window in windows {
        let Expr::Window { spec, .. } = &window else {
            continue;
        };
        match groups.iter_mut().find(|(s, _)| s.same_partitioning(spec)) {
            Some((_, members)) => members.push(window),
            None => groups.push(((**spec).clone(), vec![window])),
        }
    }
    let compatible = |parent: &WindowSpec, child: &WindowSpec| {
        parent.partition_by.len() < child.partition_by.len()
            && parent.partition_by.iter().all(|p| {
                child.partition_by[..parent.partition_by.len()]
                    .iter()
                    .any(|c| c.same_as(p))
            })
    };
    let mut moved = true;
    while moved {
        moved = false;
        for i in 1..groups.len() {
            if compatible(&groups[i].0, &groups[i - 1].0) {
                groups.swap(i, i - 1);
                moved = true;
            }
        }
    }
    groups
}

/// `expr` with every window in it resolved (see `resolve`).
pub fn resolve_all(expr: Expr) -> Result<Expr> {
    let mut failure = None;
    let resolved = expr.transform_down(&mut |node| match node {
        Expr::Window { function, spec } => match resolve(function, spec) {
            Ok(window) => Some(window),
            Err(e) => {
                failure.get_or_insert(e);
                Some(node.clone())
            }
        },
        _ => None,
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(resolved),
    }
}

fn frame_must_be(given: Option<WindowFrame>, required: WindowFrame, name: &str) -> Result<()> {
    match given {
        Some(frame) if frame != required => Err(EngineError::analysis(
            "_LEGACY_ERROR_TEMP_1036",
            format!("Window Frame {frame} must match the required frame {required}: {name} cannot take a frame of its own."),
        )),
        _ => Ok(()),
    }
}

fn check_frame(frame: &WindowFrame, spec: &WindowSpec) -> Result<()> {
    if matches!(frame.start, FrameBound::UnboundedFollowing)
        || matches!(frame.end, FrameBound::UnboundedPreceding)
        || WindowFrame::position(frame.start) > WindowFrame::position(frame.end)
    {
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.SPECIFIED_WINDOW_FRAME_WRONG_COMPARISON",
            format!("Cannot resolve \"{frame}\": the lower bound of a window frame must be less than or equal to the upper bound."),
        ));
    }
    if frame.kind == FrameKind::Range && frame.has_offset() && spec.order_by.len() != 1 {
        return Err(EngineError::analysis(
            "DATATYPE_MISMATCH.RANGE_FRAME_MULTI_ORDER",
            format!("Cannot resolve \"{frame}\": a range window frame with value boundaries cannot be used in a window specification with multiple order by expressions: {}.", spec.order_by.len()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, func};

    fn spec(order: bool) -> WindowSpec {
        WindowSpec {
            partition_by: vec![col("k")],
            order_by: if order { vec![col("o")] } else { vec![] },
            frame: None,
        }
    }

    #[test]
    fn names_carry_spark_default_frames() {
        let rn = resolve(&func("row_number", vec![]), &spec(true)).unwrap();
        assert_eq!(
            rn.output_name(),
            "row_number() OVER (PARTITION BY k ORDER BY o ASC NULLS FIRST ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        );
        let sum = resolve(&func("sum", vec![col("v")]), &spec(false)).unwrap();
        assert_eq!(
            sum.output_name(),
            "sum(v) OVER (PARTITION BY k ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
        );
        let lag = resolve(&func("lag", vec![col("v")]), &spec(true)).unwrap();
        assert_eq!(
            lag.output_name(),
            "lag(v, 1, NULL) OVER (PARTITION BY k ORDER BY o ASC NULLS FIRST ROWS BETWEEN -1 FOLLOWING AND -1 FOLLOWING)"
        );
        let rank = resolve(&func("rank", vec![]), &spec(true)).unwrap();
        assert!(rank.output_name().starts_with("RANK() OVER"), "{rank}");
    }

    #[test]
    fn ranking_needs_an_order() {
        let err = resolve(&func("row_number", vec![]), &spec(false))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("[WINDOW_FUNCTION_FRAME_NOT_ORDERED] Window function row_number requires the window to be ordered."),
            "{err}"
        );
    }

    #[test]
    fn frames_print_as_spark_prints_them() {
        let api = WindowFrame::from_api(FrameKind::Rows, -1, 1);
        assert_eq!(api.to_string(), "ROWS BETWEEN -1 FOLLOWING AND 1 FOLLOWING");
        let sql = WindowFrame::range(
            FrameBound::Offset {
                value: -1,
                sql_preceding: true,
            },
            FrameBound::CurrentRow,
        );
        assert_eq!(sql.to_string(), "RANGE BETWEEN 1 PRECEDING AND CURRENT ROW");
    }
}
