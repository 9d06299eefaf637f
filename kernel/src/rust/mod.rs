//! Rust cells: `%%rust` in the Kiln kernel, every cell in "Kiln (Rust)".
//! evcxr compiles each cell into a library and runs it in a child process
//! (this executable, re-run as evcxr's runtime), which keeps the cell's
//! variables for the next one. This module owns that evaluation context:
//! created on the first Rust cell, its output streamed as the cell runs,
//! panics and compile errors turned into Jupyter errors, interrupts
//! stopping the child and any build in progress. Cells reach the kernel's
//! engine session through the `kiln` crate (`kernel/sdk/kiln`, answered by
//! `bridge`), added to every evaluator as a dependency.

mod bridge;
mod errors;

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

/// The `kiln` crate's sources, written out for evcxr to build.
const SDK_FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../../sdk/kiln/Cargo.toml")),
    ("src/lib.rs", include_str!("../../sdk/kiln/src/lib.rs")),
    (
        "src/protocol.rs",
        include_str!("../../sdk/kiln/src/protocol.rs"),
    ),
];

/// Writes the `kiln` crate under Kiln's cache (once per version; each file
/// replaced atomically, so kernels starting together never see half a file).
fn write_sdk() -> std::io::Result<PathBuf> {
    let base = std::env::var_os("KILN_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("kiln")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("rust-sdk/kiln-{}", env!("CARGO_PKG_VERSION")));
    for (name, text) in SDK_FILES {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(*text) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let staged = path.with_extension(format!("part{}", std::process::id()));
        std::fs::write(&staged, text)?;
        std::fs::rename(&staged, &path)?;
    }
    Ok(dir)
}

/// Errors the bridge returned to the running cell, and the one evcxr
/// printed when a `?` in the cell propagated it (the cell then fails with it).
#[derive(Default)]
struct ErrorWatch {
    returned: Vec<String>,
    raised: Option<String>,
    /// Lines still to hold back of the raised error's message.
    skip: usize,
}

fn watching(watch: &Mutex<ErrorWatch>) -> MutexGuard<'_, ErrorWatch> {
    watch.lock().unwrap_or_else(|p| p.into_inner())
}

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
    bridge: RefCell<bridge::Bridge>,
    watch: Arc<Mutex<ErrorWatch>>,
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
    pub fn new(
        interrupter: &crate::interrupt::Interrupter,
        session: kiln_engine::Session,
    ) -> RustCells {
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
            bridge: RefCell::new(bridge::Bridge::new(session)),
            watch: Arc::default(),
            running,
            interrupted,
        }
    }

    fn start(
        publisher: &Arc<Publisher>,
        watch: &Arc<Mutex<ErrorWatch>>,
    ) -> Result<Evaluator, FormattedError> {
        let sdk = write_sdk().map_err(|e| {
            failure(
                "RustStartError",
                format!("Could not write the kiln crate for Rust cells: {e}"),
            )
        })?;
        let exe = std::env::current_exe().map_err(|e| failure("RustStartError", e.to_string()))?;
        if let Some(src) = rust_src_path() {
            std::env::set_var("RUST_SRC_PATH", src);
        }
        let (eval_context, outputs) = EvalContext::with_subprocess_command(Command::new(exe))
            .map_err(|e| {
                failure(
                    "RustStartError",
                    format!(
                        "Could not start Rust cells (evcxr needs cargo and rustc on PATH): {e}"
                    ),
                )
            })?;
        forward(outputs, publisher, watch);
        let mut context = CommandContext::with_eval_context(eval_context);
        let child = context.process_handle();
        let sdk = sdk.display().to_string();
        context
            .execute(&format!(":dep kiln = {{ path = {sdk:?} }}"))
            .map_err(|e| failure("RustStartError", format!("adding the kiln crate: {e}")))?;
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
            self.evaluator = Some(Self::start(publisher, &self.watch)?);
        }
        let RustCells {
            evaluator: Some(evaluator),
            bridge,
            watch,
            interrupted,
            ..
        } = self
        else {
            return Err(failure("RustStartError", "no Rust evaluator".into()));
        };
        *watching(watch) = ErrorWatch::default();
        let mut callbacks = EvalCallbacks {
            input_reader: &|request| match bridge.borrow_mut().answer(&request.prompt) {
                Some(answer) => {
                    if let Err(message) = &answer {
                        watching(watch).returned.push(message.clone());
                    }
                    bridge::reply_line(&answer)
                }
                None => input(&request.prompt, request.is_password),
            },
        };
        let child = evaluator.child.lock().map(|c| c.id()).ok();
        if child != evaluator.hooked_child {
            evaluator
                .context
                .execute_with_callbacks(PANIC_HOOK, &mut callbacks)
                .map_err(|e| failure_of(e, code, interrupted))?;
            evaluator.hooked_child = child;
        }
        let outputs = evaluator
            .context
            .execute_with_callbacks(code, &mut callbacks)
            .map_err(|e| failure_of(e, code, interrupted))?;
        if let Some(message) = raised_error(watch) {
            return Err(FormattedError {
                traceback: vec![format!("\x1b[0;31mkiln::Error\x1b[0m: {message}")],
                ename: "kiln::Error".into(),
                evalue: message,
            });
        }
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

/// The `kiln` error a `?` propagated out of the cell, if any: evcxr prints
/// it on stderr (read by another thread), so it is waited for briefly, and
/// only when the bridge returned an error during the cell.
fn raised_error(watch: &Mutex<ErrorWatch>) -> Option<String> {
    if watching(watch).returned.is_empty() {
        return None;
    }
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        if let Some(message) = watching(watch).raised.take() {
            return Some(message);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
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

/// Streams the child's stdout and stderr lines to the cell as they come;
/// a `kiln` error that evcxr prints for a `?` is held back, to end the cell.
fn forward(
    outputs: EvalContextOutputs,
    publisher: &Arc<Publisher>,
    watch: &Arc<Mutex<ErrorWatch>>,
) {
    for (receiver, name) in [(outputs.stdout, "stdout"), (outputs.stderr, "stderr")] {
        let publisher = publisher.clone();
        let watch = watch.clone();
        std::thread::Builder::new()
            .name(format!("kiln-rust-{name}"))
            .spawn(move || {
                while let Ok(line) = receiver.recv() {
                    if name == "stderr" && held_back(&watch, &line) {
                        continue;
                    }
                    publisher.stream(name, &format!("{line}\n"));
                }
            })
            .ok();
    }
}

/// True for a stderr line that is (part of) a `kiln` error the cell raised.
fn held_back(watch: &Mutex<ErrorWatch>, line: &str) -> bool {
    let mut watch = watching(watch);
    if watch.skip > 0 {
        watch.skip -= 1;
        return true;
    }
    let Some(message) = watch
        .returned
        .iter()
        .find(|m| m.lines().next() == Some(line))
        .cloned()
    else {
        return false;
    };
    watch.skip = message.lines().count().saturating_sub(1);
    watch.raised = Some(message);
    true
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
