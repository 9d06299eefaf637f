//! `sys.stdout` / `sys.stderr` replacements that stream into the cell, and
//! `input()` / `getpass()` over the stdin channel.

use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError};
use pyo3::prelude::*;

use super::context::{context, lock};
use crate::protocol::stdin::InputError;

pyo3::create_exception!(
    _kiln,
    StdinNotImplementedError,
    pyo3::exceptions::PyRuntimeError,
    "input() was called, but this frontend does not support input requests."
);

/// A text stream whose writes become `stream` messages on iopub.
#[pyclass(module = "_kiln")]
pub struct OutStream {
    name: &'static str,
}

impl OutStream {
    pub fn stdout() -> Self {
        OutStream { name: "stdout" }
    }
    pub fn stderr() -> Self {
        OutStream { name: "stderr" }
    }
}

#[pymethods]
impl OutStream {
    fn write(&self, text: &str) -> PyResult<usize> {
        context()?.publisher.stream(self.name, text);
        Ok(text.chars().count())
    }

    fn writelines(&self, lines: &Bound<'_, PyAny>) -> PyResult<()> {
        for line in lines.try_iter()? {
            self.write(line?.extract::<&str>()?)?;
        }
        Ok(())
    }

    fn flush(&self) -> PyResult<()> {
        context()?.publisher.flush();
        Ok(())
    }

    fn isatty(&self) -> bool {
        false
    }
    fn readable(&self) -> bool {
        false
    }
    fn writable(&self) -> bool {
        true
    }
    fn seekable(&self) -> bool {
        false
    }
    fn fileno(&self, py: Python<'_>) -> PyResult<i32> {
        let unsupported = py.import("io")?.getattr("UnsupportedOperation")?;
        Err(PyErr::from_value(unsupported.call1(("fileno",))?))
    }
    fn close(&self) {}

    #[getter]
    fn closed(&self) -> bool {
        false
    }
    #[getter]
    fn encoding(&self) -> &'static str {
        "utf-8"
    }
    #[getter]
    fn errors(&self) -> &'static str {
        "strict"
    }
    #[getter]
    fn name(&self) -> String {
        format!("<{}>", self.name)
    }
    #[getter]
    fn mode(&self) -> &'static str {
        "w"
    }
    #[getter]
    fn newlines(&self) -> Option<&'static str> {
        None
    }
}

/// Asks the frontend for a line of input.
fn request_input(py: Python<'_>, prompt: &str, password: bool) -> PyResult<String> {
    let ctx = context()?;
    let parent = lock(&ctx.current).clone();
    let allowed = parent
        .as_ref()
        .is_some_and(|p| p.content["allow_stdin"].as_bool().unwrap_or(false));
    let Some(parent) = parent.filter(|_| allowed) else {
        return Err(StdinNotImplementedError::new_err(
            "input() was called, but this frontend does not support input requests.",
        ));
    };
    ctx.publisher.flush();
    let mut interrupted: Option<PyErr> = None;
    let result = py.detach(|| {
        ctx.stdin.request(&parent, prompt, password, || {
            Python::attach(|py| match py.check_signals() {
                Ok(()) => true,
                Err(e) => {
                    interrupted = Some(e);
                    false
                }
            })
        })
    });
    match result {
        Ok(value) => Ok(value),
        Err(InputError::Interrupted) => {
            Err(interrupted.unwrap_or_else(|| PyKeyboardInterrupt::new_err("Interrupted by user")))
        }
        Err(InputError::Closed) => Err(PyOSError::new_err("the kernel's stdin channel is closed")),
    }
}

/// `input(prompt='')` for the cell.
#[pyfunction]
#[pyo3(signature = (prompt = None))]
pub fn input(py: Python<'_>, prompt: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    let prompt = match prompt {
        Some(p) => p.str()?.to_string(),
        None => String::new(),
    };
    request_input(py, &prompt, false)
}

/// `getpass.getpass(prompt='Password: ', stream=None)` for the cell.
#[pyfunction]
#[pyo3(signature = (prompt = "Password: ", stream = None))]
pub fn getpass(
    py: Python<'_>,
    prompt: &str,
    stream: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let _ = stream;
    request_input(py, prompt, true)
}

/// Replaces `sys.stdout`, `sys.stderr`, `input` and `getpass.getpass`.
pub fn install(py: Python<'_>) -> PyResult<()> {
    let sys = py.import("sys")?;
    sys.setattr("stdout", Py::new(py, OutStream::stdout())?)?;
    sys.setattr("stderr", Py::new(py, OutStream::stderr())?)?;
    let module = py.import("_kiln")?;
    let builtins = py.import("builtins")?;
    builtins.setattr("input", module.getattr("input")?)?;
    py.import("getpass")?
        .setattr("getpass", module.getattr("getpass")?)?;
    Ok(())
}
