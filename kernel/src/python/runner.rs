//! Running a cell: IPython syntax rewritten, the code compiled under a
//! `Cell In[n]` filename (so tracebacks and `inspect` see its source), every
//! statement executed in the user namespace, and the value of a final
//! expression shown as `Out[n]`. Top-level `await` works. Rust cells go to
//! `crate::rust`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::{json, Map, Value};

use super::context::{lock, KernelContext};
use super::traceback::{cell_filename, format_error, FormattedError};
use crate::display;
use crate::magics::transform::transform_cell;
use crate::protocol::{Frontend, Message};

/// `ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`
const ALLOW_TOP_LEVEL_AWAIT: i32 = 0x2000;
/// `inspect.CO_COROUTINE`
const CO_COROUTINE: i64 = 0x80;

/// Makes `source` visible to `linecache` (tracebacks, `inspect.getsource`).
fn register_source(py: Python<'_>, source: &str, filename: &str) -> PyResult<()> {
    let lines = PyList::empty(py);
    for line in source.split_inclusive('\n') {
        lines.append(line)?;
    }
    if !source.ends_with('\n') && !source.is_empty() {
        // linecache expects every line to end with a newline.
        let last = lines.len() - 1;
        lines.set_item(
            last,
            format!("{}\n", source.rsplit('\n').next().unwrap_or("")),
        )?;
    }
    let entry = (source.len(), py.None(), lines, filename);
    py.import("linecache")?
        .getattr("cache")?
        .set_item(filename, entry)
}

/// Compiles `node` and runs it, driving a coroutine to completion when the
/// code uses top-level `await`.
fn run_node<'py>(
    py: Python<'py>,
    ns: &Bound<'py, PyDict>,
    node: &Bound<'py, PyAny>,
    filename: &str,
    mode: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let builtins = py.import("builtins")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("flags", ALLOW_TOP_LEVEL_AWAIT)?;
    let code = builtins.call_method("compile", (node, filename, mode), Some(&kwargs))?;
    let flags: i64 = code.getattr("co_flags")?.extract()?;
    let result = builtins.call_method1("eval", (&code, ns))?;
    if flags & CO_COROUTINE != 0 {
        let asyncio = py.import("asyncio")?;
        return asyncio.call_method1("run", (result,));
    }
    Ok(result)
}

/// Runs Python source in `ns`; returns the value of a final expression.
pub fn run_source<'py>(
    py: Python<'py>,
    ns: &Bound<'py, PyDict>,
    source: &str,
    filename: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    register_source(py, source, filename)?;
    let ast = py.import("ast")?;
    // A syntax error is about the cell, not about the parser's own frames.
    let tree = ast
        .call_method1("parse", (source, filename, "exec"))
        .map_err(|err| {
            let value = err.value(py).clone();
            let _ = value.setattr("__traceback__", py.None());
            PyErr::from_value(value.into_any())
        })?;
    let body = tree.getattr("body")?.cast_into::<PyList>()?;
    let last_is_expr = match body.len() {
        0 => false,
        n => body.get_item(n - 1)?.is_instance(&ast.getattr("Expr")?)?,
    };
    if !last_is_expr {
        run_node(py, ns, &tree, filename, "exec")?;
        return Ok(None);
    }
    let last = body.get_item(body.len() - 1)?;
    body.del_item(body.len() - 1)?;
    if !body.is_empty() {
        run_node(py, ns, &tree, filename, "exec")?;
    }
    let expression = ast.call_method1("Expression", (last.getattr("value")?,))?;
    let value = run_node(py, ns, &expression, filename, "eval")?;
    Ok(Some(value))
}

/// A trailing `;` on the last line hides the cell's value, as in IPython.
fn output_suppressed(code: &str) -> bool {
    code.lines()
        .rev()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.ends_with(';'))
}

/// `_`, `__`, `___`, `_N` and `Out[N]`, as IPython keeps them.
fn store_output(ns: &Bound<'_, PyDict>, value: &Bound<'_, PyAny>, count: u64) -> PyResult<()> {
    if let Some(prev2) = ns.get_item("__")? {
        ns.set_item("___", prev2)?;
    }
    if let Some(prev) = ns.get_item("_")? {
        ns.set_item("__", prev)?;
    }
    ns.set_item("_", value)?;
    ns.set_item(format!("_{count}"), value)?;
    if let Some(out) = ns.get_item("Out")? {
        out.set_item(count, value)?;
    }
    Ok(())
}

/// The interpreter's state between cells.
/// Why a cell failed: a Python exception, or an error already formatted
/// (a Rust cell's).
enum CellError {
    Python(PyErr),
    Formatted(FormattedError),
}

impl From<PyErr> for CellError {
    fn from(err: PyErr) -> Self {
        CellError::Python(err)
    }
}

pub struct Runner {
    execution_count: u64,
    /// Started by the first Rust cell.
    rust: Option<crate::rust::RustCells>,
}

impl Runner {
    pub fn new() -> Self {
        Runner {
            execution_count: 0,
            rust: None,
        }
    }

    /// Serves one `execute_request`; returns the reply content.
    pub fn execute(&mut self, py: Python<'_>, ctx: &KernelContext, request: &Message) -> Value {
        let code = request.content["code"].as_str().unwrap_or("").to_string();
        let silent = request.content["silent"].as_bool().unwrap_or(false);
        let store_history = !silent && request.content["store_history"].as_bool().unwrap_or(true);
        if store_history {
            self.execution_count += 1;
        }
        let count = self.execution_count.max(1);
        ctx.publisher.set_parent(
            serde_json::to_value(&request.header).unwrap_or(json!({})),
            Frontend::of_request(&request.metadata),
        );
        if !silent {
            ctx.publisher.publish(
                "execute_input",
                json!({"code": code, "execution_count": count}),
            );
        }
        if store_history {
            lock(&ctx.history).record(count, &code);
            let ns = ctx.user_ns(py);
            if let Ok(Some(inputs)) = ns.get_item("In") {
                let _ = inputs.call_method1("append", (&code,));
            }
        }
        *lock(&ctx.current) = Some(request.clone());
        lock(&ctx.payloads).clear();

        discard_pending_signals(py);
        ctx.interrupter.set_busy(true);
        let quiet = silent || !store_history;
        let outcome = match crate::rust::split_cell(&code, ctx.language) {
            (crate::rust::Language::Rust, body) => {
                self.run_rust_cell(py, ctx, request, body, count, quiet)
            }
            (crate::rust::Language::Python, body) => self
                .run_cell(py, ctx, body, count, quiet)
                .map_err(CellError::from),
        };
        ctx.interrupter.set_busy(false);
        discard_pending_signals(py);
        flush_python_streams(py);
        ctx.publisher.flush();
        *lock(&ctx.current) = None;

        let payload: Vec<Value> = std::mem::take(&mut *lock(&ctx.payloads));
        match outcome {
            Ok(()) => {
                let user_expressions =
                    evaluate_user_expressions(py, ctx, &request.content["user_expressions"]);
                json!({"status": "ok", "execution_count": count, "payload": payload,
                       "user_expressions": user_expressions})
            }
            Err(err) => {
                let formatted = match err {
                    CellError::Python(err) => format_error(py, &err),
                    CellError::Formatted(formatted) => formatted,
                };
                if !silent {
                    ctx.publisher.publish(
                        "error",
                        json!({"ename": formatted.ename, "evalue": formatted.evalue,
                               "traceback": formatted.traceback}),
                    );
                }
                json!({"status": "error", "execution_count": count, "ename": formatted.ename,
                       "evalue": formatted.evalue, "traceback": formatted.traceback})
            }
        }
    }

    /// A Rust cell, run with the interpreter's lock released.
    fn run_rust_cell(
        &mut self,
        py: Python<'_>,
        ctx: &KernelContext,
        request: &Message,
        code: &str,
        count: u64,
        quiet: bool,
    ) -> Result<(), CellError> {
        let rust = self.rust.get_or_insert_with(|| {
            crate::rust::RustCells::new(&ctx.interrupter, ctx.engine.clone())
        });
        let allow_stdin = request.content["allow_stdin"].as_bool().unwrap_or(false);
        let input = |prompt: &str, password: bool| -> String {
            if !allow_stdin {
                return String::new();
            }
            ctx.publisher.flush();
            ctx.stdin
                .request(request, prompt, password, || true)
                .unwrap_or_default()
        };
        let bundle = py
            .detach(|| rust.execute(code, &ctx.publisher, &input))
            .map_err(CellError::Formatted)?;
        if let Some(bundle) = bundle.filter(|_| !quiet) {
            ctx.publisher
                .publish("execute_result", crate::rust::execute_result(bundle, count));
        }
        Ok(())
    }

    fn run_cell(
        &self,
        py: Python<'_>,
        ctx: &KernelContext,
        code: &str,
        count: u64,
        quiet: bool,
    ) -> PyResult<()> {
        let ns = ctx.user_ns(py);
        let source = transform_cell(code);
        let filename = cell_filename(count);
        let value = run_source(py, &ns, &source, &filename)?;
        if let Some(value) = value {
            if !value.is_none() && !output_suppressed(code) && !quiet {
                store_output(&ns, &value, count)?;
                display::publish_result(py, &value, count)?;
            }
        }
        Ok(())
    }
}

/// Drops a SIGINT that arrived after the cell ended, so it never hits the next one.
fn discard_pending_signals(py: Python<'_>) {
    let _ = py.check_signals();
}

/// Flushes anything user code buffered on its own stream objects.
fn flush_python_streams(py: Python<'_>) {
    if let Ok(sys) = py.import("sys") {
        for name in ["stdout", "stderr"] {
            if let Ok(stream) = sys.getattr(name) {
                let _ = stream.call_method0("flush");
            }
        }
    }
}

fn evaluate_user_expressions(py: Python<'_>, ctx: &KernelContext, expressions: &Value) -> Value {
    let mut results = Map::new();
    let Some(expressions) = expressions.as_object() else {
        return Value::Object(results);
    };
    let ns = ctx.user_ns(py);
    for (name, expr) in expressions {
        let expr = expr.as_str().unwrap_or("");
        let result = py
            .import("builtins")
            .and_then(|b| b.call_method1("eval", (expr, &ns)))
            .and_then(|value| display::mime_bundle(py, &value));
        let entry = match result {
            Ok(bundle) => json!({"status": "ok", "data": bundle.data, "metadata": bundle.metadata}),
            Err(err) => {
                let f = format_error(py, &err);
                json!({"status": "error", "ename": f.ename, "evalue": f.evalue, "traceback": f.traceback})
            }
        };
        results.insert(name.clone(), entry);
    }
    Value::Object(results)
}

#[cfg(test)]
mod tests {
    use super::output_suppressed;

    #[test]
    fn semicolon_hides_output() {
        assert!(output_suppressed("x = 1\nx;"));
        assert!(output_suppressed("x;  # quiet\n\n"));
        assert!(!output_suppressed("x"));
        assert!(!output_suppressed("f(';')"));
    }
}
