//! The engine's one error type: a Spark error class, its message, and where
//! in the user's data it happened.

use std::fmt;

/// Where in an input a problem was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: Option<String>,
    /// 1-based line in the file.
    pub line: Option<u64>,
    /// The column's name (or `_cN` position) in the record.
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(format!("file {file}"));
        }
        if let Some(line) = self.line {
            parts.push(format!("line {line}"));
        }
        if let Some(column) = &self.column {
            parts.push(format!("column {column}"));
        }
        write!(f, "{}", parts.join(", "))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An error Spark reports with an error class, e.g. `PATH_NOT_FOUND`.
    #[error("[{class}] {message}{}", location_suffix(.location))]
    Spark {
        class: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// Analysis failed (unresolved names, type mismatches), as Spark's AnalysisException.
    #[error("[{class}] {message}")]
    Analysis {
        class: &'static str,
        message: String,
    },
    /// The job was cancelled (interrupt).
    #[error("[OPERATION_CANCELED] Operation has been canceled.")]
    Cancelled,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A bug in Kiln, not in the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

fn location_suffix(location: &Option<Location>) -> String {
    match location {
        Some(l) if *l != Location::default() => format!(" ({l})"),
        _ => String::new(),
    }
}

impl EngineError {
    pub fn spark(class: &'static str, message: impl Into<String>) -> Self {
        EngineError::Spark {
            class,
            message: message.into(),
            location: None,
        }
    }

    pub fn analysis(class: &'static str, message: impl Into<String>) -> Self {
        EngineError::Analysis {
            class,
            message: message.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }

    pub fn at(self, location: Location) -> Self {
        match self {
            EngineError::Spark { class, message, .. } => EngineError::Spark {
                class,
                message,
                location: Some(location),
            },
            other => other,
        }
    }

    /// The Spark error class, when there is one.
    pub fn error_class(&self) -> Option<&'static str> {
        match self {
            EngineError::Spark { class, .. } | EngineError::Analysis { class, .. } => Some(class),
            EngineError::Cancelled => Some("OPERATION_CANCELED"),
            _ => None,
        }
    }

    /// The Python exception class PySpark raises for this error.
    pub fn python_exception(&self) -> &'static str {
        match self {
            EngineError::Analysis { .. } => "AnalysisException",
            EngineError::Spark { class, .. } => match *class {
                "PATH_NOT_FOUND" | "PATH_ALREADY_EXISTS" | "UNABLE_TO_INFER_SCHEMA" => {
                    "AnalysisException"
                }
                "DIVIDE_BY_ZERO" | "REMAINDER_BY_ZERO" | "ARITHMETIC_OVERFLOW" => {
                    "ArithmeticException"
                }
                c if c.starts_with("DATETIME_FIELD_OUT_OF_BOUNDS") => "DateTimeException",
                "INVALID_ARRAY_INDEX" => "ArrayIndexOutOfBoundsException",
                "CAST_INVALID_INPUT" => "NumberFormatException",
                "PARSE_SYNTAX_ERROR" => "ParseException",
                _ => "SparkRuntimeException",
            },
            // A failed job without an error class: PySpark has no narrower class.
            _ => "SparkRuntimeException",
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
