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

pub fn run(connection_file: &Path) -> Result<(), KernelError> {
    let info = ConnectionInfo::from_file(connection_file)?;
    python::interpreter::start()?;
    let language_info =
        Python::attach(python::language_info).map_err(|e| KernelError::Python(e.to_string()))?;
    let kernel_info = json!({
        "status": "ok",
        "protocol_version": protocol::message::PROTOCOL_VERSION,
        "implementation": "kiln",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": language_info,
        "banner": format!(
            "Kiln {} — Spark-style batch processing in Jupyter (Python {}){}",
            env!("CARGO_PKG_VERSION"),
            language_info["version"].as_str().unwrap_or("?"),
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
    python::prepare(parts, interrupter, history).map_err(|e| KernelError::Python(e.to_string()))?;
    python::serve_jobs(jobs_rx);
    Ok(())
}
