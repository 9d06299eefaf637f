//! Interrupting the running cell: a real SIGINT to the interpreter thread, so
//! Python raises `KeyboardInterrupt` even inside `time.sleep` or a blocking read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

type InterruptHook = Box<dyn Fn() + Send + Sync>;

pub struct Interrupter {
    interpreter_thread: libc::pthread_t,
    busy: AtomicBool,
    /// Also run on an interrupt: stop work Python's signal cannot reach (engine jobs).
    hooks: Mutex<Vec<InterruptHook>>,
}

impl Interrupter {
    /// Must be called on the interpreter thread.
    pub fn for_current_thread() -> Self {
        Interrupter {
            // SAFETY: pthread_self has no preconditions.
            interpreter_thread: unsafe { libc::pthread_self() },
            busy: AtomicBool::new(false),
            hooks: Mutex::new(Vec::new()),
        }
    }

    pub fn on_interrupt(&self, hook: InterruptHook) {
        self.hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(hook);
    }

    pub fn set_busy(&self, busy: bool) {
        self.busy.store(busy, Ordering::SeqCst);
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst)
    }

    /// Interrupts the running cell; does nothing when idle, so a stray
    /// interrupt never lands in the next cell.
    pub fn interrupt(&self) {
        if !self.is_busy() {
            return;
        }
        for hook in self.hooks.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            hook();
        }
        // SAFETY: the thread id was taken from a thread that lives as long as the
        // process (the interpreter runs on the main thread).
        unsafe {
            libc::pthread_kill(self.interpreter_thread, libc::SIGINT);
        }
    }
}

/// Blocks SIGINT on the calling thread (threads it spawns inherit the mask),
/// so a process-directed SIGINT always reaches the interpreter thread.
pub fn block_sigint_in_this_thread(block: bool) {
    // SAFETY: plain signal-mask manipulation on the calling thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        let how = if block {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}
