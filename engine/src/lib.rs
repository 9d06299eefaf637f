//! kiln-engine: Kiln's partitioned, parallel dataframe engine with Spark 4
//! semantics. Plans are built lazily (a `DataFrame` over a `LogicalPlan`),
//! analyzed against Spark's rules, cut into stages at exchanges, and run one
//! task per partition, each task a polars pipeline. It knows nothing of
//! Jupyter or Python.

pub mod config;
pub mod error;
pub mod types;
pub mod value;

pub use error::{EngineError, Result};
