//! Percentile aggregates: `percentile_approx` / `approx_percentile` (a value
//! of the input at a rank), `percentile`, `median` and `percentile_cont`
//! (linear interpolation between neighbours, as doubles), `percentile_disc`
//! (the first value whose cumulative distribution reaches the percentage).
//!
//! Spark answers `percentile_approx` from a Greenwald-Khanna sketch whose
//! error is `1 / accuracy` of the rank; its answer is exact while a group
//! holds fewer values than the sketch keeps. Kiln always gives the exact
//! answer at Spark's rank (`ceil(p * n)`), so results agree with Spark on
//! small groups and are within Spark's error bound on large ones.

use polars::prelude::{
    self as pl, Column, DataType as PlType, Field, IdxSize, IntoColumn, IntoLazy, IntoSeries,
    NamedFrom, PolarsResult, Series,
};

use crate::error::{EngineError, Result};
use crate::expr::Expr;
use crate::functions::{expect_args, AggregateLowering};
use crate::lower::{LowerContext, Typed};
use crate::types::DataType;
use crate::value::{java_float_string, Value};

/// Spark's default `accuracy` for `percentile_approx`.
pub const DEFAULT_ACCURACY: i64 = 10_000;

/// Percentages as the call gave them: one, or an array of them.
struct Percentages {
    values: Vec<f64>,
    array: bool,
}

/// Lowers `percentile_approx`, `approx_percentile`, `percentile`, `median`,
/// or `percentile_cont` / `percentile_disc` (whose arguments are the
/// ordering key, the percentage and whether the ordering is descending);
/// `source` holds the arguments as written, for Spark's error text.
pub fn lower(
    name: &str,
    args: Vec<Typed>,
    source: &[Expr],
    ctx: &LowerContext<'_>,
) -> Result<AggregateLowering> {
    let call = Expr::Function {
        name: name.to_string(),
        args: source.to_vec(),
        distinct: false,
        filter: None,
    }
    .to_string();
    match name {
        "median" => {
            expect_args(name, &args, 1, 1)?;
            let median = Percentages {
                values: vec![0.5],
                array: false,
            };
            over_doubles(first(args, name)?, median, ctx, |sorted, ps| {
                interpolate(sorted, ps, false)
            })
        }
        "percentile_cont" | "percentile_disc" => {
            expect_args(name, &args, 3, 3)?;
            let descending = matches!(source.get(2), Some(Expr::Literal(Value::Boolean(true))));
            let percentages = percentages(&args[1], source.get(1), &call)?;
            let input = first(args, name)?;
            let pick = match name {
                "percentile_cont" => interpolate,
                _ => discrete,
            };
            over_doubles(input, percentages, ctx, move |sorted, ps| {
                pick(sorted, ps, descending)
            })
        }
        "percentile" => {
            expect_args(name, &args, 2, 3)?;
            if let Some(frequency) = args.get(2) {
                if constant_f64s(frequency) != Some(vec![1.0]) {
                    return Err(EngineError::spark(
                        "UNSUPPORTED_FEATURE",
                        "Kiln's percentile does not support a frequency other than 1 yet.",
                    ));
                }
            }
            let percentages = percentages(&args[1], source.get(1), &call)?;
            over_doubles(first(args, name)?, percentages, ctx, |sorted, ps| {
                interpolate(sorted, ps, false)
            })
        }
        _ => {
            expect_args(name, &args, 2, 3)?;
            let percentages = percentages(&args[1], source.get(1), &call)?;
            let accuracy = match args.get(2) {
                None => DEFAULT_ACCURACY,
                Some(arg) => accuracy(arg, source.get(2), &call)?,
            };
            let input_text = source.first().map(Expr::to_string).unwrap_or_default();
            let input = first(args, name)?;
            let input = match &input.data_type {
                t if t.is_numeric() => input,
                DataType::Date
                | DataType::Timestamp
                | DataType::TimestampNtz
                | DataType::DayTimeInterval(_) => input,
                DataType::String | DataType::Null => ctx.coerce_to(input, &DataType::Double)?,
                other => return Err(type_mismatch(&call, &input_text, other)),
            };
            Ok(at_rank(input, percentages, accuracy))
        }
    }
}

fn first(args: Vec<Typed>, name: &str) -> Result<Typed> {
    args.into_iter()
        .next()
        .ok_or_else(|| EngineError::Internal(format!("{name} lost its input")))
}

/// `percentile_approx`: the smallest value whose rank reaches `ceil(p * n)`,
/// in the input's own type.
fn at_rank(input: Typed, percentages: Percentages, accuracy: i64) -> AggregateLowering {
    let relative_error = 1.0 / accuracy as f64;
    let element = input.data_type.clone();
    per_group(input.expr, percentages, element, move |sorted, ps| {
        let n = sorted.len();
        let indices: Vec<IdxSize> = ps
            .iter()
            .map(|&p| {
                let index = if p <= relative_error {
                    0
                } else if p >= 1.0 - relative_error {
                    n - 1
                } else {
                    ((p * n as f64).ceil() as usize).clamp(1, n) - 1
                };
                index as IdxSize
            })
            .collect();
        sorted.take_slice(&indices)
    })
}

/// An aggregate over each group's values as doubles, sorted ascending,
/// which `pick` answers the percentages from.
fn over_doubles(
    input: Typed,
    percentages: Percentages,
    ctx: &LowerContext<'_>,
    pick: impl Fn(&Series, &[f64]) -> PolarsResult<Series> + Send + Sync + 'static,
) -> Result<AggregateLowering> {
    let input = ctx.coerce_to(input, &DataType::Double)?;
    Ok(per_group(input.expr, percentages, DataType::Double, pick))
}

/// `percentile`, `median` and `percentile_cont`: linear interpolation at
/// `p * (n - 1)` of the (non-empty) sorted values taken in ascending or
/// descending order.
fn interpolate(sorted: &Series, ps: &[f64], descending: bool) -> PolarsResult<Series> {
    let values = sorted.f64()?;
    let n = sorted.len();
    let at = |i: usize| {
        let i = if descending { n - 1 - i } else { i };
        values.get(i).unwrap_or(f64::NAN)
    };
    let last = (n - 1) as f64;
    let picks: Vec<f64> = ps
        .iter()
        .map(|&p| {
            let position = last * p;
            let (lower, higher) = (position.floor(), position.ceil());
            let (low, high) = (at(lower as usize), at(higher as usize));
            // Spark 4's arithmetic: other forms of the same interpolation
            // round differently in the last digit.
            if lower == higher || low == high {
                low
            } else {
                low + (position - lower) * (high - low)
            }
        })
        .collect();
    Ok(Series::new(sorted.name().clone(), picks))
}

/// `percentile_disc`: the first of the (non-empty) sorted values, taken in
/// ascending or descending order, whose cumulative distribution reaches
/// the percentage.
fn discrete(sorted: &Series, ps: &[f64], descending: bool) -> PolarsResult<Series> {
    let n = sorted.len();
    let indices: Vec<IdxSize> = ps
        .iter()
        .map(|&p| {
            let i = cumulative_rank(p, n) - 1;
            (if descending { n - 1 - i } else { i }) as IdxSize
        })
        .collect();
    sorted.take_slice(&indices)
}

/// The smallest rank `k` in `1..=n` whose cumulative distribution `k / n`
/// reaches `p`, compared as doubles (`p * n` rounds: 0.3 * 10 is above 3).
fn cumulative_rank(p: f64, n: usize) -> usize {
    let reaches = |k: usize| k as f64 / n as f64 >= p;
    let mut k = ((p * n as f64).ceil() as usize).clamp(1, n);
    while k > 1 && reaches(k - 1) {
        k -= 1;
    }
    while k < n && !reaches(k) {
        k += 1;
    }
    k
}

/// An aggregate computed over each group's sorted non-null values by `pick`,
/// which answers the percentages in order; empty groups give null.
fn per_group(
    input: pl::Expr,
    percentages: Percentages,
    element: DataType,
    pick: impl Fn(&Series, &[f64]) -> PolarsResult<Series> + Send + Sync + 'static,
) -> AggregateLowering {
    let array = percentages.array;
    let values = percentages.values;
    let element_type = element.to_polars();
    let output_type = if array {
        PlType::List(Box::new(element_type.clone()))
    } else {
        element_type.clone()
    };
    let field_type = output_type.clone();
    let complete = pl::apply_multiple(
        move |columns: &mut [Column]| {
            let group = columns[0].as_materialized_series();
            let name = group.name().clone();
            let sorted = group.drop_nulls().sort(Default::default())?;
            if sorted.is_empty() {
                return Ok(Column::full_null(name, 1, &output_type));
            }
            let picks = pick(&sorted, &values)?.cast(&element_type)?;
            let out = if array {
                picks.implode()?.into_series()
            } else {
                picks
            };
            Ok(out.with_name(name).into_column())
        },
        [input],
        move |_, fields| Ok(Field::new(fields[0].name().clone(), field_type.clone())),
        true,
    );
    let data_type = if array {
        DataType::Array(Box::new(element), false)
    } else {
        element
    };
    AggregateLowering {
        complete,
        phases: None,
        data_type,
        nullable: true,
    }
}

fn percentages(arg: &Typed, source: Option<&Expr>, call: &str) -> Result<Percentages> {
    let array = matches!(arg.data_type, DataType::Array(..));
    let values = constant_f64s(arg).ok_or_else(|| non_foldable(call, "percentage", source))?;
    if values.is_empty() || values.iter().any(|p| !(0.0..=1.0).contains(p)) {
        let shown: Vec<String> = values
            .iter()
            .map(|p| format!("{}D", java_float_string(*p, false)))
            .collect();
        return Err(out_of_range(
            call,
            &format!(
                "The percentage must be between [0.0, 1.0] (current value = {})",
                shown.join(",")
            ),
        ));
    }
    Ok(Percentages { values, array })
}

fn accuracy(arg: &Typed, source: Option<&Expr>, call: &str) -> Result<i64> {
    let value = constant_f64s(arg)
        .and_then(|v| v.first().copied())
        .ok_or_else(|| non_foldable(call, "accuracy", source))?;
    if value <= 0.0 || value > f64::from(i32::MAX) {
        return Err(out_of_range(
            call,
            &format!("The accuracy must be between (0, 2147483647] (current value = {value}L)"),
        ));
    }
    Ok(value as i64)
}

/// The value of an argument Spark requires to be foldable (literals only),
/// as doubles; `None` when it depends on a column.
fn constant_f64s(arg: &Typed) -> Option<Vec<f64>> {
    let frame = pl::DataFrame::empty_with_height(1)
        .lazy()
        .select([arg.expr.clone().alias("v")])
        .collect()
        .ok()?;
    let column = frame.column("v").ok()?.as_materialized_series().clone();
    let values = match column.dtype() {
        PlType::List(_) => column
            .cast(&PlType::List(Box::new(PlType::Float64)))
            .ok()?
            .list()
            .ok()?
            .get_as_series(0)?,
        _ => column.cast(&PlType::Float64).ok()?,
    };
    values.f64().ok()?.iter().collect()
}

fn non_foldable(call: &str, input: &str, source: Option<&Expr>) -> EngineError {
    let got = source.map(Expr::to_string).unwrap_or_default();
    EngineError::analysis(
        "DATATYPE_MISMATCH.NON_FOLDABLE_INPUT",
        format!(
            "Cannot resolve \"{call}\" due to data type mismatch: the input `{input}` should be a foldable \"DOUBLE\" expression; however, got \"{got}\"."
        ),
    )
}

fn out_of_range(call: &str, detail: &str) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE",
        format!("Cannot resolve \"{call}\" due to data type mismatch: {detail}."),
    )
}

fn type_mismatch(call: &str, input: &str, got: &DataType) -> EngineError {
    EngineError::analysis(
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        format!(
            "Cannot resolve \"{call}\" due to data type mismatch: the first parameter requires the (\"NUMERIC\" or \"DATE\" or \"TIMESTAMP\" or \"TIMESTAMP_NTZ\" or \"ANSI INTERVAL\") type, however \"{}\" has the type \"{}\".",
            input,
            got.simple_string().to_uppercase()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::cumulative_rank;

    #[test]
    fn cumulative_rank_compares_the_distribution_as_spark_does() {
        // 0.3 * 10 rounds above 3, yet 3 / 10 reaches 0.3.
        assert_eq!(cumulative_rank(0.3, 10), 3);
        assert_eq!(cumulative_rank(0.7, 10), 7);
        assert_eq!(cumulative_rank(0.45, 5), 3);
        assert_eq!(cumulative_rank(0.81, 5), 5);
        assert_eq!(cumulative_rank(0.0, 5), 1);
        assert_eq!(cumulative_rank(1.0, 4), 4);
        assert_eq!(cumulative_rank(1.0 / 3.0, 3), 1);
        assert_eq!(cumulative_rank(0.5, 1), 1);
    }
}
