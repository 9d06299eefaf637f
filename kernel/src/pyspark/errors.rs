//! Engine errors raised in Python as PySpark's exception classes (from
//! `pyspark.errors`), and the argument errors PySpark raises itself.

use pyo3::prelude::*;

use kiln_engine::EngineError;

/// The Python exception PySpark raises for this engine error: the class
/// PySpark would raise, carrying Spark's error-class text.
pub fn to_python(error: EngineError) -> PyErr {
    if matches!(error, EngineError::Cancelled) {
        return pyo3::exceptions::PyKeyboardInterrupt::new_err("the query was cancelled");
    }
    if let EngineError::Spark {
        class: "PYTHON_EXCEPTION",
        message,
        ..
    } = &error
    {
        // PySpark's PythonException carries the traceback without a class tag.
        return Python::attach(|py| raise(py, "PythonException", message.clone()));
    }
    let class = error.python_exception();
    let message = if class == "ParseException" {
        // PySpark's parse errors start on a line of their own.
        format!("\n{error}")
    } else {
        error.to_string()
    };
    Python::attach(|py| raise(py, class, message))
}

/// `pyspark.errors.<class>(message)`.
pub fn raise(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import("pyspark.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message.clone(),)));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// `PySparkTypeError` with an error class, worded as PySpark words it.
pub fn type_error(class: &str, message: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        raise(
            py,
            "PySparkTypeError",
            format!("[{class}] {}", message.into()),
        )
    })
}

/// PySpark 4's `[NOT_EXPECTED_TYPE]`: which argument, the types it takes
/// (in PySpark's words, `"Column or str"`), and the type it got.
pub fn expected_type(argument: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    type_error(
        "NOT_EXPECTED_TYPE",
        format!(
            "Argument `{argument}` should be {expected}, got {}.",
            type_name(got)
        ),
    )
}

/// `PySparkValueError` with an error class.
pub fn value_error(class: &str, message: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        raise(
            py,
            "PySparkValueError",
            format!("[{class}] {}", message.into()),
        )
    })
}

/// The Python type name of `obj`, as PySpark's messages print it.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

pub trait IntoPy<T> {
    /// The engine result, or its error as a Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for kiln_engine::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_python)
    }
}
