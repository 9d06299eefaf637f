//! Percentile aggregates: `percentile_approx` / `approx_percentile` (a value
//! of the input at a rank), `percentile` and `median` (linear interpolation
//! between neighbours, as doubles).
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
use crate::value::java_float_string;

/// Spark's default `accuracy` for `percentile_approx`.
pub const DEFAULT_ACCURACY: i64 = 10_000;

/// Percentages as the call gave them: one, or an array of them.
struct Percentages {
    values: Vec<f64>,
    array: bool,
}

/// Lowers `percentile_approx`, `approx_percentile`, `percentile` or `median`;
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
            let input = first(args, name)?;
            interpolated(
                input,
                Percentages {
                    values: vec![0.5],
                    array: false,
                },
                ctx,
            )
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
            interpolated(first(args, name)?, percentages, ctx)
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
                | DataType::DayTimeInterval => input,
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

/// `percentile` and `median`: linear interpolation at `p * (n - 1)`, as doubles.
fn interpolated(
    input: Typed,
    percentages: Percentages,
    ctx: &LowerContext<'_>,
) -> Result<AggregateLowering> {
    let input = ctx.coerce_to(input, &DataType::Double)?;
    Ok(per_group(
        input.expr,
        percentages,
        DataType::Double,
        |sorted, ps| {
            let values = sorted.f64()?;
            let at = |i: usize| values.get(i).unwrap_or(f64::NAN);
            let last = (sorted.len() - 1) as f64;
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
        },
    ))
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
