//! Rust cells: `%%rust` in the Kiln kernel, every cell in "Kiln (Rust)".
//! evcxr compiles each cell into a library and runs it in a child process
//! (this executable, re-run as evcxr's runtime), which keeps the cell's
//! variables for the next one. This module owns that evaluation context:
//! created on the first Rust cell, its output streamed as the cell runs,
//! panics and compile errors turned into Jupyter errors, interrupts
//! stopping the child and any build in progress.

mod errors;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use evcxr::{CommandContext, EvalCallbacks, EvalContext, EvalContextOutputs};
use serde_json::{json, Map, Value};

use crate::protocol::Publisher;
use crate::python::traceback::FormattedError;

/// The MIME type the child's panic hook reports a panic under.
const PANIC_MIME: &str = "application/vnd.kiln.rust-panic";

/// Installed in every child process: a panic reports its message to the
/// kernel instead of printing to stderr, so the cell ends in an error.
const PANIC_HOOK: &str = r#"std::panic::set_hook(Box::new(|info| {
    let payload = info.payload();
    let message = payload.downcast_ref::<&str>().map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_string());
    println!("EVCXR_BEGIN_CONTENT application/vnd.kiln.rust-panic\n{message}\nEVCXR_END_CONTENT");
}));"#;

/// Which language a cell is in, from its first line and the kernel's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Python,
    Rust,
}

/// A cell's body and the language it runs in.
pub fn split_cell(code: &str, default: Language) -> (Language, &str) {
    let trimmed = code.trim_start();
    let (first, rest) = trimmed.split_once('\n').unwrap_or((trimmed, ""));
    match first.trim_end() {
        "%%rust" => (Language::Rust, rest),
        "%%python" => (Language::Python, rest),
        // Other cell magics (`%%sql`, `%%bash`, ...) are the Python side's.
        _ if default == Language::Rust && !trimmed.starts_with("%%") => (Language::Rust, code),
        _ => (Language::Python, code),
    }
}

/// The evaluation context and what watches it.
struct Evaluator {
    context: CommandContext,
    /// The child process running the cells (replaced by evcxr after it dies).
    child: Arc<Mutex<std::process::Child>>,
    /// The child that has Kiln's panic hook installed.
    hooked_child: Option<u32>,
}

/// The kernel's Rust cells.
pub struct RustCells {
    evaluator: Option<Evaluator>,
    /// True while a Rust cell runs: an interrupt then stops the child.
    running: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
}

/// The standard library's sources, which evcxr's type inference reads;
/// rustup's `rust-src` component, else a Debian `rust-*-src` package.
fn rust_src_path() -> Option<std::path::PathBuf> {
    if std::env::var_os("RUST_SRC_PATH").is_some() {
        return None;
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let component = std::path::Path::new(&sysroot).join("lib/rustlib/src/rust/library");
    if component.is_dir() {
        return None;
    }
    let mut packaged: Vec<_> = std::fs::read_dir("/usr/src")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("library"))
        .filter(|p| p.join("std").is_dir())
        .collect();
    packaged.sort();
    packaged.pop()
}

/// Every process this one started, children before their own children.
fn descendants() -> Vec<i32> {
    let mut found = Vec::new();
    let mut pending = vec![std::process::id() as i32];
    while let Some(pid) = pending.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.filter_map(|t| t.ok()) {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                pending.push(child);
            }
        }
    }
    found
}

impl RustCells {
    pub fn new(interrupter: &crate::interrupt::Interrupter) -> RustCells {
        let running = Arc::new(AtomicBool::new(false));
        let interrupted = Arc::new(AtomicBool::new(false));
        let (flag, stopped) = (running.clone(), interrupted.clone());
        interrupter.on_interrupt(Box::new(move || {
            if !flag.load(Ordering::SeqCst) {
                return;
            }
            stopped.store(true, Ordering::SeqCst);
            // The child running the cell and any cargo/rustc building it.
            for pid in descendants() {
                // SAFETY: kill has no memory-safety preconditions; the pids
                // are this process's own descendants.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }));
        RustCells {
            evaluator: None,
            running,
            interrupted,
        }
    }

    fn start(publisher: &Arc<Publisher>) -> Result<Evaluator, FormattedError> {
        let exe = std::env::current_exe().map_err(|e| failure("RustStartError", e.to_string()))?;
        let mut command = Command::new(exe);
        if let Some(src) = rust_src_path() {
            std::env::set_var("RUST_SRC_PATH", src);
        }
        // Cargo variables of whatever started the kernel (a `cargo test`)
        // would change how cells build.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_") && key != "CARGO_HOME" || key == "RUSTC_WRAPPER" {
                command.env_remove(key.as_ref());
            }
        }
        let (eval_context, outputs) =
            EvalContext::with_subprocess_command(command).map_err(|e| {
                failure(
                    "RustStartError",
                    format!(
                        "Could not start Rust cells (evcxr needs cargo and rustc on PATH): {e}"
                    ),
                )
            })?;
        forward(outputs, publisher);
        let context = CommandContext::with_eval_context(eval_context);
        let child = context.process_handle();
        Ok(Evaluator {
            context,
            child,
            hooked_child: None,
        })
    }

    /// Runs one Rust cell; its result's MIME bundle, if it has a value.
    /// `input(prompt, password)` answers the cell's requests for input.
    pub fn execute(
        &mut self,
        code: &str,
        publisher: &Arc<Publisher>,
        input: &dyn Fn(&str, bool) -> String,
    ) -> Result<Option<Map<String, Value>>, FormattedError> {
        self.interrupted.store(false, Ordering::SeqCst);
        self.running.store(true, Ordering::SeqCst);
        let result = self.run(code, publisher, input);
        self.running.store(false, Ordering::SeqCst);
        result
    }

    fn run(
        &mut self,
        code: &str,
        publisher: &Arc<Publisher>,
        input: &dyn Fn(&str, bool) -> String,
    ) -> Result<Option<Map<String, Value>>, FormattedError> {
        if self.evaluator.is_none() {
            self.evaluator = Some(Self::start(publisher)?);
        }
        let Some(evaluator) = self.evaluator.as_mut() else {
            return Err(failure("RustStartError", "no Rust evaluator".into()));
        };
        let mut callbacks = EvalCallbacks {
            input_reader: &|request| input(&request.prompt, request.is_password),
        };
        let child = evaluator.child.lock().map(|c| c.id()).ok();
        if child != evaluator.hooked_child {
            evaluator
                .context
                .execute_with_callbacks(PANIC_HOOK, &mut callbacks)
                .map_err(|e| failure_of(e, code, &self.interrupted))?;
            evaluator.hooked_child = child;
        }
        let Some(evaluator) = self.evaluator.as_mut() else {
            return Err(failure("RustStartError", "no Rust evaluator".into()));
        };
        let outputs = evaluator
            .context
            .execute_with_callbacks(code, &mut callbacks)
            .map_err(|e| failure_of(e, code, &self.interrupted))?;
        let mut bundle: Map<String, Value> = outputs
            .content_by_mime_type
            .into_iter()
            .map(|(mime, content)| {
                let value = if mime.contains("json") {
                    serde_json::from_str(&content).unwrap_or(Value::String(content))
                } else {
                    Value::String(content)
                };
                (mime, value)
            })
            .collect();
        if let Some(message) = bundle.remove(PANIC_MIME) {
            let message = message.as_str().unwrap_or_default().to_string();
            return Err(FormattedError {
                traceback: vec![format!(
                    "\x1b[0;31mthread panicked\x1b[0m: {message}\n\
                     (variables the cell defined are gone; earlier ones are kept)"
                )],
                ename: "Panic".into(),
                evalue: message,
            });
        }
        Ok((!bundle.is_empty()).then_some(bundle))
    }
}

/// A failed evaluation as a Jupyter error.
fn failure_of(error: evcxr::Error, code: &str, interrupted: &AtomicBool) -> FormattedError {
    match error {
        evcxr::Error::CompilationErrors(list) => errors::compile_errors(&list, code),
        evcxr::Error::SubprocessTerminated(message) => {
            if interrupted.load(Ordering::SeqCst) {
                failure(
                    "KeyboardInterrupt",
                    "The Rust cell was stopped. The process holding Rust variables restarted: \
                     variables from earlier Rust cells are gone (dependencies are kept)."
                        .into(),
                )
            } else {
                failure(
                    "RustProcessDied",
                    format!(
                        "{message} The process holding Rust variables restarted: \
                         variables from earlier Rust cells are gone."
                    ),
                )
            }
        }
        other => failure("RustError", other.to_string()),
    }
}

fn failure(ename: &str, evalue: String) -> FormattedError {
    FormattedError {
        traceback: vec![format!("\x1b[0;31m{ename}\x1b[0m: {evalue}")],
        ename: ename.into(),
        evalue,
    }
}

/// Streams the child's stdout and stderr lines to the cell as they come.
fn forward(outputs: EvalContextOutputs, publisher: &Arc<Publisher>) {
    for (receiver, name) in [(outputs.stdout, "stdout"), (outputs.stderr, "stderr")] {
        let publisher = publisher.clone();
        std::thread::Builder::new()
            .name(format!("kiln-rust-{name}"))
            .spawn(move || {
                while let Ok(line) = receiver.recv() {
                    publisher.stream(name, &format!("{line}\n"));
                }
            })
            .ok();
    }
}

/// Language details for the "Kiln (Rust)" kernel's `kernel_info_reply`.
pub fn language_info() -> Value {
    let version = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_default();
    json!({
        "name": "rust",
        "version": version,
        "mimetype": "text/rust",
        "file_extension": ".rs",
        "codemirror_mode": "rust",
        "pygments_lexer": "rust",
    })
}

/// What a Rust cell's value publishes as `execute_result`.
pub fn execute_result(bundle: Map<String, Value>, count: u64) -> Value {
    json!({"data": bundle, "metadata": {}, "execution_count": count})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_runs_in_the_language_its_first_line_names() {
        assert_eq!(
            split_cell("%%rust\nlet x = 1;", Language::Python),
            (Language::Rust, "let x = 1;")
        );
        assert_eq!(
            split_cell("  %%python  \nx = 1", Language::Rust),
            (Language::Python, "x = 1")
        );
        assert_eq!(
            split_cell("let x = 1;", Language::Rust),
            (Language::Rust, "let x = 1;")
        );
        assert_eq!(
            split_cell("x = 1", Language::Python),
            (Language::Python, "x = 1")
        );
        // Other cell magics belong to the Python side in both kernels.
        assert_eq!(
            split_cell("%%sql\nSELECT 1", Language::Rust),
            (Language::Python, "%%sql\nSELECT 1")
        );
    }
}
