//! The kernel's side of the `kiln` crate Rust cells use: each request from
//! a cell's process names an operation on the kernel's engine session (the
//! one Python and SQL cells share) and DataFrames by the ids this bridge
//! handed out. Plans are built and run here, in the kernel's engine; only
//! the rows a cell asks for travel back.

#[path = "../../sdk/kiln/src/protocol.rs"]
mod protocol;

use std::collections::HashMap;

use kiln_engine::exec::join::JoinKind;
use kiln_engine::expr::Expr;
use kiln_engine::io::write::{SaveMode, WriteFormat};
use kiln_engine::plan::JoinOn;
use kiln_engine::value::Value;
use kiln_engine::{DataFrame, Session};

use protocol::{escape, unescape};

/// The DataFrames Rust cells hold, by id.
pub struct Bridge {
    session: Session,
    frames: HashMap<u64, DataFrame>,
    next: u64,
}

/// A request's payload, or its failure as the cell's `kiln::Error` shows it.
pub type Answer = Result<String, String>;

/// The line that answers a request.
pub fn reply_line(answer: &Answer) -> String {
    match answer {
        Ok(payload) => format!("ok\t{}", escape(payload)),
        Err(message) => format!("err\t{}", escape(message)),
    }
}

fn arg<'a>(args: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("kiln: the request has no {what}"))
}

/// A typed cell of `collect`'s answer: a kind letter, then the value.
fn encode_value(value: &Value, time_zone: &chrono_tz::Tz) -> String {
    match value {
        Value::Null => "n".into(),
        Value::Boolean(b) => format!("b{b}"),
        Value::Byte(v) => format!("l{v}"),
        Value::Short(v) => format!("l{v}"),
        Value::Integer(v) => format!("l{v}"),
        Value::Long(v) => format!("l{v}"),
        Value::Float(v) => format!("d{v}"),
        Value::Double(v) => format!("d{v}"),
        other => format!("s{}", escape(&other.to_show_string(time_zone))),
    }
}

impl Bridge {
    pub fn new(session: Session) -> Bridge {
        Bridge {
            session,
            frames: HashMap::new(),
            next: 1,
        }
    }

    /// The outcome of `prompt` when it is a `kiln` request, else None (an
    /// ordinary request for input).
    pub fn answer(&mut self, prompt: &str) -> Option<Answer> {
        let request = prompt.strip_prefix(protocol::PREFIX)?;
        let mut parts = request.split('\t');
        let op = parts.next().unwrap_or_default();
        let args: Vec<String> = parts.map(unescape).collect();
        Some(self.handle(op, &args))
    }

    fn frame(&self, args: &[String], i: usize) -> Result<&DataFrame, String> {
        let id = arg(args, i, "DataFrame")?;
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.frames.get(&id))
            .ok_or_else(|| format!("kiln: no DataFrame {id} in this kernel"))
    }

    fn keep(&mut self, frame: kiln_engine::Result<DataFrame>) -> Answer {
        let frame = frame.map_err(|e| e.to_string())?;
        let id = self.next;
        self.next += 1;
        self.frames.insert(id, frame);
        Ok(id.to_string())
    }

    fn expressions(&self, texts: &[String]) -> Result<Vec<Expr>, String> {
        texts
            .iter()
            .map(|t| kiln_engine::sql::expression(&self.session, t).map_err(|e| e.to_string()))
            .collect()
    }

    /// `"x DESC"` / `"x ASC NULLS LAST"` as a sort key, as `ORDER BY` reads it.
    fn sort_key(&self, text: &str) -> Result<Expr, String> {
        let mut body = text.trim();
        let mut ascending = true;
        let mut nulls_first = None;
        loop {
            let upper = body.to_ascii_uppercase();
            let cut = |suffix: &str| body[..body.len() - suffix.len()].trim_end();
            if upper.ends_with(" NULLS FIRST") {
                nulls_first = Some(true);
                body = cut(" NULLS FIRST");
            } else if upper.ends_with(" NULLS LAST") {
                nulls_first = Some(false);
                body = cut(" NULLS LAST");
            } else if upper.ends_with(" DESC") {
                ascending = false;
                body = cut(" DESC");
            } else if upper.ends_with(" ASC") {
                body = cut(" ASC");
            } else {
                break;
            }
        }
        let expr = kiln_engine::sql::expression(&self.session, body).map_err(|e| e.to_string())?;
        Ok(Expr::SortOrder {
            expr: Box::new(expr),
            ascending,
            nulls_first: nulls_first.unwrap_or(ascending),
        })
    }

    fn handle(&mut self, op: &str, args: &[String]) -> Answer {
        let session = self.session.clone();
        match op {
            "table" => self.keep(session.table(arg(args, 0, "name")?)),
            "sql" => self.keep(session.sql(arg(args, 0, "query")?)),
            "read_parquet" => {
                let path = arg(args, 0, "path")?.to_string();
                self.keep(session.read("parquet", &[path], &[], None))
            }
            "filter" => {
                let condition = self.expressions(args.get(1..).unwrap_or_default())?;
                let frame = self.frame(args, 0)?.clone();
                match condition.into_iter().next() {
                    Some(c) => self.keep(frame.filter(c)),
                    None => Err("kiln: filter needs a condition".into()),
                }
            }
            "select" => {
                let exprs = self.expressions(args.get(1..).unwrap_or_default())?;
                let frame = self.frame(args, 0)?.clone();
                self.keep(frame.select(exprs))
            }
            "with_column" => {
                let name = arg(args, 1, "column name")?.to_string();
                let expr = self.expressions(args.get(2..).unwrap_or_default())?;
                let frame = self.frame(args, 0)?.clone();
                match expr.into_iter().next() {
                    Some(e) => self.keep(frame.with_column(&name, e)),
                    None => Err("kiln: with_column needs an expression".into()),
                }
            }
            "with_column_renamed" => {
                let frame = self.frame(args, 0)?.clone();
                self.keep(
                    frame.with_column_renamed(
                        arg(args, 1, "column name")?,
                        arg(args, 2, "new name")?,
                    ),
                )
            }
            "agg" => {
                let keys: Vec<String> = arg(args, 1, "grouping keys")?
                    .split('\n')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect();
                let keys = self.expressions(&keys)?;
                let aggregates = self.expressions(args.get(2..).unwrap_or_default())?;
                let frame = self.frame(args, 0)?.clone();
                self.keep(frame.aggregate(keys, aggregates))
            }
            "order_by" => {
                let keys = args
                    .get(1..)
                    .unwrap_or_default()
                    .iter()
                    .map(|k| self.sort_key(k))
                    .collect::<Result<Vec<_>, _>>()?;
                let frame = self.frame(args, 0)?.clone();
                self.keep(frame.order_by(keys))
            }
            "limit" => {
                let n = arg(args, 1, "row count")?
                    .parse::<usize>()
                    .map_err(|e| format!("kiln: limit: {e}"))?;
                let frame = self.frame(args, 0)?.limit(n);
                self.keep(Ok(frame))
            }
            "join" | "join_using" => {
                let left = self.frame(args, 0)?.clone();
                let right = self.frame(args, 1)?.clone();
                let kind =
                    JoinKind::parse(arg(args, 3, "join type")?).map_err(|e| e.to_string())?;
                let on = if op == "join" {
                    let condition = self.expressions(args.get(2..3).unwrap_or_default())?;
                    JoinOn::Condition(condition.into_iter().next().ok_or("kiln: no condition")?)
                } else {
                    JoinOn::Using(
                        arg(args, 2, "columns")?
                            .split('\n')
                            .map(str::to_string)
                            .collect(),
                    )
                };
                self.keep(left.join(&right, on, kind))
            }
            "union" => {
                let left = self.frame(args, 0)?.clone();
                let right = self.frame(args, 1)?.clone();
                self.keep(left.union(&right))
            }
            "distinct" => {
                let frame = self.frame(args, 0)?.distinct();
                self.keep(Ok(frame))
            }
            "repartition" => {
                let n = arg(args, 1, "partition count")?
                    .parse::<usize>()
                    .map_err(|e| format!("kiln: repartition: {e}"))?;
                let frame = self.frame(args, 0)?.clone();
                self.keep(frame.repartition(Some(n), vec![]))
            }
            "columns" => Ok(self.frame(args, 0)?.columns().join("\n")),
            "count" => self
                .frame(args, 0)?
                .count()
                .map(|n| n.to_string())
                .map_err(|e| e.to_string()),
            "collect" => {
                let frame = self.frame(args, 0)?;
                let rows = frame.collect().map_err(|e| e.to_string())?;
                let tz = session.config().time_zone();
                Ok(rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|v| encode_value(v, &tz))
                            .collect::<Vec<_>>()
                            .join("\t")
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            "show" => {
                let n = arg(args, 1, "row count")?
                    .parse::<usize>()
                    .map_err(|e| format!("kiln: show: {e}"))?;
                self.frame(args, 0)?
                    .show_string(n, 20, false)
                    .map_err(|e| e.to_string())
            }
            "schema" => Ok(self.frame(args, 0)?.schema().tree_string()),
            "display" => {
                let preview = self
                    .frame(args, 0)?
                    .preview(20)
                    .map_err(|e| e.to_string())?;
                let bundle = crate::display::table::table_bundle(&preview, 20);
                let text = bundle["text/plain"].as_str().unwrap_or_default();
                let html = bundle["text/html"].as_str().unwrap_or_default();
                Ok(format!("{text}\u{0}{html}"))
            }
            "view" => {
                let name = arg(args, 1, "view name")?;
                session
                    .create_temp_view(name, self.frame(args, 0)?, true)
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            }
            "write_parquet" => {
                let path = std::path::PathBuf::from(arg(args, 1, "path")?);
                self.frame(args, 0)?
                    .write(
                        &path,
                        SaveMode::Overwrite,
                        WriteFormat::Parquet {
                            compression: "snappy".into(),
                        },
                        vec![],
                    )
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            }
            other => Err(format!("kiln: unknown request {other:?}")),
        }
    }
}
