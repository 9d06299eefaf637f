//! `round` and `bround` as Spark computes them: exactly on decimals and
//! integers, and on a double by its shortest decimal digits (Spark rounds
//! `BigDecimal(Double.toString(x))`, so `round(1.005D, 2)` is 1.01), to any
//! number of places, negative ones included (`round(1250, -2)` is 1300);
//! and `floor`/`ceil` of a decimal, exactly, as a `decimal(p - s + 1, 0)`.

use polars::prelude::{
    self as pl, ChunkApply, Column, DataType as PlType, Field, Int128Chunked, IntoColumn,
    IntoSeries, PolarsResult,
};

use crate::types::DataType;

/// How a value halfway between two results rounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    /// `round`: away from zero.
    Up,
    /// `bround`: to the even neighbour.
    Even,
}

/// The type `round(x, scale)` has for an `x` of type `input`.
pub fn result_type(input: &DataType, scale: i32) -> DataType {
    match input {
        DataType::Decimal(p, s) => {
            let new_scale = (scale.max(0) as u8).min(*s);
            DataType::Decimal((p - s + new_scale + 1).min(38), new_scale)
        }
        DataType::String => DataType::Double,
        other => other.clone(),
    }
}

/// `input` (of type `from`, numeric) rounded to `scale` places; the result
/// has `result_type(from, scale)`.
pub fn round(input: pl::Expr, from: &DataType, scale: i32, half: Half) -> pl::Expr {
    let to = result_type(from, scale);
    if from.is_integral() && scale >= 0 {
        return input;
    }
    let from = from.clone();
    let target = to.to_polars();
    input.map(
        move |column: Column| round_column(&column, &from, &to, scale, half),
        move |_, field: &Field| Ok(Field::new(field.name().clone(), target.clone())),
    )
}

fn round_column(
    column: &Column,
    from: &DataType,
    to: &DataType,
    scale: i32,
    half: Half,
) -> PolarsResult<Column> {
    let name = column.name().clone();
    match (from, to) {
        (DataType::Decimal(_, s), DataType::Decimal(p, new_scale)) => {
            let unscaled = column
                .as_materialized_series()
                .decimal()?
                .physical()
                .clone();
            let drop = i32::from(*s) - scale;
            let grow = i32::from(*new_scale) - scale;
            let rounded: Int128Chunked = if drop <= 0 {
                unscaled
            } else {
                unscaled.apply(|v| {
                    let v = v?;
                    let q = divided(v, drop, half)?;
                    q.checked_mul(10i128.checked_pow(grow as u32)?)
                })
            };
            Ok(rounded
                .into_decimal_unchecked(usize::from(*p), usize::from(*new_scale))
                .into_column()
                .with_name(name))
        }
        (t, _) if t.is_integral() => {
            let values = column.cast(&PlType::Int64)?;
            let drop = -scale;
            let rounded: Int128Chunked = values
                .i64()?
                .iter()
                .map(|v| {
                    let q = divided(i128::from(v?), drop, half)?;
                    q.checked_mul(10i128.checked_pow(drop as u32)?)
                })
                .collect();
            rounded
                .into_series()
                .into_column()
                .with_name(name)
                .cast(&t.to_polars())
        }
        _ => {
            let values = column.cast(&PlType::Float64)?;
            let single = matches!(from, DataType::Float);
            let rounded = values
                .f64()?
                .apply_values(|v| round_double(v, single, scale, half));
            rounded
                .into_series()
                .into_column()
                .with_name(name)
                .cast(&to.to_polars())
        }
    }
}

/// The type `floor`/`ceil` of a `decimal(precision, scale)` has.
pub fn floor_ceil_type(precision: u8, scale: u8) -> DataType {
    DataType::Decimal((precision - scale + 1).min(38), 0)
}

/// `floor` (or `ceil` when `up`) of a `decimal(_, scale)` column, exactly.
pub fn floor_ceil_decimal(input: pl::Expr, precision: u8, scale: u8, up: bool) -> pl::Expr {
    let whole_digits = usize::from((precision - scale + 1).min(38));
    let target = floor_ceil_type(precision, scale).to_polars();
    let divisor = 10i128.pow(u32::from(scale));
    input.map(
        move |column: Column| {
            let unscaled = column
                .as_materialized_series()
                .decimal()?
                .physical()
                .clone();
            let whole: Int128Chunked = unscaled.apply_values(|v| {
                if up {
                    -(-v).div_euclid(divisor)
                } else {
                    v.div_euclid(divisor)
                }
            });
            Ok(whole
                .with_name(column.name().clone())
                .into_decimal_unchecked(whole_digits, 0)
                .into_column())
        },
        move |_, field: &Field| Ok(Field::new(field.name().clone(), target.clone())),
    )
}

/// `value / 10^digits` rounded to an integer; `None` on overflow.
fn divided(value: i128, digits: i32, half: Half) -> Option<i128> {
    if digits <= 0 {
        return Some(value);
    }
    let Some(divisor) = 10i128.checked_pow(digits as u32) else {
        return Some(0);
    };
    let (q, r) = (value / divisor, value % divisor);
    let twice = r.unsigned_abs() * 2;
    let divisor = divisor.unsigned_abs();
    let up = twice > divisor || (twice == divisor && (half == Half::Up || q % 2 != 0));
    Some(if up { q + value.signum() } else { q })
}

/// A finite double's shortest round-trip decimal digits `d0 d1 d2 ...`,
/// meaning `d0.d1d2... × 10^exponent`, with its sign: the digits of Java's
/// `Double.toString` (`Float.toString` when `single`).
pub(crate) fn shortest_digits(value: f64, single: bool) -> Option<(bool, Vec<u8>, i32)> {
    if !value.is_finite() {
        return None;
    }
    let sci = if single {
        format!("{:e}", value as f32)
    } else {
        format!("{value:e}")
    };
    let (mantissa, exponent) = sci.split_once('e')?;
    let digits = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    Some((mantissa.starts_with('-'), digits, exponent.parse().ok()?))
}

/// A double rounded by its shortest decimal digits.
fn round_double(value: f64, single: bool, scale: i32, half: Half) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    let Some((negative, digits, exponent)) = shortest_digits(value, single) else {
        return value;
    };
    // Digits d0.d1d2... × 10^exponent; those at or above 10^-scale stay.
    let kept = exponent + 1 + scale;
    if kept >= digits.len() as i32 {
        return value;
    }
    let zero = if negative { -0.0 } else { 0.0 };
    if kept < 0 {
        return zero;
    }
    let kept = kept as usize;
    let head = digits[..kept]
        .iter()
        .fold(0i128, |acc, &d| acc * 10 + i128::from(d));
    let rest = &digits[kept..];
    let up = match rest[0].cmp(&5) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            rest[1..].iter().any(|&d| d != 0) || half == Half::Up || head % 2 != 0
        }
    };
    let rounded = head + i128::from(up);
    if rounded == 0 {
        return zero;
    }
    let sign = if negative { "-" } else { "" };
    format!("{sign}{rounded}e{}", -scale)
        .parse()
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_round_by_their_decimal_digits() {
        assert_eq!(round_double(1.005, false, 2, Half::Up), 1.01);
        assert_eq!(round_double(0.125, false, 2, Half::Even), 0.12);
        assert_eq!(round_double(2.5, false, 0, Half::Up), 3.0);
        assert_eq!(round_double(-2.5, false, 0, Half::Up), -3.0);
        assert_eq!(round_double(2.5, false, 0, Half::Even), 2.0);
        assert_eq!(round_double(1234.5, false, -2, Half::Up), 1200.0);
        assert_eq!(round_double(1350.0, false, -2, Half::Up), 1400.0);
        assert_eq!(round_double(1250.0, false, -2, Half::Even), 1200.0);
        assert_eq!(round_double(0.004, false, 2, Half::Up), 0.0);
        assert_eq!(round_double(49.0, false, -3, Half::Up), 0.0);
        assert_eq!(round_double(18.2049, false, 2, Half::Up), 18.2);
    }

    #[test]
    fn integers_and_decimals_round_exactly() {
        assert_eq!(divided(1250, 2, Half::Up), Some(13));
        assert_eq!(divided(1250, 2, Half::Even), Some(12));
        assert_eq!(divided(-1350, 2, Half::Even), Some(-14));
        assert_eq!(divided(-325, 2, Half::Up), Some(-3));
        assert_eq!(divided(7, 40, Half::Up), Some(0));
    }
}
