//! Interval literals: the text of `INTERVAL 1 DAY 2 HOURS`,
//! `INTERVAL '1 day'` or `INTERVAL '1 2:03:04' DAY TO SECOND` read into
//! Spark's year-month (months) or day-time (microseconds) interval.

use sqlparser::ast::{self, DateTimeField};

use crate::error::{EngineError, Result};
use crate::types::{IntervalField as Field, IntervalFields};
use crate::value::{Value, MICROS_PER_DAY, MICROS_PER_SECOND};

/// The value of an interval literal as the dialect leaves it: a text with
/// its units (no fields), or a value and its unit range.
pub fn interval_literal(interval: &ast::Interval) -> Result<Value> {
    let text = match interval.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            ast::Value::Number(n, _) => n.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    };
    match (&interval.leading_field, &interval.last_field) {
        (Some(from), Some(to)) => unit_range(&text, field(from)?, field(to)?),
        (Some(unit), None) => units(&format!("{text} {unit}")),
        _ => units(&text),
    }
}

fn field(field: &DateTimeField) -> Result<Field> {
    Ok(match field {
        DateTimeField::Year | DateTimeField::Years => Field::Year,
        DateTimeField::Month | DateTimeField::Months => Field::Month,
        DateTimeField::Day | DateTimeField::Days => Field::Day,
        DateTimeField::Hour | DateTimeField::Hours => Field::Hour,
        DateTimeField::Minute | DateTimeField::Minutes => Field::Minute,
        DateTimeField::Second | DateTimeField::Seconds => Field::Second,
        other => {
            return Err(EngineError::spark(
                "INVALID_INTERVAL_FORMAT.UNSUPPORTED_FROM_TO_EXPRESSION",
                format!("Cannot support an interval range in {other}."),
            ))
        }
    })
}

/// Spark's `INVALID_INTERVAL_FORMAT.*` error (`class`) for `text`.
fn format_error(class: &'static str, text: &str, detail: &str) -> EngineError {
    EngineError::spark(
        class,
        format!("Error parsing '{text}' to interval. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. {detail}"),
    )
}

/// `'1-2' YEAR TO MONTH`, `'1 2:03:04.5' DAY TO SECOND` and the other
/// ranges: one number per field, the first unbounded, the rest within
/// their unit (hours below 24, minutes and seconds below 60).
fn unit_range(text: &str, from: Field, to: Field) -> Result<Value> {
    let year_month = from <= Field::Month;
    if from >= to || year_month != (to <= Field::Month) {
        return Err(format_error(
            "INVALID_INTERVAL_FORMAT.UNSUPPORTED_FROM_TO_EXPRESSION",
            text,
            &format!(
                "Cannot support (interval '{text}' {} to {}) expression.",
                from.name(),
                to.name()
            ),
        ));
    }
    let pattern = range_pattern(from, to);
    let invalid = || {
        let kind = if year_month { "year-month" } else { "day-time" };
        let mismatch = format!(
            "Interval string does not match {kind} format of `{pattern}`, `INTERVAL [+|-]'{pattern}' {} TO {}` when cast to interval {} to {}: {text}.",
            from.name().to_uppercase(),
            to.name().to_uppercase(),
            from.name(),
            to.name()
        );
        if year_month {
            format_error(
                "INVALID_INTERVAL_FORMAT.UNMATCHED_FORMAT_STRING",
                text,
                &mismatch,
            )
        } else {
            format_error(
                "INVALID_INTERVAL_FORMAT.UNMATCHED_FORMAT_STRING_WITH_NOTICE",
                text,
                &format!("{mismatch} Set \"spark.sql.legacy.fromDayTimeString.enabled\" to \"true\" to restore the behavior before Spark 3.0."),
            )
        }
    };
    let out_of_range = |field: Field, value: i64, limit: i64| {
        if year_month {
            format_error(
                "INVALID_INTERVAL_FORMAT.INTERVAL_PARSING",
                text,
                "Error parsing interval year-month string.",
            )
        } else {
            EngineError::spark(
                "_LEGACY_ERROR_TEMP_0063",
                format!(
                    "requirement failed: {} {value} outside range [0, {}]",
                    field.name(),
                    limit - 1
                ),
            )
        }
    };
    let trimmed = text.trim();
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let parts: Vec<&str> = if from == Field::Year {
        body.split('-').collect()
    } else if from == Field::Day {
        match body.split_once(' ') {
            Some((days, rest)) => std::iter::once(days).chain(rest.split(':')).collect(),
            None => vec![body],
        }
    } else {
        body.split(':').collect()
    };
    let fields: Vec<Field> = [
        Field::Year,
        Field::Month,
        Field::Day,
        Field::Hour,
        Field::Minute,
        Field::Second,
    ]
    .into_iter()
    .filter(|f| *f >= from && *f <= to)
    .collect();
    if parts.len() != fields.len() {
        return Err(invalid());
    }
    let mut months: i64 = 0;
    let mut micros: i64 = 0;
    for (i, (part, field)) in parts.iter().zip(&fields).enumerate() {
        let whole = |s: &str| -> Result<i64> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            s.parse::<i64>().map_err(|_| invalid())
        };
        let bounded = |value: i64, limit: i64| -> Result<i64> {
            if i > 0 && value >= limit {
                return Err(out_of_range(*field, value, limit));
            }
            Ok(value)
        };
        match field {
            Field::Year => months += whole(part)? * 12,
            Field::Month => months += bounded(whole(part)?, 12)?,
            Field::Day => micros += whole(part)? * MICROS_PER_DAY,
            Field::Hour => micros += bounded(whole(part)?, 24)? * 3_600 * MICROS_PER_SECOND,
            Field::Minute => micros += bounded(whole(part)?, 60)? * 60 * MICROS_PER_SECOND,
            Field::Second => {
                let (seconds, fraction) = part.split_once('.').unwrap_or((part, ""));
                if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                let digits = format!("{fraction:0<6}");
                let fraction_micros: i64 = digits[..6].parse().map_err(|_| invalid())?;
                micros += bounded(whole(seconds)?, 60)? * MICROS_PER_SECOND + fraction_micros;
            }
        }
    }
    let sign = if negative { -1 } else { 1 };
    let fields = IntervalFields::new(from, to);
    if from <= Field::Month {
        let months = i32::try_from(sign * months).map_err(|_| invalid())?;
        Ok(Value::YearMonthInterval(months, fields))
    } else {
        Ok(Value::DayTimeInterval(sign * micros, fields))
    }
}

fn range_pattern(from: Field, to: Field) -> &'static str {
    match (from, to) {
        (Field::Year, _) => "[+|-]y-m",
        (Field::Day, Field::Hour) => "[+|-]d h",
        (Field::Day, Field::Minute) => "[+|-]d h:m",
        (Field::Day, _) => "[+|-]d h:m:s.n",
        (Field::Hour, Field::Minute) => "[+|-]h:m",
        (Field::Hour, _) => "[+|-]h:m:s.n",
        _ => "[+|-]m:s.n",
    }
}

/// `1 day 2 hours`, `-3 minutes`, `1.5 seconds`: value and unit pairs, all
/// year-month or all day-time.
fn units(text: &str) -> Result<Value> {
    let invalid = || {
        EngineError::spark(
            "INVALID_TYPED_LITERAL",
            format!("The value of the typed literal \"INTERVAL\" is invalid: '{text}'."),
        )
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return Err(invalid());
    }
    let mut months: Option<i64> = None;
    let mut micros: Option<i64> = None;
    // The largest and smallest units written: the type's fields.
    let mut fields: Option<IntervalFields> = None;
    let mut spans = |field: Field| {
        let one = IntervalFields::new(field, field);
        fields = Some(fields.map_or(one, |f| f.widen(one)));
    };
    for pair in words.chunks(2) {
        let (amount, written) = (pair[0], pair[1].to_ascii_lowercase());
        let unit = written.strip_suffix('s').unwrap_or(&written);
        if unit != "second" && amount.contains('.') {
            return Err(format_error(
                "INVALID_INTERVAL_FORMAT.INVALID_FRACTION",
                &format!(" {} {}", pair[0], pair[1]),
                &format!("{written} cannot have fractional part."),
            ));
        }
        let per_month = match unit {
            "year" => Some((12, Field::Year)),
            "month" => Some((1, Field::Month)),
            _ => None,
        };
        if let Some((per, field)) = per_month {
            spans(field);
            let whole: i64 = amount.parse().map_err(|_| invalid())?;
            months = Some(months.unwrap_or(0) + whole * per);
            continue;
        }
        let (per, field) = match unit {
            "week" => (7 * MICROS_PER_DAY, Field::Day),
            "day" => (MICROS_PER_DAY, Field::Day),
            "hour" => (3_600 * MICROS_PER_SECOND, Field::Hour),
            "minute" => (60 * MICROS_PER_SECOND, Field::Minute),
            "second" => (MICROS_PER_SECOND, Field::Second),
            "millisecond" => (1_000, Field::Second),
            "microsecond" => (1, Field::Second),
            _ => return Err(invalid()),
        };
        spans(field);
        let value = scaled(amount, per).ok_or_else(invalid)?;
        micros = Some(micros.unwrap_or(0) + value);
    }
    let fields = fields.ok_or_else(invalid)?;
    match (months, micros) {
        (Some(months), None) => Ok(Value::YearMonthInterval(
            i32::try_from(months).map_err(|_| invalid())?,
            fields,
        )),
        (None, Some(micros)) => Ok(Value::DayTimeInterval(micros, fields)),
        _ => Err(EngineError::spark(
            "_LEGACY_ERROR_TEMP_0029",
            format!("Cannot mix year-month and day-time fields: INTERVAL {text}."),
        )),
    }
}

/// `amount` (a decimal number, possibly signed and fractional) times `per`
/// microseconds, exactly to the microsecond.
fn scaled(amount: &str, per: i64) -> Option<i64> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount.strip_prefix('+').unwrap_or(amount)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(per)?;
    let mut scale = per;
    for digit in fraction.bytes() {
        if scale % 10 != 0 {
            break;
        }
        scale /= 10;
        value = value.checked_add(i64::from(digit - b'0') * scale)?;
    }
    Some(if negative { -value } else { value })
}
