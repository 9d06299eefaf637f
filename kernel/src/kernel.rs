//! Starting a kernel: interpreter on the main thread, sockets on an I/O thread.

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

use pyo3::prelude::*;
use serde_json::json;

use crate::error::KernelError;
use crate::history::History;
use crate::interrupt::{block_sigint_in_this_thread, Interrupter};
use crate::protocol::{self, ConnectionInfo};
use crate::python;
use crate::rust::Language;

/// Puts the directory of this executable first on `PATH`, so a cell's
/// `!kiln datagen ...` runs this same Kiln whether or not its environment
/// is activated. Called before any thread starts.
fn put_own_directory_on_path() {
    let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    else {
        return;
    };
    let current = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&current).next().as_deref() == Some(dir.as_path()) {
        return;
    }
    let paths = std::iter::once(dir).chain(std::env::split_paths(&current));
    if let Ok(joined) = std::env::join_paths(paths) {
        std::env::set_var("PATH", joined);
    }
}

pub fn run(connection_file: &Path, language: Language) -> Result<(), KernelError> {
    let info = ConnectionInfo::from_file(connection_file)?;
    put_own_directory_on_path();
    python::interpreter::start()?;
    let python_info =
        Python::attach(python::language_info).map_err(|e| KernelError::Python(e.to_string()))?;
    let language_info = match language {
        Language::Python => python_info.clone(),
        Language::Rust => crate::rust::language_info(),
    };
    let kernel_info = json!({
        "status": "ok",
        "protocol_version": protocol::message::PROTOCOL_VERSION,
        "implementation": "kiln",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": language_info,
        "banner": format!(
            "Kiln {} — Spark-style batch processing in Jupyter (Python {}){}",
            env!("CARGO_PKG_VERSION"),
            python_info["version"].as_str().unwrap_or("?"),
            Python::attach(python::shadowed_pyspark)
                .map(|path| format!(
                    "\n`import pyspark` gives Kiln's PySpark; the PySpark installed at {path} is not used."
                ))
                .unwrap_or_default()
        ),
        "help_links": [
            {"text": "Python Reference", "url": "https://docs.python.org/3/"},
            {"text": "PySpark", "url": "https://spark.apache.org/docs/latest/api/python/"},
        ],
        "debugger": false,
    });
    let interrupter = Arc::new(Interrupter::for_current_thread());
    let history = Arc::new(Mutex::new(History::default()));
    let (jobs_tx, jobs_rx) = mpsc::channel();
    // The I/O thread (and everything it spawns) must never take SIGINT.
    block_sigint_in_this_thread(true);
    let served = protocol::serve(
        &info,
        kernel_info,
        history.clone(),
        interrupter.clone(),
        jobs_tx,
    );
    block_sigint_in_this_thread(false);
    let parts = served?;
    python::prepare(parts, interrupter, history, language)
        .map_err(|e| KernelError::Python(e.to_string()))?;
    python::serve_jobs(jobs_rx);
    Ok(())
}
