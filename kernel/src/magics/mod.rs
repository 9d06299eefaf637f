//! IPython habits in Kiln cells: `!cmd`, `%line` and `%%cell` magics, `?` help.
//! `transform` rewrites the syntax; the `__kiln__` builtin module calls land here.

pub mod shell;
pub mod sql;
pub mod timing;
pub mod transform;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};
use serde_json::json;

use crate::python::context::{context, lock};
use crate::python::introspect;

pyo3::create_exception!(
    _kiln,
    UsageError,
    pyo3::exceptions::PyException,
    "Wrong use of a magic."
);

const LINE_MAGICS: &[&str] = &[
    "cd", "env", "lsmagic", "pwd", "sql", "sx", "system", "time", "timeit", "who",
];
const CELL_MAGICS: &[&str] = &["bash", "sh", "sql", "time", "timeit", "writefile"];

fn known(prefix: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{prefix}{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names of all magics, for completion.
pub fn magic_names() -> Vec<String> {
    let mut names: Vec<String> = LINE_MAGICS.iter().map(|n| format!("%{n}")).collect();
    names.extend(CELL_MAGICS.iter().map(|n| format!("%%{n}")));
    names
}

/// Expands `{expr}` and `$name` in a shell command from the user namespace, as
/// IPython does; an expression that fails to evaluate is left as written.
pub fn expand_variables(py: Python<'_>, text: &str) -> PyResult<String> {
    let ns = context()?.user_ns(py);
    let builtins = py.import("builtins")?;
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '{' if chars.get(i + 1) == Some(&'{') => {
                out.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                out.push('}');
                i += 2;
            }
            '{' => {
                let close = chars[i + 1..].iter().position(|&c| c == '}');
                let Some(close) = close else {
                    out.push('{');
                    i += 1;
                    continue;
                };
                let expr: String = chars[i + 1..i + 1 + close].iter().collect();
                match builtins.call_method1("eval", (&expr, &ns)) {
                    Ok(value) => out.push_str(&value.str()?.to_string()),
                    Err(_) => {
                        out.push('{');
                        out.push_str(&expr);
                        out.push('}');
                    }
                }
                i += close + 2;
            }
            '$' if chars.get(i + 1) == Some(&'$') => {
                out.push('$');
                i += 2;
            }
            '$' => {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                match ns.get_item(&name)? {
                    Some(value) if !name.is_empty() => out.push_str(&value.str()?.to_string()),
                    _ => {
                        out.push('$');
                        out.push_str(&name);
                    }
                }
                i += 1 + name.chars().count();
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn report_status(py: Python<'_>, status: i32, command: &str) -> PyResult<()> {
    let ctx = context()?;
    ctx.user_ns(py).set_item("_exit_code", status)?;
    if status != 0 {
        ctx.publisher.stream(
            "stderr",
            &format!("Command `{command}` exited with status {status}\n"),
        );
    }
    Ok(())
}

/// `!cmd`: runs the command, streaming its output.
#[pyfunction]
fn system(py: Python<'_>, command: &str) -> PyResult<()> {
    let command = expand_variables(py, command)?;
    let finished = shell::run(py, "/bin/sh", &command, shell::Stdout::Stream)?;
    report_status(py, finished.status, &command)
}

/// `x = !cmd`: runs the command and returns its output lines.
#[pyfunction]
fn getoutput<'py>(py: Python<'py>, command: &str) -> PyResult<Bound<'py, PyList>> {
    let command = expand_variables(py, command)?;
    let finished = shell::run(py, "/bin/sh", &command, shell::Stdout::Capture)?;
    report_status(py, finished.status, &command)?;
    PyList::new(py, finished.captured.lines().collect::<Vec<_>>())
}

/// `obj?` and `obj??`: the inspection text, shown in the pager.
#[pyfunction]
fn pinfo(py: Python<'_>, name: &str, detail: u8) -> PyResult<()> {
    let ctx = context()?;
    let text = match introspect::resolve(py, name)? {
        Some(obj) => introspect::inspect_text(py, name, &obj, detail > 0)?,
        None => format!("Object `{name}` not found."),
    };
    lock(&ctx.payloads).push(json!({
        "source": "page",
        "data": {"text/plain": text},
        "start": 0,
    }));
    Ok(())
}

#[pyfunction]
fn run_line_magic(py: Python<'_>, name: &str, line: &str) -> PyResult<Py<PyAny>> {
    let ctx = context()?;
    let ns = ctx.user_ns(py);
    match name {
        "time" => timing::time(py, &ns, line, false),
        "timeit" => timing::timeit(py, &ns, line, "").map(|_| py.None()),
        "pwd" => Ok(current_dir()?.into_pyobject(py)?.into_any().unbind()),
        "cd" => cd(py, line).map(|_| py.None()),
        "env" => env(py, line),
        "who" => who(py, &ns).map(|_| py.None()),
        "sx" | "system" => Ok(getoutput(py, line)?.into_any().unbind()),
        "sql" => sql::run(py, "", line).map(|_| py.None()),
        "lsmagic" => {
            ctx.publisher.stream(
                "stdout",
                &format!(
                    "Available line magics:\n{}\n\nAvailable cell magics:\n{}\n",
                    known("%", LINE_MAGICS),
                    known("%%", CELL_MAGICS)
                ),
            );
            Ok(py.None())
        }
        other => Err(UsageError::new_err(format!(
            "Line magic function `%{other}` not found. Known line magics: {}.",
            known("%", LINE_MAGICS)
        ))),
    }
}

#[pyfunction]
fn run_cell_magic(py: Python<'_>, name: &str, line: &str, cell: &str) -> PyResult<Py<PyAny>> {
    let ctx = context()?;
    let ns = ctx.user_ns(py);
    match name {
        "time" => timing::time(py, &ns, cell, true),
        "timeit" => timing::timeit(py, &ns, line, cell).map(|_| py.None()),
        "sh" | "bash" => {
            let shell = if name == "bash" { "bash" } else { "/bin/sh" };
            let finished = shell::run(py, shell, cell, shell::Stdout::Stream)?;
            report_status(py, finished.status, &format!("%%{name}"))?;
            Ok(py.None())
        }
        "writefile" => writefile(line, cell).map(|_| py.None()),
        "sql" => sql::run(py, line, cell).map(|_| py.None()),
        other => Err(UsageError::new_err(format!(
            "Cell magic `%%{other}` not found. Known cell magics: {}.",
            known("%%", CELL_MAGICS)
        ))),
    }
}

fn current_dir() -> PyResult<String> {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))
}

fn cd(py: Python<'_>, line: &str) -> PyResult<()> {
    let ctx = context()?;
    let ns = ctx.user_ns(py);
    let target = match line.trim() {
        "" => std::env::var("HOME").unwrap_or_else(|_| "/".into()),
        "-" => match ns.get_item("_dh_previous")? {
            Some(prev) => prev.extract()?,
            None => return Err(UsageError::new_err("%cd -: no previous directory")),
        },
        path => path.trim_matches(['\'', '"']).to_string(),
    };
    let target = if let Some(rest) = target.strip_prefix('~') {
        format!("{}{rest}", std::env::var("HOME").unwrap_or_default())
    } else {
        target
    };
    let previous = current_dir()?;
    py.import("os")?.call_method1("chdir", (&target,))?;
    ns.set_item("_dh_previous", previous)?;
    ctx.publisher
        .stream("stdout", &format!("{}\n", current_dir()?));
    Ok(())
}

fn env(py: Python<'_>, line: &str) -> PyResult<Py<PyAny>> {
    let environ = py.import("os")?.getattr("environ")?;
    let line = line.trim();
    if line.is_empty() {
        return Ok(py
            .import("builtins")?
            .getattr("dict")?
            .call1((environ,))?
            .unbind());
    }
    let assignment = line
        .split_once('=')
        .or_else(|| line.split_once(char::is_whitespace));
    match assignment {
        Some((key, value)) => {
            let (key, value) = (key.trim(), value.trim());
            environ.set_item(key, value)?;
            context()?
                .publisher
                .stream("stdout", &format!("env: {key}={value}\n"));
            Ok(py.None())
        }
        None => match environ.get_item(line) {
            Ok(value) => Ok(value.unbind()),
            Err(_) => Err(UsageError::new_err(format!(
                "Environment does not have key: {line}"
            ))),
        },
    }
}

fn who(py: Python<'_>, ns: &Bound<'_, PyDict>) -> PyResult<()> {
    let ctx = context()?;
    let _ = py;
    let mut names: Vec<String> = ns
        .keys()
        .iter()
        .filter_map(|k| k.extract::<String>().ok())
        .filter(|k| !k.starts_with('_') && !ctx.initial_names.contains(k))
        .collect();
    names.sort();
    let text = if names.is_empty() {
        "Interactive namespace is empty.\n".to_string()
    } else {
        format!("{}\t\n", names.join("\t"))
    };
    ctx.publisher.stream("stdout", &text);
    Ok(())
}

fn writefile(line: &str, cell: &str) -> PyResult<()> {
    let mut append = false;
    let mut path = None;
    for arg in line.split_whitespace() {
        match arg {
            "-a" | "--append" => append = true,
            p => path = Some(p.trim_matches(['\'', '"'])),
        }
    }
    let Some(path) = path else {
        return Err(UsageError::new_err(
            "%%writefile needs a file name: %%writefile [-a] FILE",
        ));
    };
    let existed = std::path::Path::new(path).exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{path}: {e}")))?;
    std::io::Write::write_all(&mut file, cell.as_bytes())
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("{path}: {e}")))?;
    let verb = match (append, existed) {
        (true, true) => "Appending to",
        (_, true) => "Overwriting",
        _ => "Writing",
    };
    context()?
        .publisher
        .stream("stdout", &format!("{verb} {path}\n"));
    Ok(())
}

/// Adds the magic entry points to the `_kiln` module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(system, module)?)?;
    module.add_function(wrap_pyfunction!(getoutput, module)?)?;
    module.add_function(wrap_pyfunction!(pinfo, module)?)?;
    module.add_function(wrap_pyfunction!(run_line_magic, module)?)?;
    module.add_function(wrap_pyfunction!(run_cell_magic, module)?)?;
    module.add("UsageError", module.py().get_type::<UsageError>())?;
    Ok(())
}
