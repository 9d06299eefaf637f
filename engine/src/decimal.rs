//! Exact decimal arithmetic as Spark computes it, on polars' 128-bit
//! decimals: a product at the sum of its operands' scales, and an average
//! rounded half up. Polars' own decimal product keeps the larger scale and
//! rounds half to even, and a detour through doubles loses digits past 15.

use polars::prelude::{
    self as pl, Column, DataType as PlType, Field, Int128Chunked, Int64Chunked, IntoColumn,
    PolarsResult, Series,
};
use polars_core::chunked_array::ops::arity::{
    broadcast_binary_elementwise, broadcast_binary_elementwise_values,
};

/// A decimal operator computed on unscaled values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalOp {
    Add,
    Subtract,
    Multiply,
    /// `%`: the remainder with the dividend's sign, at the larger scale.
    Remainder,
}

/// `left op right` as Spark's `decimal(precision, scale)` for operands of
/// scales `scales`. The exact result has the larger scale (+, -) or the sum
/// of the scales (*); when Spark's 38-digit cap gives fewer, it is rounded
/// half up to them. A result past `precision` digits is an error under
/// ANSI rules and null without them.
pub fn arithmetic(
    op: DecimalOp,
    left: pl::Expr,
    right: pl::Expr,
    scales: (u8, u8),
    precision: u8,
    scale: u8,
    ansi: bool,
) -> pl::Expr {
    let exact_scale = match op {
        DecimalOp::Multiply => scales.0 + scales.1,
        DecimalOp::Add | DecimalOp::Subtract | DecimalOp::Remainder => scales.0.max(scales.1),
    };
    let power = |digits: u8| 10i128.pow(u32::from(digits));
    // Operands are brought to the exact scale before adding.
    let (left_shift, right_shift) = match op {
        DecimalOp::Multiply => (1, 1),
        _ => (power(exact_scale - scales.0), power(exact_scale - scales.1)),
    };
    let dropped = power(exact_scale.saturating_sub(scale));
    let limit = power(precision);
    let (precision, scale) = (usize::from(precision), usize::from(scale));
    decimal_function(left, right, precision, scale, move |columns| {
        let (a, b) = (unscaled(&columns[0])?, unscaled(&columns[1])?);
        // A result type under 38 digits is Spark's uncapped one, which
        // holds every result of operands within their precisions:
        // wrapping then only touches what null slots hold.
        if op == DecimalOp::Remainder {
            return remainders(&a, &b, left_shift, right_shift, ansi);
        }
        Ok(if dropped == 1 && precision < 38 {
            broadcast_binary_elementwise_values(&a, &b, |x: i128, y: i128| match op {
                DecimalOp::Multiply => x.wrapping_mul(y),
                DecimalOp::Add => x
                    .wrapping_mul(left_shift)
                    .wrapping_add(y.wrapping_mul(right_shift)),
                DecimalOp::Subtract | DecimalOp::Remainder => x
                    .wrapping_mul(left_shift)
                    .wrapping_sub(y.wrapping_mul(right_shift)),
            })
        } else {
            let mut overflowed = false;
            let values =
                broadcast_binary_elementwise(&a, &b, |x: Option<i128>, y: Option<i128>| {
                    let (x, y) = (x?, y?);
                    let exact = match op {
                        DecimalOp::Multiply => x.checked_mul(y),
                        DecimalOp::Add => x
                            .checked_mul(left_shift)
                            .zip(y.checked_mul(right_shift))
                            .and_then(|(x, y)| x.checked_add(y)),
                        DecimalOp::Subtract | DecimalOp::Remainder => x
                            .checked_mul(left_shift)
                            .zip(y.checked_mul(right_shift))
                            .and_then(|(x, y)| x.checked_sub(y)),
                    };
                    let value = exact
                        .map(|v| rounded_half_up(v, dropped))
                        .filter(|v| v.unsigned_abs() < limit.unsigned_abs());
                    overflowed |= value.is_none();
                    value
                });
            if overflowed && ansi {
                return Err(pl::PolarsError::ComputeError(
                        format!(
                            "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION] A value cannot be represented as Decimal({precision}, {scale}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead."
                        )
                        .into(),
                    ));
            }
            values
        })
    })
}

/// Unscaled remainders of operands brought to one scale: Java's
/// `BigDecimal.remainder` (the dividend's sign), exact since it is smaller
/// than both operands. A zero divisor fails under ANSI rules, else is null.
fn remainders(
    a: &Int128Chunked,
    b: &Int128Chunked,
    left_shift: i128,
    right_shift: i128,
    ansi: bool,
) -> PolarsResult<Int128Chunked> {
    let mut by_zero = false;
    let values = broadcast_binary_elementwise(a, b, |x: Option<i128>, y: Option<i128>| {
        let (x, y) = (x?.checked_mul(left_shift)?, y?.checked_mul(right_shift)?);
        if y == 0 {
            by_zero = true;
            return None;
        }
        Some(x % y)
    });
    if by_zero && ansi {
        return Err(pl::PolarsError::ComputeError(
            format!(
                "[REMAINDER_BY_ZERO] {}",
                crate::lower::REMAINDER_BY_ZERO_MESSAGE
            )
            .into(),
        ));
    }
    Ok(values)
}

/// `value / divisor` rounded half away from zero.
pub(crate) fn rounded_half_up(value: i128, divisor: i128) -> i128 {
    if divisor == 1 {
        return value;
    }
    let (quotient, remainder) = (value / divisor, value % divisor);
    if remainder.unsigned_abs() * 2 >= divisor.unsigned_abs() {
        quotient + value.signum()
    } else {
        quotient
    }
}

/// `sum / count` as `decimal(precision, scale)`, where `sum` is a decimal
/// of a smaller scale: rounded half up (away from zero) as Spark's average
/// is; null for no rows, or when the mean does not fit.
pub fn mean(sum: pl::Expr, count: pl::Expr, precision: u8, scale: u8) -> pl::Expr {
    let (precision, scale) = (usize::from(precision), usize::from(scale));
    decimal_function(sum, count, precision, scale, move |columns| {
        let sum_scale = match columns[0].dtype() {
            PlType::Decimal(_, s) => *s,
            other => {
                return Err(pl::PolarsError::ComputeError(
                    format!("a decimal mean needs a decimal sum, not {other}").into(),
                ));
            }
        };
        let sums = unscaled(&columns[0])?;
        let counts_column = columns[1].cast(&PlType::Int64)?;
        let counts: Int64Chunked = single_or_all(&counts_column).i64()?.clone();
        let shift = 10i128.pow(scale.saturating_sub(sum_scale) as u32);
        let limit = 10i128.checked_pow(precision as u32).unwrap_or(i128::MAX);
        Ok(broadcast_binary_elementwise(
            &sums,
            &counts,
            |sum, count| {
                divided_half_up(sum?, count?, shift).filter(|v| v.unsigned_abs() < limit as u128)
            },
        ))
    })
}

/// An elementwise function of two columns whose unscaled result `compute`
/// gives, as a column of `decimal(precision, scale)` named after the first.
fn decimal_function(
    left: pl::Expr,
    right: pl::Expr,
    precision: usize,
    scale: usize,
    compute: impl Fn(&[Column]) -> PolarsResult<Int128Chunked> + Send + Sync + 'static,
) -> pl::Expr {
    left.map_many(
        move |columns: &mut [Column]| {
            let height = columns[0].len().max(columns[1].len());
            let column = compute(columns)?
                .into_decimal_unchecked(precision, scale)
                .into_column()
                .with_name(columns[0].name().clone());
            Ok(stretched(column, height))
        },
        &[right],
        move |_, fields| {
            Ok(Field::new(
                fields[0].name().clone(),
                PlType::Decimal(precision, scale),
            ))
        },
    )
}

/// `round_half_up(sum * shift / count)` without overflowing on the way.
fn divided_half_up(sum: i128, count: i64, shift: i128) -> Option<i128> {
    if count <= 0 {
        return None;
    }
    let count = i128::from(count);
    let (whole, rest) = (sum / count, sum % count);
    // |rest| < count < 2^63 and shift ≤ 10^38 / 10^s is small here, but
    // checked all the same.
    let fraction = rounded_half_up(rest.checked_mul(shift)?, count);
    whole.checked_mul(shift)?.checked_add(fraction)
}

/// A decimal column's unscaled values; a constant as a single value, which
/// the arithmetic broadcasts.
fn unscaled(column: &Column) -> PolarsResult<Int128Chunked> {
    Ok(single_or_all(column).decimal()?.physical().clone())
}

fn single_or_all(column: &Column) -> Series {
    match column {
        Column::Scalar(scalar) if !scalar.is_empty() => scalar.as_single_value_series(),
        _ => column.as_materialized_series().clone(),
    }
}

/// Two constants make one value; the expression's frame wants `height`.
fn stretched(column: Column, height: usize) -> Column {
    if column.len() == 1 && height != 1 {
        column.new_from_index(0, height)
    } else {
        column
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{df, IntoLazy, NewChunkedArray};

    fn decimals(name: &str, values: &[Option<i128>], precision: usize, scale: usize) -> Column {
        Int128Chunked::from_slice_options(name.into(), values)
            .into_decimal_unchecked(precision, scale)
            .into_column()
    }

    fn unscaled_of(frame: &pl::DataFrame, name: &str) -> Vec<Option<i128>> {
        frame
            .column(name)
            .and_then(|c| c.decimal().map(|d| d.physical().clone()))
            .map(|values| values.iter().collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_product_keeps_every_digit_at_the_sum_of_the_scales() {
        // 12345.67 * 0.96 = 11851.8432; 9999999999999.99 * 9999999999999.99
        // needs 30 digits, more than a double holds.
        let frame = pl::DataFrame::new(
            3,
            vec![
                decimals(
                    "a",
                    &[Some(1_234_567), Some(999_999_999_999_999), None],
                    15,
                    2,
                ),
                decimals("b", &[Some(96), Some(999_999_999_999_999), Some(1)], 15, 2),
            ],
        )
        .and_then(|f| {
            f.lazy()
                .select([arithmetic(
                    DecimalOp::Multiply,
                    pl::col("a"),
                    pl::col("b"),
                    (2, 2),
                    31,
                    4,
                    true,
                )
                .alias("p")])
                .collect()
        })
        .unwrap_or_default();
        assert_eq!(
            frame.column("p").map(|c| c.dtype().clone()).ok(),
            Some(PlType::Decimal(31, 4))
        );
        assert_eq!(
            unscaled_of(&frame, "p"),
            vec![
                Some(118_518_432),
                Some(999_999_999_999_999i128 * 999_999_999_999_999),
                None
            ]
        );
    }

    #[test]
    fn a_product_with_a_constant_broadcasts_it() {
        let frame = df!("x" => [1i64, 2, 3])
            .and_then(|f| {
                f.lazy()
                    .with_column(pl::col("x").cast(PlType::Decimal(10, 2)))
                    .select([arithmetic(
                        DecimalOp::Multiply,
                        pl::col("x"),
                        pl::lit(3).cast(PlType::Decimal(1, 0)),
                        (2, 0),
                        12,
                        2,
                        true,
                    )
                    .alias("p")])
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            unscaled_of(&frame, "p"),
            vec![Some(300), Some(600), Some(900)]
        );
    }

    fn combined(
        op: DecimalOp,
        a: Column,
        b: Column,
        precision: u8,
        scale: u8,
        ansi: bool,
    ) -> pl::PolarsResult<pl::DataFrame> {
        let scales = |c: &Column| match c.dtype() {
            PlType::Decimal(_, s) => *s as u8,
            _ => 0,
        };
        let scales = (scales(&a), scales(&b));
        pl::DataFrame::new(
            a.len(),
            vec![a.with_name("a".into()), b.with_name("b".into())],
        )?
        .lazy()
        .select([arithmetic(
            op,
            pl::col("a"),
            pl::col("b"),
            scales,
            precision,
            scale,
            ansi,
        )
        .alias("r")])
        .collect()
    }

    #[test]
    fn sums_and_differences_align_the_scales() {
        // 1.5 + 0.25 = 1.75; 1 - 0.07 = 0.93; null stays null.
        let frame = combined(
            DecimalOp::Add,
            decimals("a", &[Some(15), Some(10), None], 5, 1),
            decimals("b", &[Some(25), Some(-7), Some(1)], 5, 2),
            7,
            2,
            true,
        )
        .unwrap_or_default();
        assert_eq!(unscaled_of(&frame, "r"), vec![Some(175), Some(93), None]);
        let frame = combined(
            DecimalOp::Subtract,
            decimals("a", &[Some(1)], 1, 0),
            decimals("b", &[Some(7)], 15, 2),
            16,
            2,
            true,
        )
        .unwrap_or_default();
        assert_eq!(unscaled_of(&frame, "r"), vec![Some(93)]);
    }

    #[test]
    fn a_capped_product_rounds_half_up_and_overflow_follows_ansi() {
        // decimal(38,7) * decimal(38,0) is decimal(38,6) in Spark: the exact
        // 1.0000005 * 1 rounds half up (away from zero) to 1.000001.
        let frame = combined(
            DecimalOp::Multiply,
            decimals("a", &[Some(10_000_005), Some(-10_000_005)], 38, 7),
            decimals("b", &[Some(1), Some(1)], 38, 0),
            38,
            6,
            true,
        )
        .unwrap_or_default();
        assert_eq!(
            unscaled_of(&frame, "r"),
            vec![Some(1_000_001), Some(-1_000_001)]
        );
        let huge = || decimals("a", &[Some(10i128.pow(30)), Some(2)], 38, 0);
        let factor = || decimals("b", &[Some(10i128.pow(10)), Some(3)], 38, 0);
        assert!(combined(DecimalOp::Multiply, huge(), factor(), 38, 0, true).is_err());
        let frame =
            combined(DecimalOp::Multiply, huge(), factor(), 38, 0, false).unwrap_or_default();
        assert_eq!(unscaled_of(&frame, "r"), vec![None, Some(6)]);
    }

    #[test]
    fn a_mean_rounds_half_away_from_zero() {
        // 0.05 / 2 = 0.025 -> 0.03 at scale 2; -0.05 / 2 -> -0.03; 1 / 3 -> 0.33.
        assert_eq!(divided_half_up(5, 2, 1), Some(3));
        assert_eq!(divided_half_up(-5, 2, 1), Some(-3));
        assert_eq!(divided_half_up(100, 3, 1), Some(33));
        assert_eq!(divided_half_up(7, 0, 10), None);
        // 2.00 / 3 at scale 6 (shift 10^4): 0.666667.
        assert_eq!(divided_half_up(200, 3, 10_000), Some(666_667));
        let frame = pl::DataFrame::new(
            3,
            vec![
                decimals("s", &[Some(200), Some(-200), None], 38, 2),
                Column::new("n".into(), [3i64, 3, 0]),
            ],
        )
        .and_then(|f| {
            f.lazy()
                .select([mean(pl::col("s"), pl::col("n"), 38, 6).alias("m")])
                .collect()
        })
        .unwrap_or_default();
        assert_eq!(
            unscaled_of(&frame, "m"),
            vec![Some(666_667), Some(-666_667), None]
        );
    }
}
