//! Python UDFs (`F.udf`, `spark.udf.register`, `F.pandas_udf`): a Python
//! callable the engine calls from its partition workers. Each batch of rows
//! takes the interpreter lock once, calls the function (row by row, or once
//! with the batch's columns for a pandas UDF) and gives the lock back, so
//! the engine keeps both cores busy around the calls. A row UDF's results
//! are converted to the declared type by PySpark's (non-Arrow) rules: a
//! value of the wrong kind becomes null, except that a string column takes
//! any value's text; a pandas UDF's results arrive already converted by its
//! Python wrapper (through Arrow, as PySpark converts them).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use kiln_engine::arrow::array::{make_array, Array as _, ArrayRef};
use kiln_engine::arrow::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use kiln_engine::expr::Expr;
use kiln_engine::types::DataType;
use kiln_engine::udf::{ScalarUdf, Udf};
use kiln_engine::value::{java_float_string, Value};
use kiln_engine::{EngineError, Result};

use super::column::{col_or_name, Column};
use super::convert::{self, to_python};

/// How the function takes its rows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum CallStyle {
    /// `f(a, b)` per row.
    Rows,
    /// `f(a_array, b_array)` once per batch with pyarrow arrays (handed over
    /// through the Arrow C Data Interface), returning a pyarrow array of the
    /// batch's results (a pandas UDF's wrapper).
    Columns,
}

/// A Python function with its declared return type.
pub struct PythonUdf {
    pub name: String,
    pub function: Py<PyAny>,
    pub return_type: DataType,
    pub deterministic: bool,
    pub style: CallStyle,
}

impl ScalarUdf for PythonUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn return_type(&self) -> &DataType {
        &self.return_type
    }

    fn deterministic(&self) -> bool {
        self.deterministic
    }

    fn folds_equal_arguments(&self) -> bool {
        self.deterministic && self.style == CallStyle::Rows
    }

    fn takes_columns(&self) -> bool {
        self.style == CallStyle::Columns
    }

    fn call_columns(&self, args: &[ArrayRef]) -> Result<ArrayRef> {
        Python::attach(|py| {
            self.call_arrow(py, args)
                .map_err(|e| python_failure(py, &self.name, None, e))
        })
    }

    fn call_batch(&self, args: Vec<Vec<Value>>) -> Result<Vec<Value>> {
        Python::attach(|py| {
            let function = self.function.bind(py);
            let mut results = Vec::with_capacity(args.len());
            for row in &args {
                let call_args = row
                    .iter()
                    .map(|v| to_python(py, v, &v.data_type()))
                    .collect::<PyResult<Vec<_>>>()
                    .and_then(|values| PyTuple::new(py, values))
                    .map_err(|e| python_failure(py, &self.name, None, e))?;
                let value = function
                    .call1(&call_args)
                    .and_then(|value| result_value(&value, &self.return_type))
                    .map_err(|e| python_failure(py, &self.name, Some(&call_args), e))?;
                results.push(value);
            }
            Ok(results)
        })
    }
}

impl PythonUdf {
    /// Hands the arrays to pyarrow (each moves through the C Data
    /// Interface, no copy), calls the function and takes its array back.
    fn call_arrow(&self, py: Python<'_>, args: &[ArrayRef]) -> PyResult<ArrayRef> {
        let array_class = py.import("pyarrow")?.getattr("Array")?;
        let mut arrays = Vec::with_capacity(args.len());
        for array in args {
            let (mut ffi_array, mut ffi_schema) = to_ffi(&array.to_data()).map_err(arrow_error)?;
            // pyarrow moves both structs out (leaving them released), so
            // dropping them afterwards frees nothing twice.
            arrays.push(array_class.call_method1(
                "_import_from_c",
                (
                    std::ptr::addr_of_mut!(ffi_array) as usize,
                    std::ptr::addr_of_mut!(ffi_schema) as usize,
                ),
            )?);
        }
        let result = self.function.bind(py).call1(PyTuple::new(py, arrays)?)?;
        let mut out_array = FFI_ArrowArray::empty();
        let mut out_schema = FFI_ArrowSchema::empty();
        result.call_method1(
            "_export_to_c",
            (
                std::ptr::addr_of_mut!(out_array) as usize,
                std::ptr::addr_of_mut!(out_schema) as usize,
            ),
        )?;
        // SAFETY: pyarrow filled both structs with a valid exported array.
        let data = unsafe { from_ffi(out_array, &out_schema) }.map_err(arrow_error)?;
        Ok(make_array(data))
    }
}

fn arrow_error(error: kiln_engine::arrow::error::ArrowError) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(error.to_string())
}

/// PySpark's `PythonException` text (the traceback from the function's
/// frame), then which function failed on which arguments.
fn python_failure(
    py: Python<'_>,
    name: &str,
    args: Option<&Bound<'_, PyTuple>>,
    error: PyErr,
) -> EngineError {
    let traceback = py
        .import("traceback")
        .and_then(|t| {
            t.getattr("format_exception")?.call1((
                error.get_type(py),
                error.value(py),
                error.traceback(py),
            ))
        })
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| lines.concat())
        .unwrap_or_else(|_| format!("{error}\n"));
    let call = match args.map(|a| a.repr()) {
        Some(Ok(repr)) => {
            let repr = repr.to_string();
            let inner = repr
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(&repr);
            format!("{name}({})", inner.trim_end_matches(','))
        }
        _ => name.to_string(),
    };
    EngineError::spark(
        "PYTHON_EXCEPTION",
        format!(
            "An exception was thrown from the Python worker:\n{traceback}(while calling {call})"
        ),
    )
}

/// A UDF's return value as a value of `data_type`, or null where PySpark's
/// conversion gives null.
fn result_value(obj: &Bound<'_, PyAny>, data_type: &DataType) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    let is_bool = obj.is_instance_of::<PyBool>();
    let is_int = obj.is_instance_of::<PyInt>() && !is_bool;
    let is_float = obj.is_instance_of::<PyFloat>();
    Ok(match data_type {
        DataType::String => Value::String(if obj.is_instance_of::<PyString>() {
            obj.extract()?
        } else if is_bool {
            obj.extract::<bool>()?.to_string()
        } else if is_float {
            java_float_string(obj.extract()?, false)
        } else {
            obj.str()?.extract()?
        }),
        DataType::Boolean if is_bool => Value::Boolean(obj.extract()?),
        // Spark narrows Python ints to the column's width as Java casts do.
        DataType::Byte if is_int => obj
            .extract::<i64>()
            .map_or(Value::Null, |v| Value::Byte(v as i8)),
        DataType::Short if is_int => obj
            .extract::<i64>()
            .map_or(Value::Null, |v| Value::Short(v as i16)),
        DataType::Integer if is_int => obj
            .extract::<i64>()
            .map_or(Value::Null, |v| Value::Integer(v as i32)),
        DataType::Long if is_int => obj.extract::<i64>().map_or(Value::Null, Value::Long),
        DataType::Double if is_float => Value::Double(obj.extract()?),
        DataType::Float if is_float => Value::Float(obj.extract::<f64>()? as f32),
        DataType::Binary if obj.is_instance_of::<PyString>() => {
            Value::Binary(obj.extract::<String>()?.into_bytes())
        }
        DataType::Date if convert::is_datetime(obj)? => {
            convert::literal(&obj.call_method0("date")?)?
        }
        DataType::Array(element, _)
            if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() =>
        {
            let mut values = Vec::new();
            for item in obj.try_iter()? {
                values.push(result_value(&item?, element)?);
            }
            Value::Array(values)
        }
        DataType::Map(key, value, _) if obj.is_instance_of::<PyDict>() => {
            let mut entries = Vec::new();
            for (k, v) in obj.cast::<PyDict>()?.iter() {
                entries.push((result_value(&k, key)?, result_value(&v, value)?));
            }
            Value::Map(entries)
        }
        DataType::Binary | DataType::Decimal(..) | DataType::Timestamp | DataType::Date => {
            convert::cell(obj, data_type, "udf").unwrap_or(Value::Null)
        }
        DataType::Struct(fields) => match convert::row_values(obj, fields) {
            Ok(values) => {
                Value::Struct(fields.iter().map(|f| f.name.clone()).zip(values).collect())
            }
            Err(_) => Value::Null,
        },
        _ => Value::Null,
    })
}

/// A registered UDF as Python holds it: calling it with columns (or column
/// names) gives the Column that applies it.
#[pyclass(module = "pyspark.sql.udf", frozen)]
pub struct UdfHandle {
    udf: Udf,
}

impl UdfHandle {
    pub fn udf(&self) -> Udf {
        self.udf.clone()
    }
}

#[pymethods]
impl UdfHandle {
    /// `columns=True`: the function takes a batch's columns as pyarrow
    /// arrays and returns its results as one (a pandas UDF's wrapper).
    #[new]
    #[pyo3(signature = (function, name, return_type, deterministic=true, columns=false))]
    fn new(
        function: Py<PyAny>,
        name: String,
        return_type: &Bound<'_, PyAny>,
        deterministic: bool,
        columns: bool,
    ) -> PyResult<Self> {
        let return_type = convert::python_type(return_type)?;
        Ok(UdfHandle {
            udf: Udf(Arc::new(PythonUdf {
                name,
                function,
                return_type,
                deterministic,
                style: if columns {
                    CallStyle::Columns
                } else {
                    CallStyle::Rows
                },
            })),
        })
    }

    #[pyo3(signature = (*cols))]
    fn __call__(&self, cols: &Bound<'_, PyTuple>) -> PyResult<Column> {
        Ok(Column::new(Expr::Udf {
            function: self.udf.clone(),
            args: cols
                .iter()
                .map(|c| col_or_name(&c, "col"))
                .collect::<PyResult<_>>()?,
        }))
    }
}
