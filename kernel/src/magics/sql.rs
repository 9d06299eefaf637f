//! `%%sql` cells and `%sql` lines: Spark SQL statements run one after another
//! on the kernel's engine session; the last statement's result is shown as a
//! notebook table (HTML, with Spark's `show()` text beside it). `{name}` is
//! replaced by a Python value only when the user asks for it with `-e`, so
//! SQL text is never rewritten silently.

use pyo3::prelude::*;
use serde_json::json;

use kiln_engine::dataframe::Preview;
use kiln_engine::sql::{parse_statements, run_statement, with_sql_origin, SqlArgs};
use kiln_engine::DataFrame;

use super::UsageError;
use crate::python::context::context;

const USAGE: &str = "%%sql [-e] [-n ROWS] [-o NAME] [--plot KIND -x COL -y COL[,COL...]]\n  -e        replace {name} with the Python value of name before running\n  -n ROWS   rows to show (default 20)\n  -o NAME   bind the last result to the Python variable NAME\n  --plot KIND  draw the result as a chart (bar, barh, line, area, scatter, hist) instead of a table";

/// A chart in place of the result table (`--plot bar -x zone -y revenue`).
#[derive(Debug, PartialEq)]
struct PlotOptions {
    kind: String,
    x: Option<String>,
    y: Vec<String>,
}

/// What the magic's line asks for.
#[derive(Debug, PartialEq)]
struct SqlOptions {
    expand: bool,
    rows: usize,
    output: Option<String>,
    plot: Option<PlotOptions>,
}

fn parse_options(line: &str) -> Result<SqlOptions, String> {
    let mut options = SqlOptions {
        expand: false,
        rows: 20,
        output: None,
        plot: None,
    };
    let (mut x, mut y) = (None, Vec::new());
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        match word {
            "-e" | "--expand" => options.expand = true,
            "-n" | "--rows" => {
                let value = words.next().ok_or("-n needs a number of rows")?;
                options.rows = value
                    .parse()
                    .map_err(|_| format!("-n takes a number of rows, not `{value}`"))?;
            }
            "-o" | "--output" => {
                let name = words.next().ok_or("-o needs a variable name")?;
                options.output = Some(name.to_string());
            }
            "--plot" => {
                let kind = words.next().ok_or("--plot needs a chart kind")?;
                options.plot = Some(PlotOptions {
                    kind: kind.to_string(),
                    x: None,
                    y: Vec::new(),
                });
            }
            "-x" => x = Some(words.next().ok_or("-x needs a column")?.to_string()),
            "-y" => {
                let columns = words.next().ok_or("-y needs a column")?;
                y.extend(
                    columns
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                );
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    match options.plot.as_mut() {
        Some(plot) => {
            if plot.kind != "hist" && (x.is_none() || y.is_empty()) {
                return Err(format!("--plot {} needs -x COL and -y COL", plot.kind));
            }
            plot.x = x;
            plot.y = y;
        }
        None if x.is_some() || !y.is_empty() => return Err("-x and -y go with --plot KIND".into()),
        None => {}
    }
    Ok(options)
}

pub use crate::pyspark::to_python;

/// Runs the statements in `text`; returns the last result and its first
/// `rows` rows (`None` when the last statement is a command without output,
/// or when no rows are asked for).
fn run_statements(
    session: &kiln_engine::Session,
    text: &str,
    rows: Option<usize>,
) -> kiln_engine::Result<(Option<DataFrame>, Option<Preview>)> {
    let statements = parse_statements(text)?;
    let mut last: Option<DataFrame> = None;
    for statement in &statements {
        last = Some(
            run_statement(session, statement, &SqlArgs::None)
                .map_err(|e| with_sql_origin(text, e))?,
        );
    }
    let shown = match &last {
        Some(df) if !df.columns().is_empty() => match rows {
            Some(n) => Some(df.preview(n)?),
            None => None,
        },
        _ => None,
    };
    Ok((last, shown))
}

pub fn run(py: Python<'_>, line: &str, cell: &str) -> PyResult<()> {
    let options = parse_options(line)
        .map_err(|problem| UsageError::new_err(format!("%%sql: {problem}.\n{USAGE}")))?;
    let text = if options.expand {
        super::expand_variables(py, cell)?
    } else {
        cell.to_string()
    };
    let ctx = context()?;
    let session = ctx.engine.clone();
    let rows = options.plot.is_none().then_some(options.rows);
    let (last, shown) = py
        .detach(|| run_statements(&session, &text, rows))
        .map_err(to_python)?;
    // A Python DataFrame only when something takes it.
    let wanted = options.output.is_some() || options.plot.is_some();
    let frame = match &last {
        Some(df) if wanted => Some(crate::pyspark::python_dataframe(py, df.clone())?),
        _ => None,
    };
    if let (Some(name), Some(frame)) = (&options.output, &frame) {
        ctx.user_ns(py).set_item(name, frame)?;
    }
    if let (Some(plot), Some(frame)) = (&options.plot, &frame) {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("kind", &plot.kind)?;
        if plot.kind == "hist" {
            if !plot.y.is_empty() {
                kwargs.set_item("column", plot.y.clone())?;
            }
        } else {
            kwargs.set_item("x", plot.x.clone())?;
            kwargs.set_item("y", plot.y.clone())?;
        }
        let chart = frame.bind(py).getattr("plot")?.call((), Some(&kwargs))?;
        let bundle = crate::display::mime_bundle(py, &chart)?;
        ctx.publisher.publish(
            "display_data",
            json!({"data": bundle.data, "metadata": bundle.metadata, "transient": {}}),
        );
        return Ok(());
    }
    if let Some(preview) = shown {
        let data = crate::display::table::table_bundle(&preview, 20);
        ctx.publisher.publish(
            "display_data",
            json!({"data": data, "metadata": {}, "transient": {}}),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_from_the_magic_line() {
        assert_eq!(
            parse_options("-e -n 5").unwrap(),
            SqlOptions {
                expand: true,
                rows: 5,
                output: None,
                plot: None,
            }
        );
        assert_eq!(
            parse_options("--plot bar -x service -y revenue,trips")
                .unwrap()
                .plot,
            Some(PlotOptions {
                kind: "bar".into(),
                x: Some("service".into()),
                y: vec!["revenue".into(), "trips".into()],
            })
        );
        assert!(parse_options("--plot line -x hour")
            .unwrap_err()
            .contains("needs -x COL and -y COL"));
        assert!(parse_options("-x a")
            .unwrap_err()
            .contains("go with --plot"));
        assert_eq!(
            parse_options("-o df").unwrap().output.as_deref(),
            Some("df")
        );
        assert!(parse_options("-n many").unwrap_err().contains("`many`"));
        assert!(parse_options("--frobnicate")
            .unwrap_err()
            .contains("unknown option"));
    }

    #[test]
    fn statements_run_in_order_and_the_last_one_is_shown() {
        let session = kiln_engine::Session::new("local[1]").unwrap();
        let (last, shown) = run_statements(
            &session,
            "CREATE TEMP VIEW v AS SELECT 1 AS a;\nSELECT a + 1 AS b FROM v;",
            Some(20),
        )
        .unwrap();
        assert_eq!(last.map(|df| df.columns()), Some(vec!["b".to_string()]));
        assert_eq!(
            shown.map(|p| p.show_string(20, false)).as_deref(),
            Some("+---+\n|  b|\n+---+\n|  2|\n+---+\n")
        );
        assert!(run_statements(&session, "DROP VIEW v", Some(20))
            .unwrap()
            .1
            .is_none());
    }
}
