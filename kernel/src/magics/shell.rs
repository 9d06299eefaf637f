//! Running shell commands for `!cmd`, `x = !cmd`, `%%sh` and `%%bash`: output
//! streams into the cell as it comes, and an interrupt stops the whole process group.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

use crate::python::context::context;

/// How a command's standard output is used.
pub enum Stdout {
    /// Streamed into the cell.
    Stream,
    /// Collected and returned (`x = !cmd`).
    Capture,
}

pub struct Finished {
    pub status: i32,
    pub captured: String,
}

fn pump(
    mut reader: impl Read + Send + 'static,
    name: &'static str,
    capture: Option<std::sync::mpsc::Sender<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            // Only send whole UTF-8 sequences; keep a split character for later.
            let valid = match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                Err(_) => pending.len(),
            };
            let text = String::from_utf8_lossy(&pending[..valid]).into_owned();
            pending.drain(..valid);
            match &capture {
                Some(tx) => {
                    let _ = tx.send(text);
                }
                None => {
                    if let Ok(ctx) = context() {
                        ctx.publisher.stream(name, &text);
                    }
                }
            }
        }
        if !pending.is_empty() {
            let text = String::from_utf8_lossy(&pending).into_owned();
            match &capture {
                Some(tx) => {
                    let _ = tx.send(text);
                }
                None => {
                    if let Ok(ctx) = context() {
                        ctx.publisher.stream(name, &text);
                    }
                }
            }
        }
    })
}

fn stop(child: &mut Child) {
    let pgid = child.id() as i32;
    // SAFETY: signalling the process group we created for this child.
    unsafe {
        libc::kill(-pgid, libc::SIGINT);
    }
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Runs `script` with `shell -c`, waiting in slices so SIGINT (the interrupt
/// button) raises `KeyboardInterrupt` and ends the command.
pub fn run(py: Python<'_>, shell: &str, script: &str, stdout: Stdout) -> PyResult<Finished> {
    let ctx = context()?;
    ctx.publisher.flush();
    let mut command = Command::new(shell);
    command
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("cannot start {shell}: {e}")))?;
    let (capture_tx, capture_rx) = std::sync::mpsc::channel();
    let capture = matches!(stdout, Stdout::Capture).then_some(capture_tx);
    let mut pumps = Vec::new();
    if let Some(out) = child.stdout.take() {
        pumps.push(pump(out, "stdout", capture));
    }
    if let Some(err) = child.stderr.take() {
        pumps.push(pump(err, "stderr", None));
    }
    let status = loop {
        let waited = py.detach(|| {
            let deadline = Instant::now() + Duration::from_millis(50);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Ok(Some(status)),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Ok(None) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
        });
        match waited {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(pyo3::exceptions::PyOSError::new_err(e.to_string())),
        }
        if let Err(interrupt) = py.check_signals() {
            py.detach(|| stop(&mut child));
            return Err(interrupt);
        }
    };
    py.detach(|| {
        for pump in pumps {
            let _ = pump.join();
        }
    });
    let captured: String = capture_rx.try_iter().collect();
    ctx.publisher.flush();
    Ok(Finished {
        status: status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            128 + status.signal().unwrap_or(0)
        }),
        captured,
    })
}
