//! The Kiln dataframe engine: Spark semantics on partitions executed by polars.
