//! Zero-copy hand-over between arrow-rs (Parquet IO) and polars (compute)
//! through the Arrow C Data Interface, with Spark's physical types on the
//! arrow side (UTC microsecond timestamps, `Utf8` strings).

use std::sync::Arc;

use arrow::array::{make_array, Array as _, ArrayRef};
use arrow::datatypes::{
    DataType as ArrowType, Field as ArrowField, Schema as ArrowSchema, TimeUnit,
};
use arrow::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow::record_batch::RecordBatch;
use polars::prelude::{Column, CompatLevel, DataFrame, IntoColumn, Series};

use crate::error::{EngineError, Result};
use crate::exec::from_polars;
use crate::plan::PlanSchema;
use crate::types::DataType;

/// An arrow-rs array as a polars series (no copy of the buffers).
pub fn series_from_arrow(name: &str, array: &ArrayRef) -> Result<Series> {
    let (ffi_array, ffi_schema) = to_ffi(&array.to_data())?;
    // SAFETY: both crates implement the same `#[repr(C)]` C Data Interface
    // structs; ownership moves to polars, which calls the release callback.
    let (pl_array, pl_schema): (
        polars_arrow::ffi::ArrowArray,
        polars_arrow::ffi::ArrowSchema,
    ) = unsafe {
        (
            std::mem::transmute::<FFI_ArrowArray, polars_arrow::ffi::ArrowArray>(ffi_array),
            std::mem::transmute::<FFI_ArrowSchema, polars_arrow::ffi::ArrowSchema>(ffi_schema),
        )
    };
    let field =
        unsafe { polars_arrow::ffi::import_field_from_c(&pl_schema) }.map_err(from_polars)?;
    let imported =
        unsafe { polars_arrow::ffi::import_array_from_c(pl_array, field.dtype().clone()) }
            .map_err(from_polars)?;
    Series::try_from((polars::prelude::PlSmallStr::from(name), imported)).map_err(from_polars)
}

/// A polars series as an arrow-rs array of the type Spark writes for `data_type`.
pub fn series_to_arrow(series: &Series, data_type: &DataType) -> Result<ArrayRef> {
    let series = series.rechunk();
    // Strings leave polars as views and are copied once, by arrow's cast
    // below; the oldest layout would copy them into large strings first.
    let exported = series.to_arrow(0, CompatLevel::newest());
    let field = polars_arrow::datatypes::Field::new("".into(), exported.dtype().clone(), true);
    let pl_schema = polars_arrow::ffi::export_field_to_c(&field);
    let pl_array = polars_arrow::ffi::export_array_to_c(exported);
    // SAFETY: see `series_from_arrow`; here ownership moves to arrow-rs.
    let (ffi_array, ffi_schema) = unsafe {
        (
            std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(pl_array),
            std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(pl_schema),
        )
    };
    let data = unsafe { from_ffi(ffi_array, &ffi_schema) }?;
    let array = make_array(data);
    let target = arrow_type(data_type);
    if array.data_type() == &target {
        return Ok(array);
    }
    if let (
        ArrowType::Timestamp(TimeUnit::Microsecond, None),
        ArrowType::Timestamp(TimeUnit::Microsecond, Some(_)),
    ) = (array.data_type(), &target)
    {
        // Polars' timestamps are UTC instants already, so the zone is only a
        // label; arrow's cast would convert every value from wall-clock time
        // in that zone, a slow identity for UTC.
        let relabelled = array.to_data().into_builder().data_type(target).build()?;
        return Ok(make_array(relabelled));
    }
    Ok(arrow::compute::cast(&array, &target)?)
}

/// The arrow type Kiln writes for a Spark type.
pub fn arrow_type(data_type: &DataType) -> ArrowType {
    match data_type {
        DataType::Null => ArrowType::Null,
        DataType::String => ArrowType::Utf8,
        DataType::Byte => ArrowType::Int8,
        DataType::Short => ArrowType::Int16,
        DataType::Integer | DataType::YearMonthInterval(_) => ArrowType::Int32,
        DataType::Long => ArrowType::Int64,
        DataType::Float => ArrowType::Float32,
        DataType::Double => ArrowType::Float64,
        DataType::Decimal(p, s) => ArrowType::Decimal128(*p, *s as i8),
        DataType::Boolean => ArrowType::Boolean,
        DataType::Date => ArrowType::Date32,
        DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::TimestampNtz => ArrowType::Timestamp(TimeUnit::Microsecond, None),
        DataType::DayTimeInterval(_) => ArrowType::Duration(TimeUnit::Microsecond),
        DataType::Binary => ArrowType::Binary,
        DataType::Array(e, contains_null) => ArrowType::List(Arc::new(ArrowField::new(
            "element",
            arrow_type(e),
            *contains_null,
        ))),
        DataType::Map(k, v, value_null) => ArrowType::Map(
            Arc::new(ArrowField::new(
                "key_value",
                ArrowType::Struct(
                    vec![
                        ArrowField::new("key", arrow_type(k), false),
                        ArrowField::new("value", arrow_type(v), *value_null),
                    ]
                    .into(),
                ),
                false,
            )),
            false,
        ),
        DataType::Struct(fields) => ArrowType::Struct(
            fields
                .iter()
                .map(|f| ArrowField::new(f.name.as_str(), arrow_type(&f.data_type), f.nullable))
                .collect::<Vec<_>>()
                .into(),
        ),
    }
}

/// The Spark type of a Parquet column read through arrow.
pub fn spark_type(arrow: &ArrowType) -> Result<DataType> {
    Ok(match arrow {
        ArrowType::Null => DataType::Null,
        ArrowType::Boolean => DataType::Boolean,
        ArrowType::Int8 => DataType::Byte,
        ArrowType::Int16 | ArrowType::UInt8 => DataType::Short,
        ArrowType::Int32 | ArrowType::UInt16 => DataType::Integer,
        ArrowType::Int64 | ArrowType::UInt32 => DataType::Long,
        ArrowType::UInt64 => DataType::Decimal(20, 0),
        ArrowType::Float16 | ArrowType::Float32 => DataType::Float,
        ArrowType::Float64 => DataType::Double,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => DataType::String,
        ArrowType::Binary
        | ArrowType::LargeBinary
        | ArrowType::BinaryView
        | ArrowType::FixedSizeBinary(_) => DataType::Binary,
        ArrowType::Date32 | ArrowType::Date64 => DataType::Date,
        ArrowType::Timestamp(_, Some(_)) => DataType::Timestamp,
        // Spark reads Parquet timestamps not adjusted to UTC as TIMESTAMP_NTZ, INT96 as TIMESTAMP.
        ArrowType::Timestamp(TimeUnit::Nanosecond, None) => DataType::Timestamp,
        ArrowType::Timestamp(_, None) => DataType::TimestampNtz,
        ArrowType::Duration(_) => {
            DataType::DayTimeInterval(crate::types::IntervalFields::DAY_TO_SECOND)
        }
        ArrowType::Decimal128(p, s) | ArrowType::Decimal256(p, s) => {
            DataType::Decimal(*p, (*s).max(0) as u8)
        }
        ArrowType::List(f) | ArrowType::LargeList(f) | ArrowType::FixedSizeList(f, _) => {
            DataType::Array(Box::new(spark_type(f.data_type())?), f.is_nullable())
        }
        ArrowType::Map(entries, _) => match entries.data_type() {
            ArrowType::Struct(fields) if fields.len() == 2 => DataType::Map(
                Box::new(spark_type(fields[0].data_type())?),
                Box::new(spark_type(fields[1].data_type())?),
                fields[1].is_nullable(),
            ),
            other => return Err(unsupported(other)),
        },
        ArrowType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    Ok(crate::types::StructField::new(
                        f.name().as_str(),
                        spark_type(f.data_type())?,
                        f.is_nullable(),
                    ))
                })
                .collect::<Result<_>>()?,
        ),
        ArrowType::Dictionary(_, value) => spark_type(value)?,
        other => return Err(unsupported(other)),
    })
}

fn unsupported(t: &ArrowType) -> EngineError {
    EngineError::spark(
        "UNSUPPORTED_DATATYPE",
        format!("Parquet column type {t} is not supported."),
    )
}

/// A record batch as a polars frame with the given physical column names,
/// each column converted to the polars layout of its Spark type.
pub fn batch_to_frame(batch: &RecordBatch, columns: &[(String, DataType)]) -> Result<DataFrame> {
    let mut out: Vec<Column> = Vec::with_capacity(columns.len());
    for ((name, data_type), array) in columns.iter().zip(batch.columns()) {
        let array = match array.data_type() {
            // INT96 and millisecond timestamps become microseconds, zone dropped (UTC instants).
            ArrowType::Timestamp(unit, _) if *unit != TimeUnit::Microsecond => {
                arrow::compute::cast(array, &ArrowType::Timestamp(TimeUnit::Microsecond, None))?
            }
            ArrowType::Dictionary(_, value) => arrow::compute::cast(array, value)?,
            _ => array.clone(),
        };
        let series = series_from_arrow(name, &array)?;
        let series = series.cast(&data_type.to_polars()).map_err(from_polars)?;
        out.push(series.into_column());
    }
    DataFrame::new(batch.num_rows(), out).map_err(from_polars)
}

/// A polars frame as a record batch with Spark's Parquet types and user-facing names.
pub fn frame_to_batch(
    frame: &DataFrame,
    schema: &PlanSchema,
    skip: &[String],
) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for attr in &schema.attrs {
        if skip
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&attr.field.name))
        {
            continue;
        }
        let column = frame.column(&attr.physical).map_err(from_polars)?;
        let array = series_to_arrow(column.as_materialized_series(), &attr.field.data_type)?;
        fields.push(ArrowField::new(
            attr.field.name.as_str(),
            array.data_type().clone(),
            true,
        ));
        arrays.push(array);
    }
    let schema = Arc::new(ArrowSchema::new(fields));
    if arrays.is_empty() {
        return Ok(RecordBatch::try_new_with_options(
            schema,
            arrays,
            &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(frame.height())),
        )?);
    }
    Ok(RecordBatch::try_new(schema, arrays)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn round_trips_through_the_c_data_interface() {
        let strings: ArrayRef = Arc::new(StringArray::from(vec![Some("a"), None, Some("ccc")]));
        let series = series_from_arrow("s", &strings).unwrap();
        assert_eq!(series.len(), 3);
        assert_eq!(series.null_count(), 1);
        let back = series_to_arrow(&series, &DataType::String).unwrap();
        assert_eq!(back.data_type(), &ArrowType::Utf8);
        assert_eq!(back.len(), 3);
        let longs: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let series = series_from_arrow("n", &longs).unwrap();
        assert_eq!(series.sum::<i64>().unwrap(), 6);
    }

    #[test]
    fn timestamps_are_labelled_utc_without_changing_an_instant() {
        use arrow::array::TimestampMicrosecondArray;
        use polars::prelude::NamedFrom;
        let micros = vec![Some(-1i64), None, Some(1_615_687_200_000_001)];
        let series = Series::new("t".into(), micros.clone())
            .cast(&DataType::Timestamp.to_polars())
            .unwrap();
        let array = series_to_arrow(&series, &DataType::Timestamp).unwrap();
        assert_eq!(array.data_type(), &arrow_type(&DataType::Timestamp));
        let values = array
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(values.iter().collect::<Vec<_>>(), micros);
    }
}
