//! Text Spark prints: `show()` tables (here), `printSchema()` (in `types`).

pub mod explain;
pub mod show;
