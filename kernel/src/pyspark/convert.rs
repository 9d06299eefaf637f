//! Values and types crossing between Python and the engine: Spark's schema
//! JSON (the form `pyspark.sql.types` reads and writes), Python values as
//! engine literals and cells, collected cells as Python objects (`Row`,
//! `datetime`, `Decimal`, ...), as PySpark converts them.

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{json, Value as Json};

use kiln_engine::types::{DataType, IntervalFields, Schema, StructField};
use kiln_engine::value::Value;

use super::errors::{type_error, type_name, value_error};

/// Days from 0001-01-01 (Python's ordinal 1) to 1970-01-01.
const EPOCH_ORDINAL: i64 = 719_163;

/// Spark's JSON form of a data type (`"integer"`, `{"type": "struct", ...}`).
pub fn type_json(data_type: &DataType) -> Json {
    match data_type {
        DataType::Array(element, contains_null) => json!({
            "type": "array", "elementType": type_json(element), "containsNull": contains_null,
        }),
        DataType::Map(key, value, contains_null) => json!({
            "type": "map", "keyType": type_json(key), "valueType": type_json(value),
            "valueContainsNull": contains_null,
        }),
        DataType::Struct(fields) => fields_json(fields),
        other => Json::String(other.tree_name()),
    }
}

fn fields_json(fields: &[StructField]) -> Json {
    json!({"type": "struct", "fields": fields.iter().map(|f| json!({
        "name": f.name, "type": type_json(&f.data_type), "nullable": f.nullable, "metadata": {},
    })).collect::<Vec<_>>()})
}

pub fn schema_json(schema: &Schema) -> String {
    fields_json(&schema.fields).to_string()
}

/// The data type a JSON form names.
pub fn json_type(value: &Json) -> Result<DataType, String> {
    match value {
        Json::String(name) => match name.as_str() {
            "integer" => Ok(DataType::Integer),
            "long" => Ok(DataType::Long),
            "short" => Ok(DataType::Short),
            "byte" => Ok(DataType::Byte),
            other => DataType::parse(other).map_err(|e| e.to_string()),
        },
        Json::Object(map) => match map.get("type").and_then(Json::as_str) {
            Some("struct") => Ok(DataType::Struct(json_fields(value)?)),
            Some("array") => Ok(DataType::Array(
                Box::new(json_type(&map["elementType"])?),
                map.get("containsNull")
                    .and_then(Json::as_bool)
                    .unwrap_or(true),
            )),
            Some("map") => Ok(DataType::Map(
                Box::new(json_type(&map["keyType"])?),
                Box::new(json_type(&map["valueType"])?),
                map.get("valueContainsNull")
                    .and_then(Json::as_bool)
                    .unwrap_or(true),
            )),
            other => Err(format!("unknown data type {other:?}")),
        },
        other => Err(format!("unknown data type {other}")),
    }
}

fn json_fields(value: &Json) -> Result<Vec<StructField>, String> {
    value["fields"]
        .as_array()
        .ok_or("a struct without fields")?
        .iter()
        .map(|f| {
            Ok(StructField::new(
                f["name"].as_str().ok_or("a field without a name")?,
                json_type(&f["type"])?,
                f["nullable"].as_bool().unwrap_or(true),
            ))
        })
        .collect()
}

/// A Python `DataType` (anything with `.json()`) as an engine type.
pub fn python_type(obj: &Bound<'_, PyAny>) -> PyResult<DataType> {
    let text: String = obj.call_method0("json")?.extract()?;
    let value: Json = serde_json::from_str(&text)
        .map_err(|e| value_error("UNSUPPORTED_DATA_TYPE", e.to_string()))?;
    json_type(&value).map_err(|e| value_error("UNSUPPORTED_DATA_TYPE", e))
}

/// `datetime` seconds as PySpark computes them: a naive value is local time.
fn datetime_micros(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = obj.py();
    let micros: i64 = obj.getattr("microsecond")?.extract()?;
    let seconds: f64 = if obj.getattr("tzinfo")?.is_none() {
        py.import("time")?
            .getattr("mktime")?
            .call1((obj.call_method0("timetuple")?,))?
            .extract()?
    } else {
        py.import("calendar")?
            .getattr("timegm")?
            .call1((obj.call_method0("utctimetuple")?,))?
            .extract()?
    };
    Ok(seconds as i64 * 1_000_000 + micros)
}

/// Whether `obj` is a `datetime.datetime`.
pub fn is_datetime(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    is_instance(obj, "datetime", "datetime")
}

fn is_instance(obj: &Bound<'_, PyAny>, module: &str, class: &str) -> PyResult<bool> {
    let cls = obj.py().import(module)?.getattr(class)?;
    obj.is_instance(&cls)
}

/// `Decimal` as (unscaled, precision, scale).
fn decimal_parts(obj: &Bound<'_, PyAny>) -> PyResult<(i128, u8, u8)> {
    let text: String = obj.str()?.extract()?;
    let bad = || {
        value_error(
            "CANNOT_CONVERT_TYPE",
            format!("Cannot convert Decimal {text}."),
        )
    };
    let (mantissa, exponent) = match text.to_ascii_lowercase().split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().map_err(|_| bad())?),
        None => (text.clone(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits = mantissa.trim_start_matches(['-', '+']);
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let mut scale = frac_part.len() as i32 - exponent;
    let mut all = format!("{int_part}{frac_part}");
    if scale < 0 {
        all.push_str(&"0".repeat((-scale) as usize));
        scale = 0;
    }
    let unscaled: i128 = all.parse().map_err(|_| bad())?;
    let precision = unscaled.abs().to_string().len().max(scale as usize).max(1);
    if precision > 38 {
        return Err(bad());
    }
    Ok((
        if negative { -unscaled } else { unscaled },
        precision as u8,
        scale as u8,
    ))
}

/// A Python value as an engine literal, typed as Spark types `lit(value)`.
pub fn literal(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Boolean(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        let v: i64 = obj.extract().map_err(|_| {
            value_error(
                "VALUE_OUT_OF_BOUNDS",
                format!(
                    "Value for `col` must be between {} and {} (inclusive), got {obj}",
                    i64::MIN,
                    i64::MAX
                ),
            )
        })?;
        return Ok(i32::try_from(v).map_or(Value::Long(v), Value::Integer));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Double(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(Value::String(obj.extract()?));
    }
    if obj.is_instance_of::<PyBytes>() || is_instance(obj, "builtins", "bytearray")? {
        return Ok(Value::Binary(obj.extract()?));
    }
    if is_instance(obj, "datetime", "datetime")? {
        return Ok(Value::Timestamp(datetime_micros(obj)?));
    }
    if is_instance(obj, "datetime", "date")? {
        let ordinal: i64 = obj.call_method0("toordinal")?.extract()?;
        return Ok(Value::Date((ordinal - EPOCH_ORDINAL) as i32));
    }
    if is_instance(obj, "datetime", "timedelta")? {
        let seconds: i64 = obj.getattr("days")?.extract::<i64>()? * 86_400
            + obj.getattr("seconds")?.extract::<i64>()?;
        let micros: i64 = obj.getattr("microseconds")?.extract()?;
        return Ok(Value::DayTimeInterval(
            seconds * 1_000_000 + micros,
            IntervalFields::DAY_TO_SECOND,
        ));
    }
    if is_instance(obj, "decimal", "Decimal")? {
        let (unscaled, precision, scale) = decimal_parts(obj)?;
        return Ok(Value::Decimal(unscaled, precision, scale));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return Ok(Value::Array(
            list.iter().map(|v| literal(&v)).collect::<PyResult<_>>()?,
        ));
    }
    Err(type_error(
        "UNSUPPORTED_LITERAL",
        format!("Unsupported literal '{obj}' of type {}.", type_name(obj)),
    ))
}

/// The type PySpark infers for a Python value in `createDataFrame`
/// (`int` is `bigint`, `Decimal` is `decimal(38,18)`); `None` for `None`.
pub fn infer_type(obj: &Bound<'_, PyAny>) -> PyResult<Option<DataType>> {
    if obj.is_none() {
        return Ok(None);
    }
    Ok(Some(if obj.is_instance_of::<PyBool>() {
        DataType::Boolean
    } else if obj.is_instance_of::<PyInt>() {
        DataType::Long
    } else if obj.is_instance_of::<PyFloat>() {
        DataType::Double
    } else if obj.is_instance_of::<PyString>() {
        DataType::String
    } else if obj.is_instance_of::<PyBytes>() || is_instance(obj, "builtins", "bytearray")? {
        DataType::Binary
    } else if is_instance(obj, "datetime", "datetime")? {
        DataType::Timestamp
    } else if is_instance(obj, "datetime", "date")? {
        DataType::Date
    } else if is_instance(obj, "datetime", "timedelta")? {
        DataType::DayTimeInterval(IntervalFields::DAY_TO_SECOND)
    } else if is_instance(obj, "decimal", "Decimal")? {
        DataType::Decimal(38, 18)
    } else if let Ok(list) = obj.cast::<PyList>() {
        let mut element = None;
        for item in list.iter() {
            element = merge(element, infer_type(&item)?)?;
        }
        DataType::Array(Box::new(element.unwrap_or(DataType::Null)), true)
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let (mut key, mut value) = (None, None);
        for (k, v) in dict.iter() {
            key = merge(key, infer_type(&k)?)?;
            value = merge(value, infer_type(&v)?)?;
        }
        DataType::Map(
            Box::new(key.unwrap_or(DataType::Null)),
            Box::new(value.unwrap_or(DataType::Null)),
            true,
        )
    } else if let Some(names) = field_names(obj)? {
        let tuple = obj.cast::<PyTuple>()?;
        let mut fields = Vec::new();
        for (name, item) in names.into_iter().zip(tuple.iter()) {
            let data_type = infer_type(&item)?.unwrap_or(DataType::Null);
            fields.push(StructField::new(name, data_type, true));
        }
        DataType::Struct(fields)
    } else {
        return Err(type_error(
            "CANNOT_INFER_TYPE_FOR_FIELD",
            format!(
                "Unable to infer the type of the field `{obj}` ({}).",
                type_name(obj)
            ),
        ));
    }))
}

/// Two inferred types of one column, as PySpark's `_merge_type` joins them.
pub fn merge(a: Option<DataType>, b: Option<DataType>) -> PyResult<Option<DataType>> {
    Ok(match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(DataType::Null), b) => b,
        (a, Some(DataType::Null)) => a,
        (Some(a), Some(b)) if a == b => Some(a),
        (Some(DataType::Array(x, n)), Some(DataType::Array(y, _))) => Some(DataType::Array(
            Box::new(merge(Some(*x), Some(*y))?.unwrap_or(DataType::Null)),
            n,
        )),
        (Some(a), Some(b)) => {
            return Err(type_error(
                "CANNOT_MERGE_TYPE",
                format!(
                    "Can not merge type `{}` and `{}`.",
                    py_type_name(&a),
                    py_type_name(&b)
                ),
            ))
        }
    })
}

/// PySpark's class name for a type (`LongType`), for messages.
pub fn py_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "NullType".into(),
        DataType::String => "StringType".into(),
        DataType::Byte => "ByteType".into(),
        DataType::Short => "ShortType".into(),
        DataType::Integer => "IntegerType".into(),
        DataType::Long => "LongType".into(),
        DataType::Float => "FloatType".into(),
        DataType::Double => "DoubleType".into(),
        DataType::Decimal(..) => "DecimalType".into(),
        DataType::Boolean => "BooleanType".into(),
        DataType::Date => "DateType".into(),
        DataType::Timestamp => "TimestampType".into(),
        DataType::TimestampNtz => "TimestampNTZType".into(),
        DataType::Binary => "BinaryType".into(),
        DataType::DayTimeInterval(_) => "DayTimeIntervalType".into(),
        DataType::YearMonthInterval(_) => "YearMonthIntervalType".into(),
        DataType::Array(..) => "ArrayType".into(),
        DataType::Map(..) => "MapType".into(),
        DataType::Struct(_) => "StructType".into(),
    }
}

/// The field names of a `Row` with names or a namedtuple.
pub fn field_names(obj: &Bound<'_, PyAny>) -> PyResult<Option<Vec<String>>> {
    if !obj.is_instance_of::<PyTuple>() {
        return Ok(None);
    }
    for attr in ["__fields__", "_fields"] {
        if let Ok(names) = obj.getattr(attr) {
            return Ok(Some(names.extract()?));
        }
    }
    Ok(None)
}

/// A Python value as a cell of `data_type`, checked as PySpark's
/// `verifySchema` checks it.
pub fn cell(obj: &Bound<'_, PyAny>, data_type: &DataType, field: &str) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    let reject = || {
        type_error(
            "FIELD_DATA_TYPE_UNACCEPTABLE_WITH_NAME",
            format!(
                "field {field}: {}() can not accept object {} in type {}.",
                py_type_name(data_type),
                obj.repr().map(|r| r.to_string()).unwrap_or_default(),
                obj.get_type()
                    .repr()
                    .map(|r| r.to_string())
                    .unwrap_or_default()
            ),
        )
    };
    let is_int = obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>();
    let out_of_range = || {
        value_error(
            "VALUE_OUT_OF_BOUNDS",
            format!(
                "field {field}: object of {}() out of range, got: {obj}",
                py_type_name(data_type)
            ),
        )
    };
    Ok(match data_type {
        DataType::Boolean if obj.is_instance_of::<PyBool>() => Value::Boolean(obj.extract()?),
        DataType::Byte if is_int => Value::Byte(
            obj.extract::<i64>()?
                .try_into()
                .map_err(|_| out_of_range())?,
        ),
        DataType::Short if is_int => Value::Short(
            obj.extract::<i64>()?
                .try_into()
                .map_err(|_| out_of_range())?,
        ),
        DataType::Integer if is_int => Value::Integer(
            obj.extract::<i64>()?
                .try_into()
                .map_err(|_| out_of_range())?,
        ),
        DataType::Long if is_int => Value::Long(obj.extract().map_err(|_| out_of_range())?),
        DataType::Double if obj.is_instance_of::<PyFloat>() => Value::Double(obj.extract()?),
        DataType::Float if obj.is_instance_of::<PyFloat>() => {
            Value::Float(obj.extract::<f64>()? as f32)
        }
        DataType::String if obj.is_instance_of::<PyString>() => Value::String(obj.extract()?),
        DataType::Decimal(p, s) if is_instance(obj, "decimal", "Decimal")? => {
            let (unscaled, _, scale) = decimal_parts(obj)?;
            let rescaled = if *s >= scale {
                unscaled * 10i128.pow(u32::from(*s - scale))
            } else {
                unscaled / 10i128.pow(u32::from(scale - *s))
            };
            Value::Decimal(rescaled, *p, *s)
        }
        DataType::Timestamp if is_instance(obj, "datetime", "datetime")? => {
            Value::Timestamp(datetime_micros(obj)?)
        }
        DataType::Date
            if is_instance(obj, "datetime", "date")?
                && !is_instance(obj, "datetime", "datetime")? =>
        {
            literal(obj)?
        }
        DataType::Binary
            if obj.is_instance_of::<PyBytes>() || is_instance(obj, "builtins", "bytearray")? =>
        {
            Value::Binary(obj.extract()?)
        }
        DataType::DayTimeInterval(_) if is_instance(obj, "datetime", "timedelta")? => literal(obj)?,
        DataType::Array(element, _)
            if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() =>
        {
            let mut values = Vec::new();
            for item in obj.try_iter()? {
                values.push(cell(&item?, element, field)?);
            }
            Value::Array(values)
        }
        DataType::Map(key, value, _) if obj.is_instance_of::<PyDict>() => {
            let dict = obj.cast::<PyDict>()?;
            let mut entries = Vec::new();
            for (k, v) in dict.iter() {
                entries.push((cell(&k, key, field)?, cell(&v, value, field)?));
            }
            Value::Map(entries)
        }
        DataType::Struct(fields) => {
            let values = row_values(obj, fields)?;
            Value::Struct(fields.iter().map(|f| f.name.clone()).zip(values).collect())
        }
        _ => return Err(reject()),
    })
}

/// One row of `createDataFrame` data as cells of `fields`: a dict by name,
/// a tuple, list or `Row` by position.
pub fn row_values(obj: &Bound<'_, PyAny>, fields: &[StructField]) -> PyResult<Vec<Value>> {
    if let Ok(dict) = obj.cast::<PyDict>() {
        return fields
            .iter()
            .map(|f| match dict.get_item(&f.name)? {
                Some(v) => cell(&v, &f.data_type, &f.name),
                None => Ok(Value::Null),
            })
            .collect();
    }
    if obj.is_instance_of::<PyTuple>() || obj.is_instance_of::<PyList>() {
        let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
        if items.len() != fields.len() {
            return Err(value_error(
                "FIELD_STRUCT_LENGTH_MISMATCH",
                format!(
                    "Length of object ({}) does not match with length of fields ({}).",
                    items.len(),
                    fields.len()
                ),
            ));
        }
        return items
            .iter()
            .zip(fields)
            .map(|(v, f)| cell(v, &f.data_type, &f.name))
            .collect();
    }
    Err(type_error(
        "CANNOT_ACCEPT_OBJECT_IN_TYPE",
        format!(
            "`StructType` can not accept object `{obj}` in type `{}`.",
            type_name(obj)
        ),
    ))
}

/// A collected cell as the Python object PySpark returns for it.
pub fn to_python<'py>(
    py: Python<'py>,
    value: &Value,
    data_type: &DataType,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Boolean(v) => PyBool::new(py, *v).to_owned().into_any(),
        Value::Byte(v) => v.into_pyobject(py)?.into_any(),
        Value::Short(v) => v.into_pyobject(py)?.into_any(),
        Value::Integer(v) => v.into_pyobject(py)?.into_any(),
        Value::Long(v) => v.into_pyobject(py)?.into_any(),
        Value::Float(v) => PyFloat::new(py, f64::from(*v)).into_any(),
        Value::Double(v) => PyFloat::new(py, *v).into_any(),
        Value::Decimal(unscaled, _, scale) => py
            .import("decimal")?
            .getattr("Decimal")?
            .call1((kiln_engine::value::decimal_string(*unscaled, *scale),))?,
        Value::String(v) => PyString::new(py, v).into_any(),
        Value::Binary(v) => PyBytes::new(py, v).into_any(),
        Value::Date(days) => py
            .import("datetime")?
            .getattr("date")?
            .call_method1("fromordinal", (i64::from(*days) + EPOCH_ORDINAL,))?,
        Value::Timestamp(micros) => py
            .import("datetime")?
            .getattr("datetime")?
            .call_method1("fromtimestamp", (micros.div_euclid(1_000_000),))?
            .call_method(
                "replace",
                (),
                Some(&[("microsecond", micros.rem_euclid(1_000_000))].into_py_dict(py)?),
            )?,
        Value::TimestampNtz(micros) => {
            let datetime = py.import("datetime")?;
            let start = datetime.getattr("datetime")?.call1((1970, 1, 1))?;
            let delta = datetime
                .getattr("timedelta")?
                .call((), Some(&[("microseconds", *micros)].into_py_dict(py)?))?;
            start.call_method1("__add__", (delta,))?
        }
        Value::DayTimeInterval(micros, _) => py
            .import("datetime")?
            .getattr("timedelta")?
            .call((), Some(&[("microseconds", *micros)].into_py_dict(py)?))?,
        // PySpark 4 cannot bring these to Python either.
        Value::YearMonthInterval(..) => {
            return Err(super::errors::raise(
                py,
                "PySparkNotImplementedError",
                "[NOT_IMPLEMENTED] YearMonthIntervalType.fromInternal is not implemented.".into(),
            ))
        }
        Value::Array(items) => {
            let element = match data_type {
                DataType::Array(e, _) => e.as_ref().clone(),
                _ => DataType::Null,
            };
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item, &element)?)?;
            }
            list.into_any()
        }
        Value::Map(entries) => {
            let (kt, vt) = match data_type {
                DataType::Map(k, v, _) => (k.as_ref().clone(), v.as_ref().clone()),
                _ => (DataType::Null, DataType::Null),
            };
            let dict = PyDict::new(py);
            for (k, v) in entries {
                dict.set_item(to_python(py, k, &kt)?, to_python(py, v, &vt)?)?;
            }
            dict.into_any()
        }
        Value::Struct(entries) => {
            let fields = match data_type {
                DataType::Struct(f) => f.clone(),
                _ => vec![],
            };
            let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
            let mut values = Vec::new();
            for (i, (_, v)) in entries.iter().enumerate() {
                let t = fields
                    .get(i)
                    .map(|f| f.data_type.clone())
                    .unwrap_or(DataType::Null);
                values.push(to_python(py, v, &t)?);
            }
            make_row(py, &names, values)?
        }
    })
}

/// `Row(name=value, ...)`.
pub fn make_row<'py>(
    py: Python<'py>,
    names: &[&str],
    values: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("pyspark.sql.types")?
        .getattr("Row")?
        .call_method1("_create", (names.to_vec(), PyTuple::new(py, values)?))
}
