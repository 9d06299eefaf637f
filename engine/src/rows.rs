//! Partition data (polars frames) read back as Spark values, row by row.

use polars::prelude::{AnyValue, Column, DataFrame};

use crate::error::{EngineError, Result};
use crate::plan::PlanSchema;
use crate::types::{DataType, IntervalFields};
use crate::value::Value;

/// A collected row: values in the schema's column order.
pub type Row = Vec<Value>;

pub(crate) fn value_of(any: AnyValue<'_>, data_type: &DataType) -> Result<Value> {
    Ok(match (any, data_type) {
        (AnyValue::Null, _) => Value::Null,
        (AnyValue::Boolean(b), _) => Value::Boolean(b),
        (AnyValue::Int8(v), _) => Value::Byte(v),
        (AnyValue::Int16(v), _) => Value::Short(v),
        (AnyValue::Int32(v), DataType::YearMonthInterval(fields)) => {
            Value::YearMonthInterval(v, *fields)
        }
        (AnyValue::Int32(v), _) => Value::Integer(v),
        (AnyValue::Int64(v), _) => Value::Long(v),
        (AnyValue::UInt8(v), _) => Value::Short(v as i16),
        (AnyValue::UInt16(v), _) => Value::Integer(v as i32),
        (AnyValue::UInt32(v), _) => Value::Long(v as i64),
        (AnyValue::UInt64(v), _) => Value::Long(v as i64),
        (AnyValue::Float32(v), _) => Value::Float(v),
        (AnyValue::Float64(v), _) => Value::Double(v),
        (AnyValue::Decimal(v, p, s), _) => Value::Decimal(v, p as u8, s as u8),
        (AnyValue::String(s), _) => Value::String(s.to_string()),
        (AnyValue::StringOwned(s), _) => Value::String(s.to_string()),
        (AnyValue::Binary(b), _) => Value::Binary(b.to_vec()),
        (AnyValue::BinaryOwned(b), _) => Value::Binary(b),
        (AnyValue::Date(d), _) => Value::Date(d),
        (AnyValue::Datetime(v, unit, _), t) | (AnyValue::DatetimeOwned(v, unit, _), t) => {
            let micros = match unit {
                polars::prelude::TimeUnit::Nanoseconds => v.div_euclid(1000),
                polars::prelude::TimeUnit::Microseconds => v,
                polars::prelude::TimeUnit::Milliseconds => v * 1000,
            };
            if *t == DataType::TimestampNtz {
                Value::TimestampNtz(micros)
            } else {
                Value::Timestamp(micros)
            }
        }
        (AnyValue::Duration(v, unit), t) => Value::DayTimeInterval(
            match unit {
                polars::prelude::TimeUnit::Nanoseconds => v / 1000,
                polars::prelude::TimeUnit::Microseconds => v,
                polars::prelude::TimeUnit::Milliseconds => v * 1000,
            },
            match t {
                DataType::DayTimeInterval(fields) => *fields,
                _ => IntervalFields::DAY_TO_SECOND,
            },
        ),
        (AnyValue::List(series), t) => {
            let element = match t {
                DataType::Array(e, _) => (**e).clone(),
                DataType::Map(k, v, _) => DataType::Struct(vec![
                    crate::types::StructField::new("key", (**k).clone(), false),
                    crate::types::StructField::new("value", (**v).clone(), true),
                ]),
                _ => DataType::from_polars(series.dtype())?,
            };
            let items = series
                .iter()
                .map(|v| value_of(v, &element))
                .collect::<Result<Vec<_>>>()?;
            match t {
                DataType::Map(..) => Value::Map(
                    items
                        .into_iter()
                        .map(|entry| match entry {
                            Value::Struct(mut kv) if kv.len() == 2 => {
                                let v = kv.pop().map(|(_, v)| v).unwrap_or(Value::Null);
                                let k = kv.pop().map(|(_, k)| k).unwrap_or(Value::Null);
                                (k, v)
                            }
                            other => (other, Value::Null),
                        })
                        .collect(),
                ),
                _ => Value::Array(items),
            }
        }
        (any @ AnyValue::Struct(_, _, fields), t) => {
            let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
            let dtypes: Vec<polars::prelude::DataType> =
                fields.iter().map(|f| f.dtype().clone()).collect();
            let mut out = Vec::new();
            for (i, value) in any._iter_struct_av().enumerate() {
                let spark = match t {
                    DataType::Struct(f) if i < f.len() => f[i].data_type.clone(),
                    _ => DataType::from_polars(&dtypes[i])?,
                };
                out.push((names[i].clone(), value_of(value.into_static(), &spark)?));
            }
            Value::Struct(out)
        }
        (AnyValue::StructOwned(payload), t) => {
            let (values, fields) = *payload;
            let spark_fields = match t {
                DataType::Struct(f) => f.clone(),
                _ => Vec::new(),
            };
            let mut out = Vec::new();
            for (i, (value, field)) in values.into_iter().zip(fields).enumerate() {
                let spark = spark_fields
                    .get(i)
                    .map(|f| f.data_type.clone())
                    .unwrap_or(DataType::from_polars(field.dtype())?);
                out.push((field.name().to_string(), value_of(value, &spark)?));
            }
            Value::Struct(out)
        }
        (other, t) => {
            return Err(EngineError::Internal(format!(
                "cannot read a {} value from {other:?}",
                t.simple_string()
            )))
        }
    })
}

/// The rows of one partition, columns in the schema's order.
pub fn frame_rows(frame: &DataFrame, schema: &PlanSchema) -> Result<Vec<Row>> {
    let columns: Vec<&Column> = schema
        .attrs
        .iter()
        .map(|a| frame.column(&a.physical))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let mut row = Vec::with_capacity(columns.len());
        for (column, attr) in columns.iter().zip(&schema.attrs) {
            row.push(value_of(column.get(i)?, &attr.field.data_type)?);
        }
        rows.push(row);
    }
    Ok(rows)
}
