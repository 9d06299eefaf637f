//! Python errors as Jupyter `error` content: IPython-style coloured
//! tracebacks that show the cell's own lines, with chained exceptions.

use pyo3::prelude::*;
use pyo3::types::PyTraceback;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD_RED: &str = "\x1b[1;31m";
const BOLD_YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[39m\x1b[22m";
const SEPARATOR: &str =
    "---------------------------------------------------------------------------";

/// The filename a cell's code is compiled under.
pub fn cell_filename(execution_count: u64) -> String {
    format!("<Cell In[{execution_count}]>")
}

/// `Cell In[3]` for a cell's filename, None for real files.
fn cell_label(filename: &str) -> Option<&str> {
    filename
        .strip_prefix('<')?
        .strip_suffix('>')
        .filter(|f| f.starts_with("Cell In["))
}

pub struct FormattedError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

pub fn format_error(py: Python<'_>, err: &PyErr) -> FormattedError {
    let value = err.value(py);
    // Python 3.11 keeps a fetched traceback beside the exception, not on it.
    if let Some(tb) = err.traceback(py) {
        let _ = value.setattr("__traceback__", tb);
    }
    let ename = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let evalue = value.str().map(|s| s.to_string()).unwrap_or_default();
    if ename == "UsageError" {
        return FormattedError {
            traceback: vec![format!("{RED}UsageError{RESET}: {evalue}")],
            ename,
            evalue,
        };
    }
    let traceback = match render_chain(py, value) {
        Ok(lines) => lines,
        Err(_) => vec![format!("{RED}{ename}{RESET}: {evalue}")],
    };
    let (ename, evalue) = if ename == "PanicException" {
        (
            "KilnInternalError".to_string(),
            format!("Kiln hit an internal error (a bug in Kiln, not in your code); the kernel is still running: {evalue}"),
        )
    } else {
        (ename, evalue)
    };
    FormattedError {
        ename,
        evalue,
        traceback,
    }
}

/// Renders the exception and its causes, oldest first, like Python does.
fn render_chain(
    py: Python<'_>,
    value: &Bound<'_, pyo3::exceptions::PyBaseException>,
) -> PyResult<Vec<String>> {
    let mut chain: Vec<(Bound<'_, PyAny>, Option<&'static str>)> = Vec::new();
    let mut current: Bound<'_, PyAny> = value.clone().into_any();
    let mut seen = std::collections::HashSet::new();
    loop {
        if !seen.insert(current.as_ptr() as usize) || chain.len() > 32 {
            break;
        }
        let cause = current.getattr("__cause__")?;
        let context = current.getattr("__context__")?;
        let suppress: bool = current.getattr("__suppress_context__")?.extract()?;
        let (next, note) = if !cause.is_none() {
            (
                Some(cause),
                Some("The above exception was the direct cause of the following exception:"),
            )
        } else if !context.is_none() && !suppress {
            (
                Some(context),
                Some("During handling of the above exception, another exception occurred:"),
            )
        } else {
            (None, None)
        };
        chain.push((current.clone(), note));
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    let mut lines = Vec::new();
    for (index, (exc, _)) in chain.iter().enumerate().rev() {
        lines.extend(render_one(py, exc)?);
        if index > 0 {
            if let Some(note) = chain[index - 1].1 {
                lines.push(format!("\n{note}\n"));
            }
        }
    }
    Ok(lines)
}

fn render_one(py: Python<'_>, exc: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let traceback = py.import("traceback")?;
    let linecache = py.import("linecache")?;
    let ename = exc.get_type().name()?.to_string();
    let mut lines = Vec::new();
    let tb = exc.getattr("__traceback__")?;
    if let Ok(tb) = tb.cast::<PyTraceback>() {
        // A syntax error in the cell itself has no frames: no header, as in IPython.
        lines.push(format!(
            "{RED}{SEPARATOR}{RESET}\n{BOLD_RED}{ename}{RESET}{:>width$}",
            "Traceback (most recent call last)",
            width = SEPARATOR.len().saturating_sub(ename.len())
        ));
        for frame in traceback.call_method1("extract_tb", (tb,))?.try_iter()? {
            let frame = frame?;
            let filename: String = frame.getattr("filename")?.extract()?;
            let lineno: Option<i64> = frame.getattr("lineno")?.extract()?;
            let name: String = frame.getattr("name")?.extract()?;
            let lineno = lineno.unwrap_or(0);
            let mut text = match cell_label(&filename) {
                Some(label) => format!("{CYAN}{label}{RESET}, line {lineno}"),
                None => format!("File {CYAN}{filename}:{lineno}{RESET}, in {name}()"),
            };
            for n in (lineno - 2).max(1)..=lineno + 2 {
                let source: String = linecache
                    .call_method1("getline", (&filename, n))?
                    .extract()?;
                if source.is_empty() && n > lineno {
                    break;
                }
                let source = source.trim_end_matches('\n');
                if n == lineno {
                    text.push_str(&format!("\n{GREEN}---> {n:<3}{RESET}{source}"));
                } else {
                    text.push_str(&format!("\n     {n:<3}{source}"));
                }
            }
            lines.push(text);
        }
    }
    let only = traceback.call_method1("format_exception_only", (exc.get_type(), exc))?;
    let mut tail = String::new();
    for part in only.try_iter()? {
        tail.push_str(&part?.extract::<String>()?);
    }
    // Syntax errors name the cell's pseudo-file: show it as IPython does.
    let tail = tail
        .lines()
        .map(|l| {
            let trimmed = l.trim_start();
            match trimmed.strip_prefix("File \"") {
                Some(rest) if rest.starts_with("<Cell In[") => {
                    let (file, after) = rest.split_once('"').unwrap_or((rest, ""));
                    let label = file.trim_start_matches('<').trim_end_matches('>');
                    format!("  {CYAN}{label}{RESET}{after}")
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let tail = match tail.rsplit_once('\n') {
        Some((head, last)) => format!("{head}\n{}", colour_last(last)),
        None => colour_last(&tail),
    };
    lines.push(
        tail.lines()
            .map(highlight_spark_error)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    Ok(lines)
}

const SUGGESTIONS: &str = "Did you mean one of the following? [";

/// A Spark error's `[ERROR_CLASS]` in bold yellow, and its suggestions on a
/// line of their own in green, so the part to act on stands out.
fn highlight_spark_error(line: &str) -> String {
    let mut out = line.to_string();
    // `Exception: [CLASS] ...`, or `[CLASS] ...` on a line of its own (a
    // parse error's message starts on the line after the exception's name).
    let open = if out.starts_with('[') {
        Some(0)
    } else {
        out.find(": [").map(|start| start + 2)
    };
    if let Some(open) = open {
        if let Some(len) = out[open + 1..].find(']') {
            let class = &out[open + 1..open + 1 + len];
            let is_class = !class.is_empty()
                && class
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if is_class {
                out = format!(
                    "{}{BOLD_YELLOW}[{class}]{RESET}{}",
                    &out[..open],
                    &out[open + len + 2..]
                );
            }
        }
    }
    if let Some(at) = out.find(SUGGESTIONS) {
        let (message, suggestion) = out.split_at(at);
        out = format!("{}\n{GREEN}{suggestion}{RESET}", message.trim_end());
    }
    out
}

fn colour_last(line: &str) -> String {
    match line.split_once(':') {
        Some((name, rest)) if !name.contains(' ') => format!("{RED}{name}{RESET}:{rest}"),
        _ => format!("{RED}{line}{RESET}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_error_classes_and_suggestions_stand_out() {
        let line = "\x1b[31mAnalysisException\x1b[39m\x1b[22m: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column \
                    `idd` cannot be resolved. Did you mean one of the following? [`id`].";
        let shown = highlight_spark_error(line);
        assert!(shown.contains(&format!(
            "{BOLD_YELLOW}[UNRESOLVED_COLUMN.WITH_SUGGESTION]{RESET} A column"
        )));
        assert!(shown.ends_with(&format!(
            "resolved.\n{GREEN}Did you mean one of the following? [`id`].{RESET}"
        )));
        assert_eq!(
            highlight_spark_error("ValueError: [1, 2] is bad"),
            "ValueError: [1, 2] is bad"
        );
        assert_eq!(
            highlight_spark_error("[PARSE_SYNTAX_ERROR] Syntax error at or near 'FORM'."),
            format!("{BOLD_YELLOW}[PARSE_SYNTAX_ERROR]{RESET} Syntax error at or near 'FORM'.")
        );
    }
}
