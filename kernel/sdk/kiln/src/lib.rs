//! `kiln` in Rust cells: the kernel's Spark session, from Rust.
//!
//! A [`DataFrame`] here names a DataFrame of the kernel's engine session, the
//! one Python and `%%sql` cells use: `kiln::table("trips_data")` reads a view
//! a Python cell registered, transformations build on the kernel's side
//! (Spark SQL expressions, as in PySpark's `F.expr`), and
//! `create_or_replace_temp_view` makes a result visible to the other cells.
//! The work runs in the kernel's engine, partitioned and in parallel; only
//! the rows a cell asks for (`collect`, `show`, the table a cell displays)
//! cross into the cell's process.
//!
//! ```ignore
//! let trips = kiln::table("trips_data")?;
//! let report = trips
//!     .filter("trip_distance > 0")?
//!     .group_by(&["PULocationID"])
//!     .agg(&["count(*) AS trips", "round(sum(total_amount), 2) AS revenue"])?
//!     .order_by(&["revenue DESC"])?;
//! report.create_or_replace_temp_view("report")?;
//! report
//! ```

mod protocol;

use std::fmt;
use std::io::{BufRead, Write};

use protocol::{escape, unescape};

/// Why a call failed: the kernel's message (Spark's error class and text).
#[derive(Clone, PartialEq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A value of a collected row. Types without a variant here (decimals,
/// dates, timestamps, arrays, ...) come as `Text`, written as `show()` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Text(String),
}

/// Sends one request to the kernel and waits for its answer.
fn call(op: &str, args: &[&str]) -> Result<String> {
    let mut line = format!("EVCXR_INPUT_REQUEST:{}{op}", protocol::PREFIX);
    for arg in args {
        line.push('\t');
        line.push_str(&escape(arg));
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").map_err(|e| Error(e.to_string()))?;
    stdout.flush().map_err(|e| Error(e.to_string()))?;
    drop(stdout);
    let mut reply = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut reply)
        .map_err(|e| Error(e.to_string()))?;
    let reply = reply.trim_end_matches(['\n', '\r']);
    match reply.split_once('\t') {
        Some(("ok", payload)) => Ok(unescape(payload)),
        Some(("err", message)) => Err(Error(unescape(message))),
        _ if reply == "ok" => Ok(String::new()),
        _ => Err(Error(format!(
            "kiln: no answer from the kernel (is this running in a Kiln Rust cell?): {reply:?}"
        ))),
    }
}

fn frame(reply: String) -> Result<DataFrame> {
    reply
        .parse()
        .map(|id| DataFrame { id })
        .map_err(|_| Error(format!("kiln: bad DataFrame id from the kernel: {reply:?}")))
}

/// A temp view (or table) of the kernel's session, by name.
pub fn table(name: &str) -> Result<DataFrame> {
    frame(call("table", &[name])?)
}

/// One Spark SQL query over the session's views.
pub fn sql(query: &str) -> Result<DataFrame> {
    frame(call("sql", &[query])?)
}

/// Reads Parquet files (a file, a directory or a glob).
pub fn read_parquet(path: &str) -> Result<DataFrame> {
    frame(call("read_parquet", &[path])?)
}

/// A DataFrame of the kernel's engine session. Cheap to clone: a name for
/// a plan in the kernel, computed when an action (`count`, `collect`,
/// `show`, a write, a display) asks for rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFrame {
    id: u64,
}

/// `df.group_by(keys)`, waiting for its aggregates.
#[derive(Clone, Debug)]
pub struct GroupedData {
    frame: DataFrame,
    keys: Vec<String>,
}

impl GroupedData {
    /// One row per group: the keys, then each aggregate (Spark SQL, e.g.
    /// `"sum(total_amount) AS revenue"`).
    pub fn agg(&self, aggregates: &[&str]) -> Result<DataFrame> {
        let id = self.frame.id.to_string();
        let keys = self.keys.join("\n");
        let mut args = vec![id.as_str(), keys.as_str()];
        args.extend_from_slice(aggregates);
        frame(call("agg", &args)?)
    }

    /// Rows per group, as `count`.
    pub fn count(&self) -> Result<DataFrame> {
        self.agg(&["count(1) AS count"])
    }
}

impl DataFrame {
    fn id(&self) -> String {
        self.id.to_string()
    }

    fn derive(&self, op: &str, args: &[&str]) -> Result<DataFrame> {
        let id = self.id();
        let mut all = vec![id.as_str()];
        all.extend_from_slice(args);
        frame(call(op, &all)?)
    }

    /// Rows where the Spark SQL condition holds.
    pub fn filter(&self, condition: &str) -> Result<DataFrame> {
        self.derive("filter", &[condition])
    }

    /// Columns computed by Spark SQL expressions (`"a + b AS c"`, `"*"`).
    pub fn select(&self, expressions: &[&str]) -> Result<DataFrame> {
        self.derive("select", expressions)
    }

    /// Adds or replaces one column.
    pub fn with_column(&self, name: &str, expression: &str) -> Result<DataFrame> {
        self.derive("with_column", &[name, expression])
    }

    pub fn with_column_renamed(&self, existing: &str, new: &str) -> Result<DataFrame> {
        self.derive("with_column_renamed", &[existing, new])
    }

    pub fn group_by(&self, keys: &[&str]) -> GroupedData {
        GroupedData {
            frame: self.clone(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    /// Sorted by Spark SQL keys, each optionally `ASC`/`DESC`.
    pub fn order_by(&self, keys: &[&str]) -> Result<DataFrame> {
        self.derive("order_by", keys)
    }

    pub fn limit(&self, n: usize) -> Result<DataFrame> {
        self.derive("limit", &[&n.to_string()])
    }

    /// Joined with `other` on a Spark SQL condition over both sides'
    /// columns; `how` as in PySpark (`inner`, `left`, `right`, `full`,
    /// `left_semi`, `left_anti`, `cross`).
    pub fn join(&self, other: &DataFrame, condition: &str, how: &str) -> Result<DataFrame> {
        self.derive("join", &[&other.id(), condition, how])
    }

    /// Joined with `other` on equal columns of the same names (merged in the output).
    pub fn join_using(&self, other: &DataFrame, columns: &[&str], how: &str) -> Result<DataFrame> {
        self.derive("join_using", &[&other.id(), &columns.join("\n"), how])
    }

    pub fn union(&self, other: &DataFrame) -> Result<DataFrame> {
        self.derive("union", &[&other.id()])
    }

    pub fn distinct(&self) -> Result<DataFrame> {
        self.derive("distinct", &[])
    }

    pub fn repartition(&self, partitions: usize) -> Result<DataFrame> {
        self.derive("repartition", &[&partitions.to_string()])
    }

    pub fn columns(&self) -> Result<Vec<String>> {
        let names = call("columns", &[&self.id()])?;
        Ok(names.lines().map(str::to_string).collect())
    }

    pub fn count(&self) -> Result<i64> {
        let text = call("count", &[&self.id()])?;
        text.parse()
            .map_err(|_| Error(format!("kiln: bad count from the kernel: {text:?}")))
    }

    /// Every row, each value typed as [`Value`].
    pub fn collect(&self) -> Result<Vec<Vec<Value>>> {
        let text = call("collect", &[&self.id()])?;
        Ok(text
            .lines()
            .map(|line| {
                line.split('\t')
                    .map(|cell| {
                        let (kind, body) = cell.split_at(cell.len().min(1));
                        let body = unescape(body);
                        match kind {
                            "b" => Value::Bool(body == "true"),
                            "l" => body.parse().map(Value::Long).unwrap_or(Value::Text(body)),
                            "d" => body.parse().map(Value::Double).unwrap_or(Value::Text(body)),
                            "s" => Value::Text(body),
                            _ => Value::Null,
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// Prints the first `n` rows as Spark's `show()` does.
    pub fn show(&self, n: usize) -> Result<()> {
        print!("{}", call("show", &[&self.id(), &n.to_string()])?);
        Ok(())
    }

    /// The schema as Spark's `printSchema()` prints it.
    pub fn print_schema(&self) -> Result<()> {
        print!("{}", call("schema", &[&self.id()])?);
        Ok(())
    }

    /// Makes this DataFrame a temp view the session's SQL and Python cells see.
    pub fn create_or_replace_temp_view(&self, name: &str) -> Result<()> {
        call("view", &[&self.id(), name]).map(|_| ())
    }

    /// Writes Parquet files into the directory `path`, replacing what is there.
    pub fn write_parquet(&self, path: &str) -> Result<()> {
        call("write_parquet", &[&self.id(), path]).map(|_| ())
    }

    /// How a cell shows a DataFrame: the kernel's table (HTML and text).
    pub fn evcxr_display(&self) {
        match call("display", &[&self.id()]) {
            Ok(bundle) => {
                let (text, html) = bundle.split_once('\u{0}').unwrap_or((&bundle, ""));
                println!("EVCXR_BEGIN_CONTENT text/plain\n{text}\nEVCXR_END_CONTENT");
                println!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT");
            }
            Err(e) => eprintln!("{e}"),
        }
    }
}
