//! Live job progress: an engine event listener that gives each job running
//! longer than `spark.kiln.progress.minDurationMs` (500 ms) one display in
//! the cell, updated in place (`update_display_data`, at most ten times a
//! second) with each stage's tasks done, rows and shuffle written, and
//! collapsed to a one-line summary when the job ends. The display carries
//! `text/plain` for consoles and `text/html` for notebooks.
//! `spark.kiln.progress.enabled=false` turns it off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use kiln_engine::exec::events::{EngineEvent, EventListener, JobOutcome, StageKind, TaskMetrics};
use kiln_engine::Session;

use crate::protocol::Publisher;

use super::escape_html;

const ENABLED: &str = "spark.kiln.progress.enabled";
const MIN_DURATION: &str = "spark.kiln.progress.minDurationMs";
const DEFAULT_MIN_DURATION: Duration = Duration::from_millis(500);
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

struct StageProgress {
    stage: u64,
    kind: StageKind,
    tasks: usize,
    done: usize,
    metrics: TaskMetrics,
}

struct JobProgress {
    description: String,
    started: Instant,
    min_duration: Duration,
    stages: Vec<StageProgress>,
    /// Set once the display exists.
    display_id: Option<String>,
    last_update: Instant,
}

/// Publishes progress displays for the kernel's engine session.
pub struct ProgressListener {
    publisher: Arc<Publisher>,
    session: Session,
    jobs: Mutex<HashMap<u64, JobProgress>>,
}

impl ProgressListener {
    /// The listener, with a thread that refreshes running jobs every
    /// `UPDATE_INTERVAL`, so a display appears (and its clock moves) while
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

    /// The job's display after an event: created once the job has run long
    /// enough, updated when the last update is old enough (or `now`).
    fn refresh(&self, job: &mut JobProgress, force: bool) {
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

    fn finish(&self, job: JobProgress, outcome: &JobOutcome, duration: Duration, rows_read: u64) {
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

    fn enabled(&self) -> (bool, Duration) {
        let config = self.session.config();
        let enabled = config
            .get(ENABLED)
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
        let min_duration = config
            .get(MIN_DURATION)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_MIN_DURATION, Duration::from_millis);
        (enabled, min_duration)
    }
}

impl EventListener for ProgressListener {
    fn on_event(&self, event: &EngineEvent) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            EngineEvent::JobStart { job, description } => {
                let (enabled, min_duration) = self.enabled();
                if enabled {
                    jobs.insert(
                        *job,
                        JobProgress {
                            description: description.clone(),
                            started: Instant::now(),
                            min_duration,
                            stages: Vec::new(),
                            display_id: None,
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
            EngineEvent::StageEnd { job, .. } => {
                if let Some(progress) = jobs.get_mut(job) {
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
        StageKind::Result => "result",
    };
    format!("Stage {} ({what})", stage.stage)
}

fn stage_details(stage: &StageProgress) -> String {
    let mut parts = vec![
        format!("{}/{} tasks", stage.done, stage.tasks),
        format!("{} rows", count(stage.metrics.rows_out)),
    ];
    if stage.metrics.shuffle_write_bytes > 0 {
        parts.push(format!(
            "{} shuffle written",
            bytes(stage.metrics.shuffle_write_bytes)
        ));
    }
    parts.join(" · ")
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
            stages,
            display_id: None,
            last_update: Instant::now(),
        }
    }

    fn stage(stage: u64, kind: StageKind, tasks: usize, done: usize, rows: u64) -> StageProgress {
        StageProgress {
            stage,
            kind,
            tasks,
            done,
            metrics: TaskMetrics {
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
            text.ends_with("[Stage 0 (shuffle write): ===============               ] 2/4 tasks · 5000 rows · 3.0 MB shuffle written"),
            "{text}"
        );
        let html = bundle["text/html"].as_str().unwrap();
        assert!(html.contains("<progress max=\"4\" value=\"2\""), "{html}");
    }
}
