//! Job, stage and task events with metrics, delivered to listeners (the
//! kernel's progress bars, a Spark-UI-like page), and the per-job state a
//! running task carries: its ids and its cancel token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a stage does with its tasks' output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// Writes shuffle buckets for the next stage.
    ShuffleMap,
    /// Computes a broadcast join's build side, shared by every task of the join.
    Broadcast,
    /// Produces the job's result (rows to the driver, or files).
    Result,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskMetrics {
    /// Rows and bytes the task's sources read (files, ranges, local rows).
    pub rows_read: u64,
    pub bytes_read: u64,
    pub rows_out: u64,
    pub bytes_out: u64,
    pub shuffle_write_bytes: u64,
    pub spill_bytes: u64,
    pub duration: Duration,
}

impl TaskMetrics {
    pub fn add(&mut self, other: &TaskMetrics) {
        self.rows_read += other.rows_read;
        self.bytes_read += other.bytes_read;
        self.rows_out += other.rows_out;
        self.bytes_out += other.bytes_out;
        self.shuffle_write_bytes += other.shuffle_write_bytes;
        self.spill_bytes += other.spill_bytes;
        self.duration += other.duration;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Succeeded,
    Failed(String),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    JobStart {
        job: u64,
        description: String,
    },
    StageStart {
        job: u64,
        stage: u64,
        kind: StageKind,
        tasks: usize,
    },
    TaskEnd {
        job: u64,
        stage: u64,
        partition: usize,
        metrics: TaskMetrics,
    },
    StageEnd {
        job: u64,
        stage: u64,
        metrics: TaskMetrics,
    },
    JobEnd {
        job: u64,
        outcome: JobOutcome,
        duration: Duration,
        /// Rows the job's sources produced (files, ranges, local rows, cache).
        rows_read: u64,
    },
}

pub trait EventListener: Send + Sync {
    fn on_event(&self, event: &EngineEvent);
}

/// Listeners and id counters shared by a session's jobs.
#[derive(Default)]
pub struct EventBus {
    listeners: Mutex<Vec<Arc<dyn EventListener>>>,
    next_job: AtomicU64,
    next_stage: AtomicU64,
    active: Mutex<Vec<super::CancelToken>>,
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus").finish_non_exhaustive()
    }
}

impl EventBus {
    pub fn add_listener(&self, listener: Arc<dyn EventListener>) {
        if let Ok(mut l) = self.listeners.lock() {
            l.push(listener);
        }
    }

    pub fn remove_listener(&self, listener: &Arc<dyn EventListener>) {
        if let Ok(mut l) = self.listeners.lock() {
            l.retain(|x| !Arc::ptr_eq(x, listener));
        }
    }

    pub fn emit(&self, event: &EngineEvent) {
        let listeners = self.listeners.lock().map(|l| l.clone()).unwrap_or_default();
        for listener in listeners {
            listener.on_event(event);
        }
    }

    /// Cancels every running job (the kernel's interrupt).
    pub fn cancel_all(&self) {
        if let Ok(active) = self.active.lock() {
            for token in active.iter() {
                token.cancel();
            }
        }
    }
}

/// One running job.
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    bus: Arc<EventBus>,
    started: Instant,
    rows_read: AtomicU64,
}

impl Job {
    /// Starts a job: a fresh id and cancel token, registered for `cancel_all`.
    pub fn start(bus: &Arc<EventBus>, description: &str) -> (Arc<Job>, super::CancelToken) {
        let id = bus.next_job.fetch_add(1, Ordering::Relaxed);
        let token = super::CancelToken::default();
        if let Ok(mut active) = bus.active.lock() {
            active.push(token.clone());
        }
        bus.emit(&EngineEvent::JobStart {
            job: id,
            description: description.to_string(),
        });
        (
            Arc::new(Job {
                id,
                bus: bus.clone(),
                started: Instant::now(),
                rows_read: AtomicU64::new(0),
            }),
            token,
        )
    }

    pub fn finish(&self, token: &super::CancelToken, outcome: JobOutcome) {
        if let Ok(mut active) = self.bus.active.lock() {
            active.retain(|t| !t.same(token));
        }
        self.bus.emit(&EngineEvent::JobEnd {
            job: self.id,
            outcome,
            duration: self.started.elapsed(),
            rows_read: self.rows_read.load(Ordering::Relaxed),
        });
    }

    /// Counts rows a source produced for this job.
    pub fn add_rows_read(&self, rows: usize) {
        self.rows_read.fetch_add(rows as u64, Ordering::Relaxed);
    }

    pub fn next_stage(&self) -> u64 {
        self.bus.next_stage.fetch_add(1, Ordering::Relaxed)
    }

    pub fn emit(&self, event: EngineEvent) {
        self.bus.emit(&event);
    }
}
