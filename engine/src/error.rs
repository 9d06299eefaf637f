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
    #[error("[{class}] {message}{}{}", state_suffix(class, message), location_suffix(.location))]
    Spark {
        class: &'static str,
        message: String,
        location: Option<Location>,
    },
    /// Analysis failed (unresolved names, type mismatches), as Spark's AnalysisException.
    #[error("[{class}] {message}{}", analysis_suffix(class, message, .origin, *.with_plan))]
    Analysis {
        class: &'static str,
        message: String,
        /// Where in the SQL text the offending name is: (line, position).
        origin: Option<(usize, usize)>,
        /// Found while analysing a plan, which Spark prints after the
        /// message (`df['x']` checks a name on its own).
        with_plan: bool,
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
    /// A bad argument Spark refuses without an error class (Java's
    /// `IllegalArgumentException`), e.g. a sequence that cannot reach its end.
    #[error("{0}")]
    IllegalArgument(String),
    /// A bug in Kiln, not in the user's input.
    #[error("internal error: {0}")]
    Internal(String),
}

/// ` SQLSTATE: 42703`, as Spark 4 ends a message, unless the message
/// already carries it (a parse error puts it before the query excerpt).
fn state_suffix(class: &str, message: &str) -> String {
    match crate::error_states::sql_state(class) {
        Some(state) if !message.contains("SQLSTATE:") => format!(" SQLSTATE: {state}"),
        _ => String::new(),
    }
}

/// What Spark prints after an analysis error's message: the SQLSTATE, the
/// name's position in the SQL text (`; line 1 pos 7`), and the `;` that
/// precedes the logical plan for the errors Spark reports with one (Kiln
/// does not print the plan, whose expression ids are Spark's own).
fn analysis_suffix(
    class: &str,
    message: &str,
    origin: &Option<(usize, usize)>,
    with_plan: bool,
) -> String {
    let mut suffix = state_suffix(class, message);
    if let Some((line, pos)) = origin {
        suffix.push_str(&format!("; line {line} pos {pos}"));
    }
    let condition = class.split('.').next().unwrap_or(class);
    if with_plan
        && matches!(
            condition,
            "UNRESOLVED_COLUMN"
                | "TABLE_OR_VIEW_NOT_FOUND"
                | "MISSING_AGGREGATION"
                | "DATATYPE_MISMATCH"
                | "TRAILING_COMMA_IN_SELECT"
        )
    {
        suffix.push(';');
    }
    suffix
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
            origin: None,
            with_plan: true,
        }
    }

    /// An analysis error about a name checked on its own, not in a plan.
    pub fn without_plan(self) -> Self {
        match self {
            EngineError::Analysis {
                class,
                message,
                origin,
                ..
            } => EngineError::Analysis {
                class,
                message,
                origin,
                with_plan: false,
            },
            other => other,
        }
    }

    /// The error placed at `(line, pos)` of the SQL text it came from
    /// (analysis errors only; others keep their own location).
    pub fn with_origin(self, line: usize, pos: usize) -> Self {
        match self {
            EngineError::Analysis {
                class,
                message,
                with_plan,
                ..
            } => EngineError::Analysis {
                class,
                message,
                origin: Some((line, pos)),
                with_plan,
            },
            other => other,
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
            EngineError::IllegalArgument(_) => "IllegalArgumentException",
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

/// Leads the text of a polars error raised inside a computation for what
/// `EngineError::IllegalArgument` reports.
pub const ILLEGAL_ARGUMENT: &str = "IllegalArgumentException: ";
