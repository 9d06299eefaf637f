//! This kernel's input (and output) history, answering `history_request`.

use serde_json::{json, Value};

struct Entry {
    line: u64,
    input: String,
    output: Option<String>,
}

/// History of the current session only; session number 1, lines from 1.
pub struct History {
    session: u64,
    entries: Vec<Entry>,
}

impl Default for History {
    fn default() -> Self {
        History {
            session: 1,
            entries: Vec::new(),
        }
    }
}

impl History {
    pub fn record(&mut self, line: u64, input: &str) {
        self.entries.push(Entry {
            line,
            input: input.to_string(),
            output: None,
        });
    }

    pub fn record_output(&mut self, line: u64, output: &str) {
        if let Some(entry) = self.entries.iter_mut().rev().find(|e| e.line == line) {
            entry.output = Some(output.to_string());
        }
    }

    /// The `history_reply` content for a `history_request`.
    pub fn reply(&self, request: &Value) -> Value {
        let with_output = request["output"].as_bool().unwrap_or(false);
        let n = request["n"].as_u64().map(|n| n as usize);
        let selected: Vec<&Entry> = match request["hist_access_type"].as_str().unwrap_or("tail") {
            "tail" => {
                let n = n.unwrap_or(10);
                self.entries[self.entries.len().saturating_sub(n)..]
                    .iter()
                    .collect()
            }
            "range" => {
                let session = request["session"].as_i64().unwrap_or(0);
                let same_session = session == 0 || session == self.session as i64 || session == -1;
                let start = request["start"].as_u64().unwrap_or(0);
                let stop = request["stop"].as_u64();
                if same_session {
                    self.entries
                        .iter()
                        .filter(|e| e.line >= start && stop.is_none_or(|s| e.line < s))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            "search" => {
                let pattern = request["pattern"].as_str().unwrap_or("*");
                let unique = request["unique"].as_bool().unwrap_or(false);
                let mut hits: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| glob_match(pattern, &e.input))
                    .collect();
                if unique {
                    let mut seen = std::collections::HashSet::new();
                    let mut kept: Vec<&Entry> = hits
                        .into_iter()
                        .rev()
                        .filter(|e| seen.insert(e.input.as_str()))
                        .collect();
                    kept.reverse();
                    hits = kept;
                }
                if let Some(n) = n {
                    hits = hits[hits.len().saturating_sub(n)..].to_vec();
                }
                hits
            }
            _ => Vec::new(),
        };
        let history: Vec<Value> = selected
            .into_iter()
            .map(|e| {
                if with_output {
                    json!([self.session, e.line, [e.input, e.output]])
                } else {
                    json!([self.session, e.line, e.input])
                }
            })
            .collect();
        json!({"status": "ok", "history": history})
    }
}

/// Shell-style glob: `*` any run, `?` one character; everything else literal.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let mut h = History::default();
        h.record(1, "a = 1");
        h.record(2, "print(a)");
        h.record(3, "a = 1");
        h.record_output(3, "1");
        h
    }

    #[test]
    fn tail_returns_the_last_n() {
        let reply = sample().reply(&json!({"hist_access_type": "tail", "n": 2}));
        assert_eq!(
            reply["history"],
            json!([[1, 2, "print(a)"], [1, 3, "a = 1"]])
        );
    }

    #[test]
    fn range_is_half_open() {
        let reply = sample()
            .reply(&json!({"hist_access_type": "range", "session": 1, "start": 2, "stop": 3}));
        assert_eq!(reply["history"], json!([[1, 2, "print(a)"]]));
    }

    #[test]
    fn search_with_glob_unique_and_output() {
        let h = sample();
        let all = h.reply(&json!({"hist_access_type": "search", "pattern": "a*"}));
        assert_eq!(all["history"].as_array().unwrap().len(), 2);
        let unique =
            h.reply(&json!({"hist_access_type": "search", "pattern": "a*", "unique": true}));
        assert_eq!(unique["history"], json!([[1, 3, "a = 1"]]));
        let out = h.reply(&json!({"hist_access_type": "tail", "n": 1, "output": true}));
        assert_eq!(out["history"], json!([[1, 3, ["a = 1", "1"]]]));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", ""));
        assert!(glob_match("pr?nt*", "print(1)"));
        assert!(!glob_match("x*", "print"));
    }
}
