//! Reading and writing files: path resolution and splits, CSV, Parquet, and
//! Spark's commit protocol for writes.

pub mod arrow_bridge;
pub mod csv;
mod csv_fast;
pub mod files;
pub mod json;
pub mod parquet;
pub mod write;
