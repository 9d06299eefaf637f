//! Completion, inspection and `is_complete`, answered from the live namespace:
//! jedi when it is installed, the interpreter's own introspection otherwise.

use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::{json, Value};

use super::context::context;
use crate::magics::{magic_names, transform::transform_cell};

/// Characters of a dotted name.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Byte offset of the `cursor`-th code point (cursor positions are in code points).
fn byte_offset(code: &str, cursor: usize) -> usize {
    code.char_indices()
        .nth(cursor)
        .map(|(i, _)| i)
        .unwrap_or(code.len())
}

/// Looks up a dotted name in the user namespace and builtins, by attribute
/// access only (nothing is called or evaluated).
pub fn resolve<'py>(py: Python<'py>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let ns = context()?.user_ns(py);
    let mut parts = name.split('.');
    let Some(first) = parts.next().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let mut obj = match ns.get_item(first)? {
        Some(o) => o,
        None => match py.import("builtins")?.getattr(first) {
            Ok(o) => o,
            Err(_) => return Ok(None),
        },
    };
    for part in parts {
        match obj.getattr(part) {
            Ok(next) => obj = next,
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(obj))
}

/// IPython-style help text: signature, type, docstring, file (and source).
pub fn inspect_text(
    py: Python<'_>,
    name: &str,
    obj: &Bound<'_, PyAny>,
    with_source: bool,
) -> PyResult<String> {
    let inspect = py.import("inspect")?;
    let mut text = String::new();
    if let Ok(sig) = inspect.call_method1("signature", (obj,)) {
        text.push_str(&format!("Signature: {name}{}\n", sig.str()?));
    }
    let type_name = obj.get_type().name()?.to_string();
    if with_source {
        if let Ok(source) = inspect.call_method1("getsource", (obj,)) {
            text.push_str(&format!("Source:\n{}", source.extract::<String>()?));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    let is_value = !(inspect.call_method1("isroutine", (obj,))?.is_truthy()?
        || inspect.call_method1("isclass", (obj,))?.is_truthy()?
        || inspect.call_method1("ismodule", (obj,))?.is_truthy()?);
    if is_value {
        let repr = obj.repr()?.to_string();
        let repr = if repr.chars().count() > 200 {
            format!("{}...", repr.chars().take(200).collect::<String>())
        } else {
            repr
        };
        text.push_str(&format!("String form: {repr}\n"));
    }
    let doc = inspect.call_method1("getdoc", (obj,))?;
    if !doc.is_none() {
        text.push_str(&format!("Docstring:\n{}\n", doc.extract::<String>()?));
    } else {
        text.push_str("Docstring: <no docstring>\n");
    }
    if let Ok(file) = inspect.call_method1("getfile", (obj,)) {
        text.push_str(&format!("File:      {}\n", file.extract::<String>()?));
    }
    text.push_str(&format!("Type:      {type_name}"));
    Ok(text)
}

/// The dotted name under (or just before) the cursor, or the callee when the
/// cursor is inside a call's parentheses.
fn name_at(code: &str, cursor: usize) -> Option<String> {
    let at = byte_offset(code, cursor);
    let before = &code[..at];
    let after = &code[at..];
    let start = before.len()
        - before
            .chars()
            .rev()
            .take_while(|c| is_name_char(*c))
            .map(char::len_utf8)
            .sum::<usize>();
    let end_len: usize = after
        .chars()
        .take_while(|c| is_name_char(*c))
        .map(char::len_utf8)
        .sum();
    let word = code[start..at + end_len].trim_matches('.');
    if !word.is_empty() {
        return Some(word.to_string());
    }
    // Inside `f(...|`: inspect `f`.
    let mut depth = 0;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => return name_at(code, code[..i].chars().count()),
            '(' => depth -= 1,
            '\n' => break,
            _ => {}
        }
    }
    None
}

pub fn inspect(py: Python<'_>, content: &Value) -> Value {
    let code = content["code"].as_str().unwrap_or("");
    let cursor = content["cursor_pos"]
        .as_u64()
        .unwrap_or(code.chars().count() as u64) as usize;
    let detail = content["detail_level"].as_u64().unwrap_or(0) > 0;
    let found = name_at(code, cursor).and_then(|name| {
        let obj = resolve(py, &name).ok()??;
        inspect_text(py, &name, &obj, detail).ok()
    });
    match found {
        Some(text) => {
            json!({"status": "ok", "found": true, "data": {"text/plain": text}, "metadata": {}})
        }
        None => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
    }
}

/// Completions from jedi, which understands calls, keyword arguments and paths.
fn jedi_complete(
    py: Python<'_>,
    code: &str,
    cursor: usize,
) -> PyResult<(Vec<String>, usize, Vec<Value>)> {
    let jedi = py.import("jedi")?;
    let before = &code[..byte_offset(code, cursor)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count();
    let ns = context()?.user_ns(py);
    let namespaces = PyList::new(py, [ns])?;
    let interpreter = jedi.call_method1("Interpreter", (code, namespaces))?;
    let completions = interpreter.call_method1("complete", (line, column))?;
    let mut matches = Vec::new();
    let mut types = Vec::new();
    let mut start = cursor;
    for completion in completions.try_iter()? {
        let completion = completion?;
        let name: String = completion.getattr("name_with_symbols")?.extract()?;
        let rest: String = completion.getattr("complete")?.extract()?;
        let typed = name.chars().count().saturating_sub(rest.chars().count());
        start = cursor.saturating_sub(typed);
        let kind: String = completion.getattr("type")?.extract()?;
        types.push(json!({"start": start, "end": cursor, "text": name, "type": kind}));
        matches.push(name);
    }
    Ok((matches, start, types))
}

/// Completions without jedi: names in scope, attributes, magics and paths.
fn basic_complete(py: Python<'_>, code: &str, cursor: usize) -> PyResult<(Vec<String>, usize)> {
    let before = &code[..byte_offset(code, cursor)];
    let line = before.rsplit('\n').next().unwrap_or("");
    // Inside a string: complete a file path.
    let quotes = line.matches('"').count() + line.matches('\'').count();
    if quotes % 2 == 1 {
        let token: String = line
            .chars()
            .rev()
            .take_while(|c| !matches!(c, '"' | '\''))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let (dir, prefix) = match token.rfind('/') {
            Some(i) => (&token[..=i], &token[i + 1..]),
            None => ("", token.as_str()),
        };
        let mut matches: Vec<String> = std::fs::read_dir(if dir.is_empty() { "." } else { dir })
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                        name.starts_with(prefix)
                            .then(|| format!("{dir}{name}{}", if is_dir { "/" } else { "" }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        matches.sort();
        return Ok((matches, cursor - token.chars().count()));
    }
    let token: String = line
        .chars()
        .rev()
        .take_while(|c| is_name_char(*c) || *c == '%')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let start = cursor - token.chars().count();
    if token.starts_with('%') {
        let matches = magic_names()
            .into_iter()
            .filter(|m| m.starts_with(&token))
            .collect();
        return Ok((matches, start));
    }
    let mut matches = Vec::new();
    match token.rsplit_once('.') {
        Some((object, prefix)) => {
            if let Some(obj) = resolve(py, object)? {
                for attr in py
                    .import("builtins")?
                    .call_method1("dir", (&obj,))?
                    .try_iter()?
                {
                    let attr: String = attr?.extract()?;
                    if attr.starts_with(prefix)
                        && (prefix.starts_with('_') || !attr.starts_with('_'))
                    {
                        matches.push(format!("{object}.{attr}"));
                    }
                }
            }
        }
        None => {
            let ns = context()?.user_ns(py);
            let builtins = py.import("builtins")?;
            let keywords = py.import("keyword")?.getattr("kwlist")?;
            let names = PyList::empty(py);
            names.call_method1("extend", (ns.keys(),))?;
            names.call_method1("extend", (builtins.call_method1("dir", (&builtins,))?,))?;
            names.call_method1("extend", (keywords,))?;
            for name in names.iter() {
                let name: String = name.extract()?;
                if name.starts_with(&token)
                    && (token.starts_with('_') || !name.starts_with('_'))
                    && !matches.contains(&name)
                {
                    matches.push(name);
                }
            }
        }
    }
    matches.sort();
    Ok((matches, start))
}

pub fn complete(py: Python<'_>, content: &Value) -> Value {
    let code = content["code"].as_str().unwrap_or("");
    let cursor = content["cursor_pos"]
        .as_u64()
        .unwrap_or(code.chars().count() as u64) as usize;
    let cursor = cursor.min(code.chars().count());
    let before = &code[..byte_offset(code, cursor)];
    let magic_line = before
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .trim_start()
        .starts_with('%');
    let jedi = if magic_line {
        None
    } else {
        jedi_complete(py, code, cursor).ok()
    };
    let (matches, start, types) = match jedi {
        Some(found) if !found.0.is_empty() => found,
        _ => match basic_complete(py, code, cursor) {
            Ok((m, s)) => (m, s, Vec::new()),
            Err(_) => (Vec::new(), cursor, Vec::new()),
        },
    };
    json!({"status": "ok", "matches": matches, "cursor_start": start, "cursor_end": cursor,
           "metadata": {"_jupyter_types_experimental": types}})
}

/// complete / incomplete (with the indent to continue with) / invalid, using
/// Python's own compiler the way the interactive console does.
pub fn is_complete(py: Python<'_>, content: &Value) -> Value {
    let code = content["code"].as_str().unwrap_or("");
    let source = transform_cell(code);
    let result = py
        .import("codeop")
        .and_then(|codeop| codeop.call_method1("compile_command", (&source, "<input>", "exec")));
    match result {
        Ok(compiled) if compiled.is_none() => {
            let last = code
                .rsplit('\n')
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let mut indent: String = last.chars().take_while(|c| c.is_whitespace()).collect();
            if last.trim_end().ends_with(':') {
                indent.push_str("    ");
            }
            json!({"status": "incomplete", "indent": indent})
        }
        // A compilable block whose last line is still indented and has no
        // blank line after it is open: the user is still typing its body.
        Ok(_) => match open_block_indent(code) {
            Some(indent) => json!({"status": "incomplete", "indent": indent}),
            None => json!({"status": "complete"}),
        },
        Err(_) => json!({"status": "invalid"}),
    }
}

/// The indent of the last line when it sits inside a block that a blank line
/// has not yet closed.
fn open_block_indent(code: &str) -> Option<String> {
    if code.trim_end_matches([' ', '\t']).ends_with("\n\n") {
        return None;
    }
    let last = code.trim_end_matches('\n').rsplit('\n').next()?;
    let indent: String = last
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    (!indent.is_empty() && !last.trim().is_empty()).then_some(indent)
}

#[cfg(test)]
mod tests {
    use super::open_block_indent;

    #[test]
    fn open_block_needs_a_blank_line_to_close() {
        assert_eq!(
            open_block_indent("def f(x):\n  x*2\n").as_deref(),
            Some("  ")
        );
        assert_eq!(open_block_indent("def f(x):\n  x*2\n\n"), None);
        assert_eq!(open_block_indent("x = 1\n"), None);
        assert_eq!(open_block_indent("x = 1"), None);
    }
}
