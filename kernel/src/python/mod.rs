//! The embedded CPython: starting it, the `_kiln` module that connects it to
//! the kernel, and the loop that serves interpreter jobs on the main thread.

pub mod context;
pub mod interpreter;
pub mod introspect;
pub mod io;
pub mod runner;
pub mod traceback;

use std::sync::{mpsc, Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};
use serde_json::{json, Value};

use crate::display;
use crate::history::History;
use crate::interrupt::Interrupter;
use crate::magics;
use crate::protocol::{Job, Message, ServerParts};
use context::KernelContext;

/// Makes `IPython.display.display` and friends publish through Kiln.
const IPYTHON_BRIDGE: &str = include_str!("ipython_bridge.py");

/// A panic provoked on purpose, so tests can check the kernel survives one.
#[pyfunction]
fn _test_panic(message: &str) -> PyResult<()> {
    if std::env::var_os("KILN_TEST_HOOKS").is_none() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(
            "test hooks are off (set KILN_TEST_HOOKS=1 in the kernel's environment)",
        ));
    }
    panic!("{message}");
}

fn build_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let module = PyModule::new(py, "_kiln")?;
    module.add_class::<io::OutStream>()?;
    module.add_class::<display::DisplayHandle>()?;
    module.add_function(wrap_pyfunction!(io::input, &module)?)?;
    module.add_function(wrap_pyfunction!(io::getpass, &module)?)?;
    module.add_function(wrap_pyfunction!(display::display, &module)?)?;
    module.add_function(wrap_pyfunction!(display::update_display, &module)?)?;
    module.add_function(wrap_pyfunction!(display::clear_output, &module)?)?;
    module.add_function(wrap_pyfunction!(_test_panic, &module)?)?;
    module.add(
        "StdinNotImplementedError",
        py.get_type::<io::StdinNotImplementedError>(),
    )?;
    magics::register(&module)?;
    py.import("sys")?
        .getattr("modules")?
        .set_item("_kiln", &module)?;
    Ok(module)
}

/// Language details for `kernel_info_reply`, read from the interpreter.
pub fn language_info(py: Python<'_>) -> PyResult<Value> {
    let platform = py.import("platform")?;
    let version: String = platform.call_method0("python_version")?.extract()?;
    Ok(json!({
        "name": "python",
        "version": version,
        "mimetype": "text/x-python",
        "file_extension": ".py",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "pygments_lexer": "ipython3",
        "nbconvert_exporter": "python",
    }))
}

/// Where an installed PySpark lives, if the environment has one (Kiln's own
/// `pyspark` is served ahead of it).
pub fn shadowed_pyspark(py: Python<'_>) -> Option<String> {
    let spec = py
        .import("importlib.machinery")
        .ok()?
        .getattr("PathFinder")
        .ok()?
        .call_method1("find_spec", ("pyspark",))
        .ok()?;
    if spec.is_none() {
        return None;
    }
    spec.getattr("origin")
        .ok()?
        .extract::<String>()
        .ok()
        .map(|origin| {
            origin
                .strip_suffix("/__init__.py")
                .unwrap_or(&origin)
                .to_string()
        })
}

/// Sets up `__main__` as the user's namespace and wires the kernel into it.
pub fn prepare(
    parts: ServerParts,
    interrupter: Arc<Interrupter>,
    history: Arc<Mutex<History>>,
    language: crate::rust::Language,
) -> PyResult<()> {
    Python::attach(|py| {
        let module = build_module(py)?;
        let builtins = py.import("builtins")?;
        builtins.setattr("display", module.getattr("display")?)?;
        builtins.setattr("__kiln__", &module)?;
        let main = py.import("__main__")?;
        let ns = main.dict();
        ns.set_item("In", PyList::new(py, [""])?)?;
        ns.set_item("Out", PyDict::new(py))?;
        let initial_names = ns
            .keys()
            .iter()
            .filter_map(|k| k.extract::<String>().ok())
            .collect();
        let engine = kiln_engine::Session::new("local[*]")
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        let events = engine.events().clone();
        events.add_listener(crate::display::progress::ProgressListener::start(
            parts.publisher.clone(),
            engine.clone(),
        ));
        interrupter.on_interrupt(Box::new(move || events.cancel_all()));
        context::install(KernelContext {
            engine,
            language,
            publisher: parts.publisher,
            stdin: parts.stdin,
            interrupter,
            history,
            user_ns: ns.unbind(),
            initial_names,
            current: Mutex::new(None),
            payloads: Mutex::new(Vec::new()),
        });
        io::install(py)?;
        crate::pyspark::install(py)?;
        let bridge = std::ffi::CString::new(IPYTHON_BRIDGE)?;
        PyModule::from_code(
            py,
            &bridge,
            c"<kiln ipython_bridge>",
            c"_kiln_ipython_bridge",
        )?;
        Ok(())
    })
}

fn reply_for(
    py: Python<'_>,
    runner: &mut runner::Runner,
    ctx: &KernelContext,
    request: &Message,
) -> Value {
    match request.msg_type() {
        "execute_request" => runner.execute(py, ctx, request),
        "complete_request" => introspect::complete(py, &request.content),
        "inspect_request" => introspect::inspect(py, &request.content),
        "is_complete_request" => introspect::is_complete(py, &request.content),
        other => json!({"status": "error", "ename": "KilnInternalError",
                        "evalue": format!("no interpreter handler for {other}"), "traceback": []}),
    }
}

/// Serves interpreter jobs until shutdown. Runs on the thread that started Python.
pub fn serve_jobs(jobs: mpsc::Receiver<Job>) {
    let mut runner = runner::Runner::new();
    // Waiting happens with the GIL released, so user threads keep running.
    let jobs = Mutex::new(jobs);
    loop {
        let job = Python::attach(|py| py.detach(|| context::lock(&jobs).recv()));
        match job {
            Ok(Job::Request { request, reply }) => {
                let content = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    Python::attach(|py| match context::context() {
                        Ok(ctx) => reply_for(py, &mut runner, ctx, &request),
                        Err(e) => json!({"status": "error", "ename": "KilnInternalError",
                                         "evalue": e.to_string(), "traceback": []}),
                    })
                }))
                .unwrap_or_else(|panic| {
                    let text = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    json!({"status": "error", "ename": "KilnInternalError",
                           "evalue": format!("Kiln hit an internal error (a bug in Kiln, not in your code); the kernel is still running: {text}"),
                           "traceback": [format!("KilnInternalError: {text}")]})
                });
                let _ = reply.send(content);
                crate::malloc_tuning::release_free_memory();
            }
            Ok(Job::Shutdown) | Err(_) => {
                Python::attach(|py| {
                    if let Ok(atexit) = py.import("atexit") {
                        let _ = atexit.call_method0("_run_exitfuncs");
                    }
                    if let Ok(ctx) = context::context() {
                        ctx.publisher.flush();
                    }
                });
                std::thread::sleep(std::time::Duration::from_millis(30));
                std::process::exit(0);
            }
        }
    }
}
