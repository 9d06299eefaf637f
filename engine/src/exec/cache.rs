//! `cache()` / `persist()`: a DataFrame's partitions kept in memory after the
//! first action computes them, and served to every later query that
//! contains the same plan.

use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::DataFrame;

use crate::error::{EngineError, Result};
use crate::exec::{collect_partitions, ExecutionPlan, TaskContext};
use crate::plan::PlanSchema;

/// The stored partitions of one cached plan (filled by the first action).
#[derive(Debug, Default)]
pub struct CacheEntry {
    partitions: OnceLock<Arc<Vec<DataFrame>>>,
    fill: Mutex<()>,
}

impl CacheEntry {
    pub fn is_filled(&self) -> bool {
        self.partitions.get().is_some()
    }

    /// Bytes held (for `storage` reports).
    pub fn size(&self) -> usize {
        self.partitions
            .get()
            .map(|p| p.iter().map(|f| f.estimated_size()).sum())
            .unwrap_or(0)
    }
}

#[derive(Debug)]
pub struct CachedExec {
    /// Computes the partitions when the entry is still empty.
    pub input: Arc<dyn ExecutionPlan>,
    pub entry: Arc<CacheEntry>,
}

impl CachedExec {
    fn partitions(&self, ctx: &TaskContext) -> Result<&Arc<Vec<DataFrame>>> {
        if self.entry.partitions.get().is_none() {
            let _guard = self
                .entry
                .fill
                .lock()
                .map_err(|_| EngineError::Internal("cache lock poisoned".into()))?;
            if self.entry.partitions.get().is_none() {
                let frames = collect_partitions(&self.input, ctx)?;
                let _ = self.entry.partitions.set(Arc::new(frames));
            }
        }
        self.entry
            .partitions
            .get()
            .ok_or_else(|| EngineError::Internal("cache not filled".into()))
    }
}

impl ExecutionPlan for CachedExec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn schema(&self) -> &PlanSchema {
        self.input.schema()
    }

    fn partition_count(&self) -> usize {
        match self.entry.partitions.get() {
            Some(p) => p.len(),
            None => self.input.partition_count(),
        }
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn prepare(&self, ctx: &TaskContext) -> Result<()> {
        self.partitions(ctx).map(|_| ())
    }

    fn execute(&self, partition: usize, ctx: &TaskContext) -> Result<DataFrame> {
        Ok(self
            .partitions(ctx)?
            .get(partition)
            .cloned()
            .unwrap_or_default())
    }
}
