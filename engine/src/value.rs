//! Single values: literals in expressions and the cells of collected rows,
//! with Spark's text form of each (what `show()` and `cast(... as string)` print).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

use crate::types::{DataType, IntervalField, IntervalFields, StructField};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    /// Unscaled value, precision, scale.
    Decimal(i128, u8, u8),
    String(String),
    Binary(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since the epoch, UTC.
    Timestamp(i64),
    /// Microseconds since the epoch of a wall-clock time.
    TimestampNtz(i64),
    /// Microseconds, and the fields it is shown in.
    DayTimeInterval(i64, IntervalFields),
    /// Months, and the fields it is shown in.
    YearMonthInterval(i32, IntervalFields),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<(String, Value)>),
}

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The type a literal of this value has (Spark's `lit` rules).
    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Null,
            Value::Boolean(_) => DataType::Boolean,
            Value::Byte(_) => DataType::Byte,
            Value::Short(_) => DataType::Short,
            Value::Integer(_) => DataType::Integer,
            Value::Long(_) => DataType::Long,
            Value::Float(_) => DataType::Float,
            Value::Double(_) => DataType::Double,
            Value::Decimal(_, p, s) => DataType::Decimal(*p, *s),
            Value::String(_) => DataType::String,
            Value::Binary(_) => DataType::Binary,
            Value::Date(_) => DataType::Date,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::TimestampNtz(_) => DataType::TimestampNtz,
            Value::DayTimeInterval(_, fields) => DataType::DayTimeInterval(*fields),
            Value::YearMonthInterval(_, fields) => DataType::YearMonthInterval(*fields),
            Value::Array(items) => DataType::Array(
                Box::new(
                    items
                        .iter()
                        .find(|v| !v.is_null())
                        .map(Value::data_type)
                        .unwrap_or(DataType::Null),
                ),
                items.iter().any(Value::is_null),
            ),
            Value::Map(entries) => {
                let key = entries
                    .first()
                    .map(|(k, _)| k.data_type())
                    .unwrap_or(DataType::Null);
                let value = entries
                    .iter()
                    .find(|(_, v)| !v.is_null())
                    .map(|(_, v)| v.data_type())
                    .unwrap_or(DataType::Null);
                DataType::Map(Box::new(key), Box::new(value), true)
            }
            Value::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(n, v)| StructField::new(n.clone(), v.data_type(), true))
                    .collect(),
            ),
        }
    }

    /// Spark's `cast(x as string)` of the value, timestamps in the session
    /// time zone. Null is `NULL`; nested in an array, map or struct, `null`.
    pub fn to_spark_string(&self, tz: &Tz) -> String {
        self.render(tz, "null")
    }

    /// The value as `show()` prints it: like a cast to string, except that
    /// Spark 4 shows nulls inside arrays, maps and structs as `NULL` too.
    pub fn to_show_string(&self, tz: &Tz) -> String {
        self.render(tz, "NULL")
    }

    fn render(&self, tz: &Tz, nested_null: &str) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Boolean(b) => b.to_string(),
            Value::Byte(v) => v.to_string(),
            Value::Short(v) => v.to_string(),
            Value::Integer(v) => v.to_string(),
            Value::Long(v) => v.to_string(),
            Value::Float(v) => java_float_string(*v as f64, true),
            Value::Double(v) => java_float_string(*v, false),
            Value::Decimal(unscaled, _, scale) => decimal_string(*unscaled, *scale),
            Value::String(s) => s.clone(),
            Value::Binary(bytes) => format!(
                "[{}]",
                bytes
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Value::Date(days) => date_string(*days),
            Value::Timestamp(micros) => timestamp_string(*micros, Some(tz)),
            Value::TimestampNtz(micros) => timestamp_string(*micros, None),
            Value::YearMonthInterval(months, fields) => year_month_string(*months, *fields),
            Value::DayTimeInterval(micros, fields) => interval_string(*micros, *fields),
            Value::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|v| nested_string(v, tz, nested_null))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!(
                        "{} -> {}",
                        nested_string(k, tz, nested_null),
                        nested_string(v, tz, nested_null)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Struct(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(_, v)| nested_string(v, tz, nested_null))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn nested_string(value: &Value, tz: &Tz, nested_null: &str) -> String {
    match value {
        Value::Null => nested_null.into(),
        other => other.render(tz, nested_null),
    }
}

/// `Double.toString` / `Float.toString` as Java prints them: plain notation
/// for 1e-3 <= |x| < 1e7 (always with a fractional digit), otherwise
/// `d.dddE±n`; the shortest digits that round-trip.
pub fn java_float_string(value: f64, single: bool) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    // Shortest round-trip digits and exponent, from Rust's formatter.
    let sci = if single {
        format!("{:e}", value as f32)
    } else {
        format!("{value:e}")
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    let abs = value.abs();
    if (1e-3..1e7).contains(&abs) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{text}")
    } else {
        let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{}E{}", &digits[..1], rest, exponent)
    }
}

pub fn decimal_string(unscaled: i128, scale: u8) -> String {
    let negative = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let text = if scale == 0 {
        digits
    } else if digits.len() > scale {
        format!(
            "{}.{}",
            &digits[..digits.len() - scale],
            &digits[digits.len() - scale..]
        )
    } else {
        format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
    };
    if negative {
        format!("-{text}")
    } else {
        text
    }
}

pub fn date_string(days: i32) -> String {
    let date = epoch() + chrono::Duration::days(days as i64);
    if date.year() > 9999 {
        format!("+{}", date.format("%Y-%m-%d"))
    } else {
        date.format("%Y-%m-%d").to_string()
    }
}

/// The wall-clock time of an instant (or of a zone-less timestamp).
pub fn wall_clock(micros: i64, tz: Option<&Tz>) -> NaiveDateTime {
    let utc = DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .naive_utc();
    match tz {
        Some(tz) => tz.from_utc_datetime(&utc).naive_local(),
        None => utc,
    }
}

/// `2021-01-01 00:33:44`, with the fraction only when it is not zero.
pub fn timestamp_string(micros: i64, tz: Option<&Tz>) -> String {
    let wall = wall_clock(micros, tz);
    let mut text = wall.format("%Y-%m-%d %H:%M:%S").to_string();
    let fraction = wall.nanosecond() / 1000;
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text
}

/// `INTERVAL '0 00:33:44' DAY TO SECOND`, `INTERVAL '90' MINUTE`: a
/// day-time interval as Spark shows it in its fields.
pub fn interval_string(micros: i64, fields: IntervalFields) -> String {
    use IntervalField::{Day, Hour, Minute, Second};
    let sign = if micros < 0 { "-" } else { "" };
    let mut rest = micros.unsigned_abs();
    const HOUR: u64 = 3_600_000_000;
    const MINUTE: u64 = 60_000_000;
    // Seconds as Spark's BigDecimal prints them: two whole digits at least,
    // the fraction without trailing zeros.
    let seconds = |micros: u64| {
        let mut text = format!("{:02}", micros / 1_000_000);
        let fraction = micros % 1_000_000;
        if fraction != 0 {
            text.push_str(format!(".{fraction:06}").trim_end_matches('0'));
        }
        text
    };
    // The leading field holds all of the value above it, unbounded.
    let mut text = match fields.start {
        Day => {
            let days = rest / MICROS_PER_DAY as u64;
            rest %= MICROS_PER_DAY as u64;
            days.to_string()
        }
        Hour => {
            let hours = rest / HOUR;
            rest %= HOUR;
            format!("{hours:02}")
        }
        Minute => {
            let minutes = rest / MINUTE;
            rest %= MINUTE;
            format!("{minutes:02}")
        }
        _ => seconds(rest),
    };
    if fields.start < Hour && Hour <= fields.end {
        text.push_str(&format!(" {:02}", rest / HOUR));
        rest %= HOUR;
    }
    if fields.start < Minute && Minute <= fields.end {
        text.push_str(&format!(":{:02}", rest / MINUTE));
        rest %= MINUTE;
    }
    if fields.start < Second && Second <= fields.end {
        text.push(':');
        text.push_str(&seconds(rest));
    }
    format!(
        "INTERVAL '{sign}{text}' {}",
        fields.sql().to_ascii_uppercase()
    )
}

/// A year-month interval as Spark shows it: `INTERVAL '1-2' YEAR TO
/// MONTH`, `INTERVAL '14' MONTH`.
pub fn year_month_string(months: i32, fields: IntervalFields) -> String {
    let sign = if months < 0 { "-" } else { "" };
    let total = months.unsigned_abs();
    let text = match (fields.start, fields.end) {
        (IntervalField::Year, IntervalField::Year) => format!("{sign}{}", total / 12),
        (IntervalField::Month, _) => months.to_string(),
        _ => format!("{sign}{}-{}", total / 12, total % 12),
    };
    format!("INTERVAL '{text}' {}", fields.sql().to_ascii_uppercase())
}

/// `add_months` on days since the epoch: the same day of the month, or the
/// month's last day when it has fewer days (Spark's rule).
pub fn add_months(days: i32, months: i32) -> Option<i32> {
    use chrono::{Months, NaiveDate};
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let date = epoch.checked_add_signed(chrono::Duration::days(i64::from(days)))?;
    let moved = if months >= 0 {
        date.checked_add_months(Months::new(months as u32))?
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs()))?
    };
    i32::try_from((moved - epoch).num_days()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        let cases = [
            (1.0, "1.0"),
            (1.0e10, "1.0E10"),
            (953.6833333333333, "953.6833333333333"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (12345678.0, "1.2345678E7"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (value, text) in cases {
            assert_eq!(java_float_string(value, false), text, "{value}");
        }
        assert_eq!(java_float_string(0.1f32 as f64, true), "0.1");
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(decimal_string(1820, 2), "18.20");
        assert_eq!(decimal_string(-5, 3), "-0.005");
        assert_eq!(decimal_string(42, 0), "42");
    }

    #[test]
    fn timestamps_show_a_fraction_only_when_present() {
        let utc: Tz = "UTC".parse().unwrap();
        let micros = 1_609_461_224 * MICROS_PER_SECOND; // 2021-01-01 00:33:44 UTC
        assert_eq!(
            Value::Timestamp(micros).to_spark_string(&utc),
            "2021-01-01 00:33:44"
        );
        assert_eq!(
            Value::Timestamp(micros + 500_000).to_spark_string(&utc),
            "2021-01-01 00:33:44.5"
        );
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            Value::Timestamp(micros).to_spark_string(&ny),
            "2020-12-31 19:33:44"
        );
        assert_eq!(Value::Date(18676).to_spark_string(&utc), "2021-02-18");
    }

    #[test]
    fn intervals_and_nested_values() {
        assert_eq!(
            interval_string(2024 * MICROS_PER_SECOND, IntervalFields::DAY_TO_SECOND),
            "INTERVAL '0 00:33:44' DAY TO SECOND"
        );
        // Spark 4: INTERVAL '90' MINUTE, INTERVAL '01:30' HOUR TO MINUTE,
        // INTERVAL '-03' HOUR, INTERVAL '59' DAY, INTERVAL '14' MONTH.
        let fields = |s, e| IntervalFields::new(s, e);
        use IntervalField::*;
        let minutes = 90 * 60 * MICROS_PER_SECOND;
        assert_eq!(
            interval_string(minutes, fields(Minute, Minute)),
            "INTERVAL '90' MINUTE"
        );
        assert_eq!(
            interval_string(minutes, fields(Hour, Minute)),
            "INTERVAL '01:30' HOUR TO MINUTE"
        );
        assert_eq!(
            interval_string(-3 * 3_600 * MICROS_PER_SECOND, fields(Hour, Hour)),
            "INTERVAL '-03' HOUR"
        );
        assert_eq!(
            interval_string(59 * MICROS_PER_DAY, IntervalFields::DAY),
            "INTERVAL '59' DAY"
        );
        assert_eq!(
            interval_string(4_500_000, fields(Minute, Second)),
            "INTERVAL '00:04.5' MINUTE TO SECOND"
        );
        assert_eq!(
            year_month_string(14, fields(Month, Month)),
            "INTERVAL '14' MONTH"
        );
        assert_eq!(
            year_month_string(-14, IntervalFields::YEAR_TO_MONTH),
            "INTERVAL '-1-2' YEAR TO MONTH"
        );
        let utc: Tz = "UTC".parse().unwrap();
        let array = Value::Array(vec![Value::Integer(1), Value::Null]);
        assert_eq!(array.to_spark_string(&utc), "[1, null]");
        let map = Value::Map(vec![(Value::String("a".into()), Value::Long(1))]);
        assert_eq!(map.to_spark_string(&utc), "{a -> 1}");
    }
}
