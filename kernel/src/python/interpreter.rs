//! Starting CPython inside the kernel: the interpreter of the virtual
//! environment Kiln was built against, with its site-packages, and with
//! Python's own SIGINT handler so interrupts raise `KeyboardInterrupt`.

use std::ffi::CString;
use std::path::Path;

use pyo3::ffi;

use crate::error::KernelError;

/// The interpreter Kiln was built against (recorded by build.rs).
pub const BUILT_PYTHON: &str = env!("KILN_PYTHON");

/// Starts the interpreter on the calling thread, which becomes Python's main
/// thread, then releases the GIL. Call once, before anything else touches Python.
pub fn start() -> Result<(), KernelError> {
    let python = std::env::var("KILN_PYTHON").unwrap_or_else(|_| BUILT_PYTHON.to_string());
    if !Path::new(&python).exists() {
        return Err(KernelError::Python(format!(
            "the Python interpreter Kiln was built against, {python}, is missing; \
             rebuild Kiln against an existing environment (see the README) or set \
             KILN_PYTHON to a Python {} interpreter",
            built_version()
        )));
    }
    let executable = CString::new(python.as_bytes())
        .map_err(|_| KernelError::Python(format!("bad interpreter path {python:?}")))?;
    // Python installs its KeyboardInterrupt handler only where SIGINT has its
    // default action, and a kernel started from a shell's background job (or
    // by a server started so) inherits SIGINT ignored: interrupts are
    // messages to a kernel, so the kernel decides how SIGINT is handled.
    // SAFETY: setting a signal's disposition has no memory preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
    // SAFETY: the documented PyConfig sequence; the config lives on this stack
    // frame for the whole call and is cleared on every path.
    unsafe {
        let mut config: ffi::PyConfig = std::mem::zeroed();
        ffi::PyConfig_InitPythonConfig(&mut config);
        config.install_signal_handlers = 1;
        // String hashes fixed as in Spark's Python workers (seed 0), so RDD
        // keys land in the partitions PySpark puts them in.
        if std::env::var_os("PYTHONHASHSEED").is_none() {
            std::env::set_var("PYTHONHASHSEED", "0");
            config.use_hash_seed = 1;
            config.hash_seed = 0;
        }
        // Setting the executable makes Python find the venv's pyvenv.cfg and
        // site-packages, exactly as if the venv's python had been started.
        let status =
            ffi::PyConfig_SetBytesString(&mut config, &mut config.executable, executable.as_ptr());
        if ffi::PyStatus_Exception(status) != 0 {
            ffi::PyConfig_Clear(&mut config);
            return Err(KernelError::Python(format!(
                "cannot configure the interpreter {python}"
            )));
        }
        let argv = [CString::default()];
        let mut argv_ptrs: Vec<*const std::ffi::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ffi::PyConfig_SetBytesArgv(&mut config, 1, argv_ptrs.as_mut_ptr());
        let status = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            return Err(KernelError::Python(format!(
                "the Python interpreter {python} failed to start"
            )));
        }
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

/// "3.11" for the interpreter this binary links.
fn built_version() -> &'static str {
    env!("KILN_PYTHON_VERSION")
}
