//! The kernel crate's error type.

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("cannot read connection file {path}: {reason}")]
    ConnectionFile { path: String, reason: String },
    #[error("cannot bind {endpoint}: {reason}")]
    Bind { endpoint: String, reason: String },
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Python(String),
    #[error("{0}")]
    Engine(String),
    #[error("cannot install the kernelspec into {path}: {reason}")]
    Install { path: String, reason: String },
}
