//! `get_json_object(json, path)`: a JSON text read with its keys in order,
//! a JSONPath (`$.a.b[0]`, `$['a b']`, `$.a[*].b`) followed through it, and
//! the value found written back as Spark writes it (through Jackson): a
//! string bare, anything else compact JSON with numbers re-read (`2.50` is
//! `2.5`, `1e3` is `1000.0`). Invalid JSON, a path Spark does not accept,
//! or nothing at the path gives NULL.

use crate::value::java_float_string;

/// A parsed JSON value, object keys in their order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    /// An integer that fits a `long`, kept exact.
    Integer(i64),
    Double(f64),
    Text(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[*]`: every element of an array.
    All,
}

/// Spark's `get_json_object`: the value at `path` in `json`, or `None`.
pub fn get_json_object(json: &str, path: &str) -> Option<String> {
    let steps = parse_path(path)?;
    let mut parser = Parser {
        text: json.as_bytes(),
        at: 0,
    };
    let value = parser.value()?;
    parser.space();
    if parser.at != parser.text.len() {
        return None;
    }
    let found = follow(&value, &steps)?;
    match found {
        Json::Null => None,
        Json::Text(text) => Some(text),
        other => Some(write(&other)),
    }
}

fn follow(value: &Json, steps: &[Step]) -> Option<Json> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(value.clone());
    };
    match (step, value) {
        (Step::Key(key), Json::Object(fields)) => {
            let (_, field) = fields.iter().find(|(k, _)| k == key)?;
            follow(field, rest)
        }
        (Step::Index(i), Json::Array(items)) => follow(items.get(*i)?, rest),
        (Step::All, Json::Array(items)) => {
            let found: Vec<Json> = items.iter().filter_map(|i| follow(i, rest)).collect();
            match found.len() {
                0 => None,
                1 if rest.is_empty() => found.into_iter().next(),
                _ => Some(Json::Array(found)),
            }
        }
        _ => None,
    }
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() {
                return None;
            }
            steps.push(if key == "*" {
                Step::All
            } else {
                Step::Key(key.to_string())
            });
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            steps.push(Step::Key(after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inside = &after[..end];
            steps.push(if inside == "*" {
                Step::All
            } else {
                Step::Index(inside.trim().parse().ok()?)
            });
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let found = self.text.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn word(&mut self, word: &str, value: Json) -> Option<Json> {
        let end = self.at + word.len();
        (self.text.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    fn value(&mut self) -> Option<Json> {
        self.space();
        match *self.text.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Some(Json::Object(fields));
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    fields.push((key, self.value()?));
                    if self.eat(b'}') {
                        return Some(Json::Object(fields));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(Json::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b']') {
                        return Some(Json::Array(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(Json::Text),
            b't' => self.word("true", Json::Bool(true)),
            b'f' => self.word("false", Json::Bool(false)),
            b'n' => self.word("null", Json::Null),
            _ => self.number(),
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.text.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.text.get(self.at)?, b'"' | b'\\') {
                self.at += 1;
            }
            out.push_str(std::str::from_utf8(&self.text[start..self.at]).ok()?);
            if self.text[self.at] == b'"' {
                self.at += 1;
                return Some(out);
            }
            self.at += 1;
            let escaped = *self.text.get(self.at)?;
            self.at += 1;
            out.push(match escaped {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hex = std::str::from_utf8(self.text.get(self.at..self.at + 4)?).ok()?;
                    self.at += 4;
                    char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                }
                _ => return None,
            });
        }
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.text[start..self.at]).ok()?;
        if text.is_empty() {
            return None;
        }
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(integer) = text.parse::<i64>() {
                return Some(Json::Integer(integer));
            }
        }
        text.parse::<f64>().ok().map(Json::Double)
    }
}

/// Compact JSON, as Jackson writes what it read.
fn write(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Integer(i) => i.to_string(),
        Json::Double(d) => java_float_string(*d, false),
        Json::Text(text) => quoted(text),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(write).collect::<Vec<_>>().join(",")
        ),
        Json::Object(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}:{}", quoted(k), write(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::get_json_object;

    #[test]
    fn paths_follow_spark() {
        let doc = r#"{"a": {"b": [1, 2.50, "x"]}, "c": "hi", "d": null, "e": true}"#;
        assert_eq!(get_json_object(doc, "$.a.b[1]").as_deref(), Some("2.5"));
        assert_eq!(
            get_json_object(doc, "$.a").as_deref(),
            Some(r#"{"b":[1,2.5,"x"]}"#)
        );
        assert_eq!(get_json_object(doc, "$.c").as_deref(), Some("hi"));
        assert_eq!(get_json_object(doc, "$.d"), None);
        assert_eq!(get_json_object(doc, "$.e").as_deref(), Some("true"));
        assert_eq!(get_json_object(doc, "$.missing"), None);
        assert_eq!(get_json_object("not json", "$.c"), None);
        assert_eq!(get_json_object(doc, "c"), None);
        let list = r#"{"a": [{"b": 1}, {"b": 2}], "a b": 1e3}"#;
        assert_eq!(get_json_object(list, "$.a[*].b").as_deref(), Some("[1,2]"));
        assert_eq!(get_json_object(list, "$['a b']").as_deref(), Some("1000.0"));
        assert_eq!(get_json_object("[1, 2]", "$[0]").as_deref(), Some("1"));
    }
}
