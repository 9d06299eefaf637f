//! Casts between numeric types as Spark casts them: toward zero into an
//! integer, half up into fewer decimal places (a double by its shortest
//! decimal digits, as Java's `BigDecimal(Double.toString)`), and under ANSI
//! rules an error naming the first value that does not fit
//! (`CAST_OVERFLOW`, `NUMERIC_VALUE_OUT_OF_RANGE`). Polars' own casts round
//! decimals half to even and fail with their own text.

use polars::chunked_array::cast::CastOptions;
use polars::prelude::{
    self as pl, AnyValue, ChunkApply, Column, DataType as PlType, Field, Int128Chunked, IntoColumn,
    IntoSeries, PolarsResult,
};

use crate::decimal::rounded_half_up;
use crate::rounding::shortest_digits;
use crate::types::DataType;
use crate::value::java_float_string;

/// `source` (of numeric type `from`) as numeric type `to`; out-of-range
/// values fail under `ansi` and are null without it.
pub fn numeric_cast(source: pl::Expr, from: &DataType, to: &DataType, ansi: bool) -> pl::Expr {
    if !(to.is_integral() || matches!(to, DataType::Decimal(..))) || widens(from, to) {
        // Into a float or double, or a type holding every value of the
        // source, every value converts as it is.
        return source.cast(to.to_polars());
    }
    if let Some(folded) = folded_literal(&source, from, to, ansi) {
        return folded;
    }
    let (from, to) = (from.clone(), to.clone());
    let target = to.to_polars();
    source.map(
        move |column: Column| {
            let converted = convert(&column, &from, &to)?;
            if ansi {
                check_fits(&column, &converted, &from, &to)?;
            }
            Ok(converted)
        },
        move |_, field: &Field| Ok(Field::new(field.name().clone(), target.clone())),
    )
}

/// Whether every value of `from` is exactly a value of `to` (integer
/// widening, a decimal with room for the digits on both sides).
fn widens(from: &DataType, to: &DataType) -> bool {
    let digits = |t: &DataType| match t {
        DataType::Byte => Some((3, 0)),
        DataType::Short => Some((5, 0)),
        DataType::Integer => Some((10, 0)),
        DataType::Long => Some((19, 0)),
        DataType::Decimal(p, s) => Some((*p - *s, *s)),
        _ => None,
    };
    match (from, to) {
        (f, t) if f.is_integral() && t.is_integral() => digits(f) <= digits(t),
        _ => match (digits(from), digits(to)) {
            (Some((whole, fraction)), Some((to_whole, to_fraction))) => {
                matches!(to, DataType::Decimal(..)) && whole <= to_whole && fraction <= to_fraction
            }
            _ => false,
        },
    }
}

/// A literal converted now (`1 - l_discount` casts its `1` to a decimal),
/// so polars sees a constant; `None` when it does not fit, so the error
/// comes when the query runs, as Spark's does.
fn folded_literal(
    source: &pl::Expr,
    from: &DataType,
    to: &DataType,
    ansi: bool,
) -> Option<pl::Expr> {
    let pl::Expr::Literal(value) = source else {
        return None;
    };
    let column = value.clone().to_any_value().and_then(|v| {
        pl::Series::from_any_values_and_dtype("".into(), &[v], &from.to_polars(), true).ok()
    })?;
    let column = column.into_column();
    let converted = convert(&column, from, to).ok()?;
    if ansi && check_fits(&column, &converted, from, to).is_err() {
        return None;
    }
    let value = converted.get(0).ok()?.into_static();
    Some(pl::lit(pl::Scalar::new(to.to_polars(), value)))
}

/// The conversion, with null where a value does not fit.
fn convert(column: &Column, from: &DataType, to: &DataType) -> PolarsResult<Column> {
    let target = to.to_polars();
    let non_strict = |c: &Column| c.cast_with_options(&target, CastOptions::NonStrict);
    match (from, to) {
        (DataType::Decimal(_, scale), t) if t.is_integral() => {
            let divisor = 10i128.pow(u32::from(*scale));
            let whole: Int128Chunked = unscaled(column)?.apply_values(|v| v / divisor);
            non_strict(&whole.into_series().into_column())
        }
        (DataType::Decimal(_, from_scale), DataType::Decimal(precision, scale))
            if scale < from_scale =>
        {
            let divisor = 10i128.pow(u32::from(from_scale - scale));
            let limit = 10i128.pow(u32::from(*precision));
            let rounded: Int128Chunked = unscaled(column)?.apply(|v| {
                v.map(|v| rounded_half_up(v, divisor))
                    .filter(|v| v.abs() < limit)
            });
            Ok(decimal_column(rounded, *precision, *scale, column))
        }
        (DataType::Float | DataType::Double, DataType::Decimal(precision, scale)) => {
            let limit = 10i128.pow(u32::from(*precision));
            let values = column.cast(&PlType::Float64)?;
            let rounded: Int128Chunked = values
                .f64()?
                .iter()
                .map(|v| {
                    let single = matches!(from, DataType::Float);
                    v.and_then(|v| shortest_decimal(v, single, *scale))
                        .filter(|v| v.abs() < limit)
                })
                .collect();
            Ok(decimal_column(rounded, *precision, *scale, column))
        }
        _ => non_strict(column),
    }
}

fn unscaled(column: &Column) -> PolarsResult<Int128Chunked> {
    Ok(column
        .as_materialized_series()
        .decimal()?
        .physical()
        .clone())
}

fn decimal_column(values: Int128Chunked, precision: u8, scale: u8, like: &Column) -> Column {
    values
        .into_decimal_unchecked(usize::from(precision), usize::from(scale))
        .into_column()
        .with_name(like.name().clone())
}

/// A double's shortest round-trip digits as an unscaled decimal of `scale`
/// places, rounded half up; `None` when it is not finite or has more than
/// 38 digits.
fn shortest_decimal(value: f64, single: bool, scale: u8) -> Option<i128> {
    let (negative, digits, exponent) = shortest_digits(value, single)?;
    // The digits are d.ddd × 10^exponent; keep those above 10^-scale.
    let kept = (exponent + 1 + i32::from(scale)).max(0) as usize;
    let mut unscaled: i128 = 0;
    for i in 0..kept {
        let digit = i128::from(digits.get(i).copied().unwrap_or(0));
        unscaled = unscaled.checked_mul(10)?.checked_add(digit)?;
    }
    if digits.get(kept).is_some_and(|&d| d >= 5) {
        unscaled = unscaled.checked_add(1)?;
    }
    Some(if negative { -unscaled } else { unscaled })
}

/// Fails on the first value that converted to null.
fn check_fits(
    source: &Column,
    converted: &Column,
    from: &DataType,
    to: &DataType,
) -> PolarsResult<()> {
    if converted.null_count() == source.null_count() {
        return Ok(());
    }
    let lost = source.is_not_null() & converted.is_null();
    let Some(index) = lost.iter().position(|b| b == Some(true)) else {
        return Ok(());
    };
    let value = source.get(index)?;
    let message = match to {
        DataType::Decimal(precision, scale) => format!(
            "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  {} cannot be represented as Decimal({precision}, {scale}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead.",
            plain_value(&value)
        ),
        _ => format!(
            "[CAST_OVERFLOW] The value {} of the type \"{}\" cannot be cast to \"{}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead.",
            sql_literal(&value),
            from.simple_string().to_uppercase(),
            to.simple_string().to_uppercase()
        ),
    };
    Err(pl::PolarsError::ComputeError(message.into()))
}

/// A value as Spark writes it in an error: typed literal suffixes, Java's
/// double text.
fn sql_literal(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Int8(v) => format!("{v}Y"),
        AnyValue::Int16(v) => format!("{v}S"),
        AnyValue::Int64(v) => format!("{v}L"),
        AnyValue::Float64(v) if v.is_finite() => format!("{}D", java_float_string(*v, false)),
        AnyValue::Float32(v) if v.is_finite() => {
            format!("{}F", java_float_string(f64::from(*v), true))
        }
        AnyValue::Float64(v) => java_float_string(*v, false),
        AnyValue::Float32(v) => java_float_string(f64::from(*v), true),
        AnyValue::Decimal(..) => format!("{}BD", plain_value(value)),
        other => other.to_string(),
    }
}

/// A number's digits without a type suffix (decimals in full).
fn plain_value(value: &AnyValue<'_>) -> String {
    match value {
        AnyValue::Decimal(unscaled, _, scale) => {
            let digits = unscaled.unsigned_abs().to_string();
            let sign = if *unscaled < 0 { "-" } else { "" };
            if *scale == 0 {
                return format!("{sign}{digits}");
            }
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (whole, fraction) = padded.split_at(padded.len() - scale);
            format!("{sign}{whole}.{fraction}")
        }
        AnyValue::Float64(v) => format!("{v}"),
        AnyValue::Float32(v) => format!("{v}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_round_half_up_by_their_shortest_digits() {
        assert_eq!(shortest_decimal(0.125, false, 2), Some(13));
        assert_eq!(shortest_decimal(1.005, false, 2), Some(101));
        assert_eq!(shortest_decimal(-2.5, false, 0), Some(-3));
        assert_eq!(shortest_decimal(1234.5678, false, 2), Some(123_457));
        assert_eq!(shortest_decimal(0.0004, false, 2), Some(0));
        assert_eq!(shortest_decimal(0.005, false, 2), Some(1));
        assert_eq!(shortest_decimal(1e40, false, 2), None);
        assert_eq!(shortest_decimal(f64::NAN, false, 2), None);
    }

    #[test]
    fn widening_casts_need_no_check() {
        assert!(widens(&DataType::Integer, &DataType::Long));
        assert!(!widens(&DataType::Long, &DataType::Integer));
        assert!(widens(&DataType::Decimal(15, 2), &DataType::Decimal(25, 2)));
        assert!(!widens(
            &DataType::Decimal(15, 2),
            &DataType::Decimal(25, 1)
        ));
        assert!(widens(&DataType::Integer, &DataType::Decimal(10, 0)));
        assert!(!widens(&DataType::Long, &DataType::Decimal(10, 0)));
        assert!(!widens(&DataType::Double, &DataType::Decimal(38, 10)));
    }

    #[test]
    fn values_print_as_spark_prints_them_in_errors() {
        assert_eq!(sql_literal(&AnyValue::Int64(3_000_000_000)), "3000000000L");
        assert_eq!(sql_literal(&AnyValue::Float64(3.0e10)), "3.0E10D");
        assert_eq!(sql_literal(&AnyValue::Float64(f64::NAN)), "NaN");
        assert_eq!(
            sql_literal(&AnyValue::Decimal(30_000_000_005, 11, 1)),
            "3000000000.5BD"
        );
        assert_eq!(plain_value(&AnyValue::Decimal(-5, 4, 3)), "-0.005");
    }
}
