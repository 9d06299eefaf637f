//! Live job progress: an engine event listener that shows each job running
//! longer than `spark.kiln.progress.minDurationMs` (500 ms). For a notebook
//! cell that is one display, updated in place (`update_display_data`, at
//! most ten times a second) with each stage's tasks, rows and bytes read,
//! rows out and shuffle written, and collapsed to a one-line summary when
//! the job ends; for consoles and other plain-text clients it is Spark's own
//! console bar on stderr (`[Stage 3:=====>      (5 + 2) / 12]`), erased
//! when the job ends. `spark.kiln.progress.output` (or the environment's
//! `KILN_PROGRESS_OUTPUT`) picks one (`auto`, `display`, `console`);
//! `spark.kiln.progress.enabled=false` turns it off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use kiln_engine::exec::events::{EngineEvent, EventListener, JobOutcome, StageKind, TaskMetrics};
use kiln_engine::Session;

use crate::protocol::{Frontend, Publisher};

use super::escape_html;

const ENABLED: &str = "spark.kiln.progress.enabled";
const MIN_DURATION: &str = "spark.kiln.progress.minDurationMs";
const OUTPUT: &str = "spark.kiln.progress.output";
const OUTPUT_ENV: &str = "KILN_PROGRESS_OUTPUT";
const DEFAULT_MIN_DURATION: Duration = Duration::from_millis(500);
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);
/// Spark's console bar: its refresh period and the terminal width it assumes.
const CONSOLE_INTERVAL: Duration = Duration::from_millis(200);
const CONSOLE_WIDTH: usize = 80;

/// Where a job's progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Display,
    Console,
}

struct StageProgress {
    stage: u64,
    kind: StageKind,
    tasks: usize,
    done: usize,
    started: Instant,
    finished: bool,
    metrics: TaskMetrics,
}

struct JobProgress {
    description: String,
    started: Instant,
    min_duration: Duration,
    output: Output,
    /// Tasks that run at once, for the console bar's active count.
    parallelism: usize,
    stages: Vec<StageProgress>,
    /// Set once the display exists.
    display_id: Option<String>,
    /// The console bar last written, empty before the first.
    console_bar: String,
    last_update: Instant,
}

/// Publishes progress for the kernel's engine session.
pub struct ProgressListener {
    publisher: Arc<Publisher>,
    session: Session,
    jobs: Mutex<HashMap<u64, JobProgress>>,
}

impl ProgressListener {
    /// The listener, with a thread that refreshes running jobs every
    /// `UPDATE_INTERVAL`, so progress appears (and its clock moves) while
    /// long tasks run without events.
    pub fn start(publisher: Arc<Publisher>, session: Session) -> Arc<Self> {
        let listener = Arc::new(ProgressListener {
            publisher,
            session,
            jobs: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&listener);
        let spawned = std::thread::Builder::new()
            .name("kiln-progress".into())
            .spawn(move || {
                while let Some(listener) = weak.upgrade() {
                    listener.tick();
                    drop(listener);
                    std::thread::sleep(UPDATE_INTERVAL);
                }
            });
        if let Err(e) = spawned {
            eprintln!("[kiln] progress ticker not started: {e}");
        }
        listener
    }

    fn tick(&self) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        for job in jobs.values_mut() {
            self.refresh(job, false);
        }
    }

    fn refresh(&self, job: &mut JobProgress, force: bool) {
        match job.output {
            Output::Display => self.refresh_display(job, force),
            Output::Console => self.refresh_console(job),
        }
    }

    /// The job's display after an event: created once the job has run long
    /// enough, updated when the last update is old enough (or `force`).
    fn refresh_display(&self, job: &mut JobProgress, force: bool) {
        let elapsed = job.started.elapsed();
        match &job.display_id {
            None if elapsed >= job.min_duration => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                self.publisher.publish(
                    "display_data",
                    json!({"data": running_bundle(job), "metadata": {}, "transient": {"display_id": id}}),
                );
                job.display_id = Some(id);
                job.last_update = Instant::now();
            }
            Some(id) if force || job.last_update.elapsed() >= UPDATE_INTERVAL => {
                self.publisher.publish(
                    "update_display_data",
                    json!({"data": running_bundle(job), "metadata": {}, "transient": {"display_id": id}}),
                );
                job.last_update = Instant::now();
            }
            _ => {}
        }
    }

    /// Spark's console bar, rewritten in place when it changes, at most
    /// every `CONSOLE_INTERVAL`.
    fn refresh_console(&self, job: &mut JobProgress) {
        if !job.console_bar.is_empty() && job.last_update.elapsed() < CONSOLE_INTERVAL {
            return;
        }
        let bar = console_bar(job);
        if bar.is_empty() || bar == job.console_bar {
            return;
        }
        self.publisher.stream("stderr", &format!("\r{bar}\r"));
        self.publisher.flush();
        job.console_bar = bar;
        job.last_update = Instant::now();
    }

    fn finish(&self, job: JobProgress, outcome: &JobOutcome, duration: Duration, rows_read: u64) {
        if !job.console_bar.is_empty() {
            let blank = " ".repeat(job.console_bar.chars().count());
            self.publisher.stream("stderr", &format!("\r{blank}\r"));
            self.publisher.flush();
        }
        if let Some(id) = &job.display_id {
            let line = summary(&job, outcome, duration, rows_read);
            self.publisher.publish(
                "update_display_data",
                json!({
                    "data": {
                        "text/plain": line,
                        "text/html": format!("<div class=\"kiln-progress-done\" style=\"font-size:11px;color:var(--jp-ui-font-color2,#757575)\">{}</div>", escape_html(&line)),
                    },
                    "metadata": {},
                    "transient": {"display_id": id},
                }),
            );
        }
    }

    /// Where a starting job's progress goes (none when turned off), and
    /// how long it runs before it shows.
    fn settings(&self) -> Option<(Output, Duration)> {
        let config = self.session.config();
        let enabled = config
            .get(ENABLED)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        if !enabled {
            return None;
        }
        let min_duration = config
            .get(MIN_DURATION)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_MIN_DURATION, Duration::from_millis);
        // The setting, else the kernel's environment (for headless runs that
        // keep their outputs, e.g. `scripts/run --execute`).
        let chosen = config
            .get(OUTPUT)
            .map(str::to_string)
            .or_else(|| std::env::var(OUTPUT_ENV).ok())
            .map(|v| v.trim().to_ascii_lowercase());
        let output = match chosen {
            Some(v) if v == "display" => Output::Display,
            Some(v) if v == "console" => Output::Console,
            _ => match self.publisher.frontend() {
                Frontend::NotebookCell => Output::Display,
                Frontend::Console => Output::Console,
            },
        };
        Some((output, min_duration))
    }
}

impl EventListener for ProgressListener {
    fn on_event(&self, event: &EngineEvent) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            EngineEvent::JobStart { job, description } => {
                if let Some((output, min_duration)) = self.settings() {
                    jobs.insert(
                        *job,
                        JobProgress {
                            description: description.clone(),
                            started: Instant::now(),
                            min_duration,
                            output,
                            parallelism: self.session.parallelism(),
                            stages: Vec::new(),
                            display_id: None,
                            console_bar: String::new(),
                            last_update: Instant::now(),
                        },
                    );
                }
            }
            EngineEvent::StageStart {
                job,
                stage,
                kind,
                tasks,
            } => {
                if let Some(progress) = jobs.get_mut(job) {
                    progress.stages.push(StageProgress {
                        stage: *stage,
                        kind: *kind,
                        tasks: *tasks,
                        done: 0,
                        started: Instant::now(),
                        finished: false,
                        metrics: TaskMetrics::default(),
                    });
                    self.refresh(progress, false);
                }
            }
            EngineEvent::TaskEnd {
                job,
                stage,
                metrics,
                ..
            } => {
                if let Some(progress) = jobs.get_mut(job) {
                    if let Some(s) = progress.stages.iter_mut().find(|s| s.stage == *stage) {
                        s.done += 1;
                        s.metrics.add(metrics);
                    }
                    self.refresh(progress, false);
                }
            }
            EngineEvent::StageEnd { job, stage, .. } => {
                if let Some(progress) = jobs.get_mut(job) {
                    if let Some(s) = progress.stages.iter_mut().find(|s| s.stage == *stage) {
                        s.finished = true;
                    }
                    self.refresh(progress, true);
                }
            }
            EngineEvent::JobEnd {
                job,
                outcome,
                duration,
                rows_read,
            } => {
                if let Some(progress) = jobs.remove(job) {
                    self.finish(progress, outcome, *duration, *rows_read);
                }
            }
        }
    }
}

fn stage_label(stage: &StageProgress) -> String {
    let what = match stage.kind {
        StageKind::ShuffleMap => "shuffle write",
        StageKind::Broadcast => "broadcast",
        StageKind::Result => "result",
    };
    format!("Stage {} ({what})", stage.stage)
}

fn stage_details(stage: &StageProgress) -> String {
    let m = &stage.metrics;
    let mut parts = vec![format!("{}/{} tasks", stage.done, stage.tasks)];
    if m.rows_read > 0 || m.bytes_read > 0 {
        let mut read = format!("read {} rows", count(m.rows_read));
        if m.bytes_read > 0 {
            read.push_str(&format!(", {}", bytes(m.bytes_read)));
        }
        parts.push(read);
    }
    parts.push(format!("{} rows out", count(m.rows_out)));
    if m.shuffle_write_bytes > 0 {
        parts.push(format!("{} shuffle written", bytes(m.shuffle_write_bytes)));
    }
    parts.join(" · ")
}

/// Spark's `ConsoleProgressBar` line: the first three running stages that
/// started at least the minimum duration ago, sharing the 80 columns;
/// empty when none.
fn console_bar(job: &JobProgress) -> String {
    let shown: Vec<&StageProgress> = job
        .stages
        .iter()
        .filter(|s| !s.finished && s.started.elapsed() >= job.min_duration)
        .take(3)
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let width = CONSOLE_WIDTH / shown.len();
    shown
        .iter()
        .map(|s| {
            let active = s.tasks.saturating_sub(s.done).min(job.parallelism);
            let header = format!("[Stage {}:", s.stage);
            let tailer = format!("({} + {active}) / {}]", s.done, s.tasks);
            let w = width.saturating_sub(header.len() + tailer.len());
            let filled = (w * s.done).checked_div(s.tasks).unwrap_or(w);
            let bar: String = (0..w)
                .map(|i| match i.cmp(&filled) {
                    std::cmp::Ordering::Less => '=',
                    std::cmp::Ordering::Equal => '>',
                    std::cmp::Ordering::Greater => ' ',
                })
                .collect();
            format!("{header}{bar}{tailer}")
        })
        .collect()
}

/// The running display: one line (text) or bar (HTML) per stage.
fn running_bundle(job: &JobProgress) -> Value {
    let elapsed = seconds(job.started.elapsed());
    let mut text = format!("{} · {elapsed}", job.description);
    let mut html = format!(
        "<div class=\"kiln-progress\" style=\"font-size:11px\"><div>{} · {elapsed}</div>",
        escape_html(&job.description)
    );
    for stage in &job.stages {
        let width = 30;
        let filled = (stage.done * width)
            .checked_div(stage.tasks)
            .unwrap_or(width);
        text.push_str(&format!(
            "\n[{}: {}{}] {}",
            stage_label(stage),
            "=".repeat(filled),
            " ".repeat(width - filled.min(width)),
            stage_details(stage)
        ));
        html.push_str(&format!(
            "<div><span style=\"display:inline-block;min-width:14em\">{}</span>\
             <progress max=\"{}\" value=\"{}\" style=\"width:12em;vertical-align:middle\"></progress> {}</div>",
            escape_html(&stage_label(stage)),
            stage.tasks.max(1),
            stage.done,
            escape_html(&stage_details(stage))
        ));
    }
    html.push_str("</div>");
    json!({"text/plain": text, "text/html": html})
}

/// `2 stages · 28 tasks · 11.9M rows · 2.1 s`, the rows being those the
/// job's sources read.
fn summary(job: &JobProgress, outcome: &JobOutcome, duration: Duration, rows: u64) -> String {
    let stages = job.stages.len();
    let tasks: usize = job.stages.iter().map(|s| s.done).sum();
    let mut line = format!(
        "{} {} · {} {} · {} rows · {}",
        stages,
        if stages == 1 { "stage" } else { "stages" },
        tasks,
        if tasks == 1 { "task" } else { "tasks" },
        count(rows),
        seconds(duration)
    );
    match outcome {
        JobOutcome::Succeeded => {}
        JobOutcome::Failed(_) => line.push_str(" · failed"),
        JobOutcome::Cancelled => line.push_str(" · cancelled"),
    }
    line
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}K", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}B", n as f64 / 1e9),
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KB", n as f64 / 1024.0),
        1_048_576..=1_073_741_823 => format!("{:.1} MB", n as f64 / 1_048_576.0),
        _ => format!("{:.1} GB", n as f64 / 1_073_741_824.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(stages: Vec<StageProgress>) -> JobProgress {
        JobProgress {
            description: "count".into(),
            started: Instant::now(),
            min_duration: Duration::ZERO,
            output: Output::Display,
            parallelism: 2,
            stages,
            display_id: None,
            console_bar: String::new(),
            last_update: Instant::now(),
        }
    }

    fn stage(stage: u64, kind: StageKind, tasks: usize, done: usize, rows: u64) -> StageProgress {
        StageProgress {
            stage,
            kind,
            tasks,
            done,
            started: Instant::now(),
            finished: false,
            metrics: TaskMetrics {
                rows_read: if kind == StageKind::ShuffleMap {
                    rows * 10
                } else {
                    0
                },
                bytes_read: if kind == StageKind::ShuffleMap {
                    1 << 20
                } else {
                    0
                },
                rows_out: rows,
                shuffle_write_bytes: if kind == StageKind::ShuffleMap {
                    3 << 20
                } else {
                    0
                },
                ..TaskMetrics::default()
            },
        }
    }

    #[test]
    fn the_summary_counts_stages_tasks_and_rows() {
        let finished = job(vec![
            stage(0, StageKind::ShuffleMap, 20, 20, 160),
            stage(1, StageKind::Result, 8, 8, 265),
        ]);
        assert_eq!(
            summary(
                &finished,
                &JobOutcome::Succeeded,
                Duration::from_millis(2100),
                11_900_000
            ),
            "2 stages · 28 tasks · 11.9M rows · 2.1 s"
        );
        assert!(
            summary(&finished, &JobOutcome::Cancelled, Duration::ZERO, 0).ends_with("· cancelled")
        );
    }

    #[test]
    fn the_running_display_has_a_line_and_a_bar_per_stage() {
        let running = job(vec![stage(0, StageKind::ShuffleMap, 4, 2, 5_000)]);
        let bundle = running_bundle(&running);
        let text = bundle["text/plain"].as_str().unwrap();
        assert!(
            text.ends_with("[Stage 0 (shuffle write): ===============               ] 2/4 tasks · read 50.0K rows, 1.0 MB · 5000 rows out · 3.0 MB shuffle written"),
            "{text}"
        );
        let html = bundle["text/html"].as_str().unwrap();
        assert!(html.contains("<progress max=\"4\" value=\"2\""), "{html}");
    }

    #[test]
    fn the_console_bar_is_sparks() {
        let mut running = job(vec![stage(3, StageKind::ShuffleMap, 12, 5, 0)]);
        assert_eq!(
            console_bar(&running),
            format!(
                "[Stage 3:{}>{}(5 + 2) / 12]",
                "=".repeat(24),
                " ".repeat(33)
            )
        );
        assert_eq!(console_bar(&running).len(), CONSOLE_WIDTH);
        running.stages.push(stage(4, StageKind::Result, 200, 0, 0));
        let two = console_bar(&running);
        assert!(
            two.starts_with("[Stage 3:") && two.contains("][Stage 4:>"),
            "{two}"
        );
        assert!(two.ends_with("(0 + 2) / 200]"), "{two}");
        running.stages.iter_mut().for_each(|s| s.finished = true);
        assert_eq!(console_bar(&running), "");
    }
}
