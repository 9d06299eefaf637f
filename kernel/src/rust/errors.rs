//! Compile errors of a Rust cell, drawn the way rustc draws them: the
//! message, where in the cell, the cell's line with the span underlined
//! and labelled, then notes and help.

use evcxr::CompilationError;

use crate::python::traceback::FormattedError;

const RED: &str = "\x1b[0;31m";
const BLUE: &str = "\x1b[0;34m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One compile error as rustc prints it, its spans on `code`'s lines.
fn render(error: &CompilationError, code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let header = match error.code() {
        Some(code) => format!(
            "{RED}error[{code}]{RESET}{BOLD}: {}{RESET}",
            error.message()
        ),
        None => format!("{RED}error{RESET}{BOLD}: {}{RESET}", error.message()),
    };
    let mut out = vec![header];
    let spans: Vec<_> = error
        .spanned_messages()
        .iter()
        .filter_map(|m| m.span.as_ref().map(|s| (s, m)))
        .collect();
    let gutter = spans
        .iter()
        .map(|(s, _)| s.start_line.to_string().len())
        .max()
        .unwrap_or(1);
    let pad = " ".repeat(gutter);
    if let Some((first, _)) = spans.first() {
        out.push(format!(
            "{pad}{BLUE}-->{RESET} cell:{}:{}",
            first.start_line, first.start_column
        ));
        out.push(format!("{pad} {BLUE}|{RESET}"));
    }
    for (span, message) in &spans {
        let Some(text) = lines.get(span.start_line.saturating_sub(1)) else {
            continue;
        };
        let width = text.chars().count();
        let start = span.start_column.saturating_sub(1).min(width);
        let end = if span.end_line == span.start_line {
            span.end_column
                .saturating_sub(1)
                .clamp(start + 1, width.max(start + 1))
        } else {
            width.max(start + 1)
        };
        let (mark, colour) = if message.is_primary {
            ('^', RED)
        } else {
            ('-', BLUE)
        };
        out.push(format!(
            "{BLUE}{:>gutter$} |{RESET} {text}",
            span.start_line
        ));
        out.push(format!(
            "{pad} {BLUE}|{RESET} {}{colour}{} {}{RESET}",
            " ".repeat(start),
            mark.to_string().repeat(end - start),
            message.label
        ));
    }
    for help in error.help() {
        out.push(format!("{pad} {BLUE}= {BOLD}help{RESET}: {help}"));
    }
    if let Some(hint) = error.evcxr_extra_hint() {
        out.push(format!("{pad} {BLUE}= {BOLD}note{RESET}: {hint}"));
    }
    out.join("\n")
}

/// A cell's compile errors as one Jupyter error: each drawn in the traceback.
pub fn compile_errors(errors: &[CompilationError], code: &str) -> FormattedError {
    let evalue = errors
        .iter()
        .map(|e| match e.code() {
            Some(c) => format!("error[{c}]: {}", e.message()),
            None => format!("error: {}", e.message()),
        })
        .collect::<Vec<_>>()
        .join("; ");
    FormattedError {
        ename: "CompileError".into(),
        evalue,
        traceback: errors.iter().map(|e| render(e, code)).collect(),
    }
}
