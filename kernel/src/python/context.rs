//! The one kernel per process, as the Python-facing functions see it.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::history::History;
use crate::interrupt::Interrupter;
use crate::protocol::{Message, Publisher, StdinClient};

pub struct KernelContext {
    pub publisher: Arc<Publisher>,
    pub stdin: StdinClient,
    pub interrupter: Arc<Interrupter>,
    pub history: Arc<Mutex<History>>,
    /// The user's namespace: `__main__.__dict__`.
    pub user_ns: Py<PyDict>,
    /// Names present before the first cell (hidden from `%who`).
    pub initial_names: Vec<String>,
    /// The execute request being served, for `input()` and payloads.
    pub current: Mutex<Option<Message>>,
    /// Payloads (the `?` pager) collected during the current execution.
    pub payloads: Mutex<Vec<Value>>,
    /// The engine session every SQL cell (and later PySpark) runs on.
    pub engine: kiln_engine::Session,
    /// The language of a cell without a `%%python` / `%%rust` first line.
    pub language: crate::rust::Language,
}

static CONTEXT: OnceLock<KernelContext> = OnceLock::new();

pub fn install(context: KernelContext) {
    let _ = CONTEXT.set(context);
}

/// The kernel context; Python-facing functions are only reachable once it exists.
pub fn context() -> PyResult<&'static KernelContext> {
    CONTEXT
        .get()
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("the Kiln kernel is not running"))
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KernelContext {
    pub fn user_ns<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        self.user_ns.bind(py).clone()
    }
}
