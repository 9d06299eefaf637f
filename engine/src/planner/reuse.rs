//! Finished shuffles kept across the jobs of a session. A notebook often
//! runs the same aggregate twice — shown in one cell, written in the next —
//! and each action plans its own query. When a later query contains a
//! subtree already planned by an earlier one (same logical plan, same
//! settings, input files unchanged), the planner hands back the earlier
//! physical subtree, whose exchanges already hold their map output, so only
//! the stages after the shuffle run again. Spark reruns the map stage; the
//! rows are the same. What is kept is bounded in bytes and count.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::exec::ExecutionPlan;
use crate::plan::{LogicalPlan, Plan};
use crate::planner::PlannerConfig;

/// Subtrees kept at most, most recent first.
const MAX_KEPT: usize = 8;

/// A file as it was when its subtree ran: length and modification time.
type FileStamp = (std::path::PathBuf, u64, Option<SystemTime>);

#[derive(Debug)]
struct KeptSubtree {
    plan: Arc<Plan>,
    config: PlannerConfig,
    files: Vec<FileStamp>,
    physical: Arc<dyn ExecutionPlan>,
}

/// The session's reusable subtrees.
#[derive(Debug, Default)]
pub struct ReusedStages {
    kept: Mutex<Vec<KeptSubtree>>,
}

/// True for the nodes the planner cuts with an exchange: the ones whose
/// physical subtree holds a shuffle's output once run.
pub fn has_exchange(plan: &Plan) -> bool {
    matches!(
        plan.node,
        LogicalPlan::Aggregate { .. }
            | LogicalPlan::Deduplicate { .. }
            | LogicalPlan::Repartition { .. }
            | LogicalPlan::Window { .. }
            | LogicalPlan::Join { .. }
            | LogicalPlan::Sort { global: true, .. }
    )
}

fn stamps(plan: &Plan) -> Vec<FileStamp> {
    plan.input_files()
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let len = meta.as_ref().map_or(u64::MAX, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (path, len, modified)
        })
        .collect()
}

impl ReusedStages {
    /// The physical subtree an earlier query planned for `plan`, if its
    /// settings match and none of its files changed since.
    pub fn find(&self, plan: &Plan, config: &PlannerConfig) -> Option<Arc<dyn ExecutionPlan>> {
        let kept = self.kept.lock().ok()?;
        let hit = kept
            .iter()
            .find(|k| &k.config == config && k.plan.as_ref() == plan)?;
        (stamps(plan) == hit.files).then(|| hit.physical.clone())
    }

    /// Offers a freshly planned subtree for later queries; plans whose rows
    /// could differ on a second run are not kept.
    pub fn keep(&self, plan: &Plan, config: &PlannerConfig, physical: &Arc<dyn ExecutionPlan>) {
        if !plan.is_deterministic() {
            return;
        }
        let files = stamps(plan);
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|k| !(k.config == *config && k.plan.as_ref() == plan));
            kept.insert(
                0,
                KeptSubtree {
                    plan: Arc::new(plan.clone()),
                    config: config.clone(),
                    files,
                    physical: physical.clone(),
                },
            );
        }
    }

    /// After a job: keeps the most recent subtrees while the bytes they hold
    /// (shuffle outputs, spilled ones included, and broadcast tables) stay
    /// within `budget`, and drops the rest, freeing their memory and files.
    pub fn trim(&self, budget: u64) {
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        let mut held = 0u64;
        let mut index = 0;
        kept.retain(|k| {
            held = held.saturating_add(k.physical.retained_bytes());
            index += 1;
            index <= MAX_KEPT && held <= budget
        });
    }

    /// Forgets every subtree (cache changes, `clearCache`).
    pub fn clear(&self) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.clear();
        }
    }
}
