//! Rewrites IPython syntax in a cell into plain Python calls on the `__kiln__`
//! builtin: `!cmd`, `x = !cmd`, `%magic`, `x = %magic`, `%%magic` cells and
//! `?obj` / `obj?` help. Lines inside strings or open brackets are left alone.

/// Quotes `s` as a Python string literal.
pub fn py_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Tracks whether the next line starts a fresh statement.
#[derive(Default)]
struct Lexer {
    /// (quote char, triple) of an open string literal.
    string: Option<(char, bool)>,
    depth: i32,
    continued: bool,
}

impl Lexer {
    fn at_statement_start(&self) -> bool {
        self.string.is_none() && self.depth <= 0 && !self.continued
    }

    fn feed(&mut self, line: &str) {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        self.continued = false;
        while i < chars.len() {
            let c = chars[i];
            if let Some((quote, triple)) = self.string {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == quote {
                    if !triple {
                        self.string = None;
                    } else if chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote) {
                        self.string = None;
                        i += 2;
                    }
                }
                i += 1;
                continue;
            }
            match c {
                '#' => break,
                '\'' | '"' => {
                    let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                    self.string = Some((c, triple));
                    if triple {
                        i += 2;
                    }
                }
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth -= 1,
                '\\' if i + 1 == chars.len() => self.continued = true,
                _ => {}
            }
            i += 1;
        }
        // A single-quoted string cannot span lines (without a backslash).
        if let Some((_, false)) = self.string {
            if !self.continued {
                self.string = None;
            }
        }
    }
}

fn is_identifier_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// `x = rest` with a plain assignment target: (target, rest).
fn split_assignment(line: &str) -> Option<(&str, &str)> {
    let (target, rest) = line.split_once('=')?;
    let target = target.trim();
    let valid = !target.is_empty()
        && target
            .split(',')
            .all(|t| is_identifier_path(t.trim()) || t.trim().is_empty());
    valid.then_some((target, rest.trim_start()))
}

/// Rewrites one statement-start line; None when it is ordinary Python.
fn transform_line(body: &str) -> Option<String> {
    if let Some(cmd) = body.strip_prefix('!') {
        return Some(format!("__kiln__.system({})", py_literal(cmd)));
    }
    if let Some(magic) = body.strip_prefix('%') {
        if magic.starts_with('%') {
            return None;
        }
        let (name, args) = magic.split_once(char::is_whitespace).unwrap_or((magic, ""));
        return Some(format!(
            "__kiln__.run_line_magic({}, {})",
            py_literal(name),
            py_literal(args.trim())
        ));
    }
    if let Some((target, rest)) = split_assignment(body) {
        if let Some(cmd) = rest.strip_prefix('!') {
            return Some(format!(
                "{target} = __kiln__.getoutput({})",
                py_literal(cmd)
            ));
        }
        if let Some(magic) = rest.strip_prefix('%') {
            let (name, args) = magic.split_once(char::is_whitespace).unwrap_or((magic, ""));
            return Some(format!(
                "{target} = __kiln__.run_line_magic({}, {})",
                py_literal(name),
                py_literal(args.trim())
            ));
        }
    }
    let help = body.trim_end();
    let (detail, name) = if let Some(name) = help.strip_prefix("??") {
        (1, name)
    } else if let Some(name) = help.strip_prefix('?') {
        (0, name)
    } else if let Some(name) = help.strip_suffix("??") {
        (1, name)
    } else if let Some(name) = help.strip_suffix('?') {
        (0, name)
    } else {
        return None;
    };
    let name = name.trim();
    is_identifier_path(name).then(|| format!("__kiln__.pinfo({}, {detail})", py_literal(name)))
}

/// The Python source to run for a cell.
pub fn transform_cell(cell: &str) -> String {
    let trimmed = cell.trim_start_matches(['\n', '\r']);
    if let Some(rest) = trimmed.strip_prefix("%%") {
        let (first, body) = rest.split_once('\n').unwrap_or((rest, ""));
        let (name, args) = first.split_once(char::is_whitespace).unwrap_or((first, ""));
        let leading = cell.len() - trimmed.len();
        return format!(
            "{}__kiln__.run_cell_magic({}, {}, {})\n",
            "\n".repeat(cell[..leading].matches('\n').count()),
            py_literal(name.trim()),
            py_literal(args.trim()),
            py_literal(body)
        );
    }
    let mut lexer = Lexer::default();
    let mut out = String::with_capacity(cell.len());
    for line in cell.split_inclusive('\n') {
        let (content, ending) = match line.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (line, ""),
        };
        if lexer.at_statement_start() {
            let indent_len = content.len() - content.trim_start().len();
            let (indent, body) = content.split_at(indent_len);
            if let Some(python) = transform_line(body) {
                out.push_str(indent);
                out.push_str(&python);
                out.push_str(ending);
                continue;
            }
        }
        lexer.feed(content);
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_and_captures() {
        assert_eq!(transform_cell("!ls -lh"), "__kiln__.system('ls -lh')");
        assert_eq!(
            transform_cell("files = !ls data/*.csv\nprint(files)"),
            "files = __kiln__.getoutput('ls data/*.csv')\nprint(files)"
        );
        assert_eq!(
            transform_cell("for f in xs:\n    !echo {f}\n"),
            "for f in xs:\n    __kiln__.system('echo {f}')\n"
        );
    }

    #[test]
    fn line_and_cell_magics() {
        assert_eq!(
            transform_cell("%time x = 1"),
            "__kiln__.run_line_magic('time', 'x = 1')"
        );
        assert_eq!(
            transform_cell("d = %pwd"),
            "d = __kiln__.run_line_magic('pwd', '')"
        );
        assert_eq!(
            transform_cell("%%bash\necho 'hi'\n"),
            "__kiln__.run_cell_magic('bash', '', 'echo \\'hi\\'\\n')\n"
        );
    }

    #[test]
    fn help_syntax() {
        assert_eq!(transform_cell("?print"), "__kiln__.pinfo('print', 0)");
        assert_eq!(
            transform_cell("os.path.join??"),
            "__kiln__.pinfo('os.path.join', 1)"
        );
        assert_eq!(transform_cell("x = a ? b"), "x = a ? b");
    }

    #[test]
    fn strings_and_brackets_are_untouched() {
        let cell = "s = '''\n!not a command\n%not a magic\n'''\nt = (1,\n!2)\n";
        assert_eq!(transform_cell(cell), cell);
        assert_eq!(transform_cell("x = 'a' != 'b'"), "x = 'a' != 'b'");
        assert_eq!(transform_cell("y = 10 % 3"), "y = 10 % 3");
    }

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(py_literal("a'b\\c\n"), "'a\\'b\\\\c\\n'");
    }
}
