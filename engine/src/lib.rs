//! kiln-engine: Kiln's partitioned, parallel dataframe engine with Spark 4
//! semantics. Plans are built lazily (a `DataFrame` over a `LogicalPlan`),
//! analyzed against Spark's rules, cut into stages at exchanges, and run one
//! task per partition, each task a polars pipeline. It knows nothing of
//! Jupyter or Python.

pub mod co_moments;
pub mod config;
pub mod dataframe;
pub mod datagen;
pub mod decimal;
pub mod error;
mod error_states;
pub mod exec;
pub mod expr;
pub mod format;
pub mod functions;
pub mod generate;
pub mod io;
pub mod json_path;
pub mod library;
pub mod lower;
pub mod mode;
pub mod numeric_cast;
pub mod optimizer;
pub mod percentile;
pub mod pivot;
pub mod plan;
pub mod planner;
pub mod rounding;
pub mod row_ids;
pub mod rows;
pub mod session;
pub mod spark_random;
pub mod sql;
pub mod types;
pub mod udf;
pub mod value;
pub mod window;
pub mod zone;

/// The Spark release whose behaviour the engine reproduces.
pub const SPARK_VERSION: &str = "4.3.0";

/// The arrow-rs the engine is built with, for callers that hand its
/// batches on (the kernel's `toArrow`).
pub use arrow;
pub use dataframe::DataFrame;
pub use error::{EngineError, Result};
pub use session::Session;
