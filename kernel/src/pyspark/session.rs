//! The native half of `SparkSession`: the kernel's engine session with
//! PySpark's entry points (`sql`, `range`, `createDataFrame`, `read`,
//! `table`, `conf`). The Python half adds `builder` and the active-session
//! bookkeeping.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use kiln_engine::sql::SqlArgs;
use kiln_engine::types::{DataType, Schema, StructField};

use super::convert::{cell, field_names, infer_type, literal, merge, python_type, row_values};
use super::dataframe::DataFrame;
use super::errors::{expected_type, raise, type_error, type_name, value_error, IntoPy};
use super::io::DataFrameReader;
use super::udf::UdfHandle;

#[pyclass(
    module = "pyspark.sql.session",
    name = "SparkSession",
    subclass,
    frozen
)]
pub struct SparkSession {
    pub engine: kiln_engine::Session,
}

fn frame(slf: &Bound<'_, SparkSession>, inner: kiln_engine::DataFrame) -> DataFrame {
    DataFrame {
        inner,
        session: slf.clone().into_any().unbind(),
    }
}

/// The schema a `schema=` argument gives: a DDL string, a StructType, an
/// atomic type (one column named `value`) or a list of names (`None`).
enum SchemaArg {
    Names(Vec<String>),
    Struct(Schema),
    Atomic(DataType),
}

fn schema_arg(schema: &Bound<'_, PyAny>) -> PyResult<SchemaArg> {
    if let Ok(text) = schema.cast::<PyString>() {
        let text = text.to_str()?;
        return match Schema::parse_ddl(text) {
            Ok(s) => Ok(SchemaArg::Struct(s)),
            Err(e) => DataType::parse(text)
                .map(SchemaArg::Atomic)
                .map_err(|_| e)
                .py(),
        };
    }
    if schema.is_instance_of::<PyList>() || schema.is_instance_of::<PyTuple>() {
        return Ok(SchemaArg::Names(schema.extract()?));
    }
    if schema.hasattr("json")? {
        return Ok(match python_type(schema)? {
            DataType::Struct(fields) => SchemaArg::Struct(Schema::new(fields)),
            other => SchemaArg::Atomic(other),
        });
    }
    Err(expected_type("schema", "list, None or StructType", schema))
}

/// Column names and types PySpark infers from the rows.
fn infer_schema(rows: &[Bound<'_, PyAny>], names: Option<Vec<String>>) -> PyResult<Schema> {
    let mut field_order: Option<Vec<String>> = None;
    let mut types: Vec<Option<DataType>> = Vec::new();
    for row in rows {
        let (row_names, values): (Vec<String>, Vec<Bound<'_, PyAny>>) =
            if let Ok(dict) = row.cast::<PyDict>() {
                let mut items: Vec<(String, Bound<'_, PyAny>)> = dict
                    .iter()
                    .map(|(k, v)| Ok((k.extract::<String>()?, v)))
                    .collect::<PyResult<_>>()?;
                items.sort_by(|a, b| a.0.cmp(&b.0));
                items.into_iter().unzip()
            } else if let Some(fields) = field_names(row)? {
                (fields, row.try_iter()?.collect::<PyResult<_>>()?)
            } else if row.is_instance_of::<PyTuple>() || row.is_instance_of::<PyList>() {
                let values: Vec<_> = row.try_iter()?.collect::<PyResult<_>>()?;
                (
                    (1..=values.len()).map(|i| format!("_{i}")).collect(),
                    values,
                )
            } else {
                return Err(type_error(
                    "CANNOT_INFER_SCHEMA_FOR_TYPE",
                    format!("Can not infer schema for type: `{}`.", type_name(row)),
                ));
            };
        if field_order.is_none() {
            types = vec![None; values.len()];
            field_order = Some(row_names);
        }
        for (i, value) in values.iter().enumerate() {
            if i < types.len() {
                types[i] = merge(types[i].take(), infer_type(value)?)?;
            }
        }
    }
    let mut names_out = field_order.unwrap_or_default();
    if let Some(names) = names {
        for (i, name) in names.into_iter().enumerate() {
            if i < names_out.len() {
                names_out[i] = name;
            }
        }
    }
    let mut fields = Vec::new();
    for (name, data_type) in names_out.into_iter().zip(types) {
        match data_type {
            Some(t) if t != DataType::Null => fields.push(StructField::new(name, t, true)),
            _ => {
                return Err(value_error(
                    "CANNOT_DETERMINE_TYPE",
                    "Some of types cannot be determined after inferring.",
                ))
            }
        }
    }
    Ok(Schema::new(fields))
}

fn sql_args(
    args: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<SqlArgs> {
    let mut named = Vec::new();
    if let Some(args) = args.filter(|a| !a.is_none()) {
        if let Ok(dict) = args.cast::<PyDict>() {
            for (k, v) in dict.iter() {
                named.push((k.extract::<String>()?, literal(&v)?));
            }
        } else if args.is_instance_of::<PyList>() || args.is_instance_of::<PyTuple>() {
            let values = args
                .try_iter()?
                .map(|v| literal(&v?))
                .collect::<PyResult<Vec<_>>>()?;
            return Ok(SqlArgs::Positional(values));
        } else {
            return Err(type_error(
                "INVALID_TYPE",
                format!(
                    "Argument `args` should be a dict or list, got {}.",
                    type_name(args)
                ),
            ));
        }
    }
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            named.push((k.extract::<String>()?, literal(&v)?));
        }
    }
    Ok(if named.is_empty() {
        SqlArgs::None
    } else {
        SqlArgs::Named(named)
    })
}

#[pymethods]
impl SparkSession {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let ctx = crate::python::context::context()?;
        Ok(SparkSession {
            engine: ctx.engine.clone(),
        })
    }

    #[pyo3(signature = (sqlQuery, args=None, **kwargs))]
    fn sql(
        slf: &Bound<'_, Self>,
        sqlQuery: &str,
        args: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<DataFrame> {
        let args = sql_args(args, kwargs)?;
        let engine = slf.get().engine.clone();
        let text = sqlQuery.to_string();
        let inner = slf
            .py()
            .detach(move || engine.sql_with_args(&text, &args))
            .py()?;
        Ok(frame(slf, inner))
    }

    #[pyo3(signature = (start, end=None, step=1, numPartitions=None))]
    fn range(
        slf: &Bound<'_, Self>,
        start: i64,
        end: Option<i64>,
        step: i64,
        numPartitions: Option<usize>,
    ) -> PyResult<DataFrame> {
        let (start, end) = match end {
            Some(end) => (start, end),
            None => (0, start),
        };
        if step == 0 {
            // The Dataset API's own check, before the engine's range.
            return Err(raise(
                slf.py(),
                "IllegalArgumentException",
                "requirement failed: step (0) cannot be 0".to_string(),
            ));
        }
        let inner = slf
            .get()
            .engine
            .range(start, end, step, numPartitions)
            .py()?;
        Ok(frame(slf, inner))
    }

    fn table(slf: &Bound<'_, Self>, tableName: &str) -> PyResult<DataFrame> {
        let inner = slf.get().engine.table(tableName).py()?;
        Ok(frame(slf, inner))
    }

    #[getter]
    fn read(slf: &Bound<'_, Self>) -> DataFrameReader {
        DataFrameReader::new(slf.clone().into_any().unbind(), slf.get().engine.clone())
    }

    /// `createDataFrame` from a pyarrow Table whose columns already have the
    /// types of `schema` (a StructType): taken through the Arrow C stream
    /// interface, no Python value per cell.
    fn _create_from_arrow(
        slf: &Bound<'_, Self>,
        table: &Bound<'_, PyAny>,
        schema: &Bound<'_, PyAny>,
    ) -> PyResult<DataFrame> {
        use kiln_engine::arrow::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};

        let DataType::Struct(fields) = python_type(schema)? else {
            return Err(expected_type("schema", "StructType", schema));
        };
        let mut stream = FFI_ArrowArrayStream::empty();
        let address = std::ptr::addr_of_mut!(stream) as usize;
        table
            .call_method0("to_reader")?
            .call_method1("_export_to_c", (address,))?;
        let reader = RecordBatchStreamReader::try_new(stream)
            .map_err(|e| value_error("INVALID_ARROW_STREAM", e.to_string()))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| value_error("INVALID_ARROW_STREAM", e.to_string()))?;
        let engine = slf.get().engine.clone();
        let inner = slf
            .py()
            .detach(move || engine.create_dataframe_from_arrow(&batches, Schema::new(fields)))
            .py()?;
        Ok(frame(slf, inner))
    }

    #[pyo3(signature = (data, schema=None, samplingRatio=None, verifySchema=true, _slices=None))]
    fn createDataFrame(
        slf: &Bound<'_, Self>,
        data: &Bound<'_, PyAny>,
        schema: Option<&Bound<'_, PyAny>>,
        samplingRatio: Option<f64>,
        verifySchema: bool,
        _slices: Option<Vec<usize>>,
    ) -> PyResult<DataFrame> {
        let _ = (samplingRatio, verifySchema);
        if data.cast::<DataFrame>().is_ok() {
            return Err(type_error("INVALID_TYPE", "data is already a DataFrame."));
        }
        let rows: Vec<Bound<'_, PyAny>> = data.try_iter()?.collect::<PyResult<_>>()?;
        let schema = match schema.filter(|s| !s.is_none()) {
            Some(s) => Some(schema_arg(s)?),
            None => None,
        };
        let (schema, atomic) = match schema {
            Some(SchemaArg::Struct(s)) => (s, false),
            Some(SchemaArg::Atomic(t)) => {
                (Schema::new(vec![StructField::new("value", t, true)]), true)
            }
            Some(SchemaArg::Names(names)) => (infer_schema(&rows, Some(names))?, false),
            None => {
                if rows.is_empty() {
                    return Err(value_error(
                        "CANNOT_INFER_EMPTY_SCHEMA",
                        "Can not infer schema from an empty dataset.",
                    ));
                }
                (infer_schema(&rows, None)?, false)
            }
        };
        let mut values = Vec::with_capacity(rows.len());
        for row in &rows {
            values.push(if atomic {
                vec![cell(
                    row,
                    &schema.fields[0].data_type,
                    &schema.fields[0].name,
                )?]
            } else {
                row_values(row, &schema.fields)?
            });
        }
        let engine = &slf.get().engine;
        let inner = match _slices {
            Some(sizes) => engine.create_dataframe_sliced(values, &sizes, schema),
            None => engine.create_dataframe(values, schema),
        }
        .py()?;
        Ok(frame(slf, inner))
    }

    fn _conf_get(&self, key: &str) -> Option<String> {
        self.engine.config().get(key).map(str::to_string)
    }

    fn _conf_set(&self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = if value.is_instance_of::<pyo3::types::PyBool>() {
            if value.is_truthy()? {
                "true".to_string()
            } else {
                "false".to_string()
            }
        } else {
            value.str()?.to_string()
        };
        self.engine.set_conf(key, &text).py()
    }

    fn _conf_unset(&self, key: &str) {
        self.engine.unset_conf(key);
    }

    fn _conf_all(&self) -> Vec<(String, String)> {
        self.engine
            .config()
            .all()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn _view_names(&self) -> Vec<String> {
        self.engine.view_names()
    }

    fn _drop_view(&self, name: &str) -> bool {
        self.engine.drop_temp_view(name)
    }

    fn _parallelism(&self) -> usize {
        self.engine.parallelism()
    }

    fn _register_udf(&self, name: &str, handle: &Bound<'_, UdfHandle>) {
        self.engine.register_udf(name, handle.get().udf());
    }
}
