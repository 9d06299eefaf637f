//! The wire format between a Rust cell's process and the kernel, shared by
//! both ends (the kernel compiles this file too). A request is one line on
//! the child's stdout, `EVCXR_INPUT_REQUEST:kiln<TAB>op<TAB>arg...`, which
//! evcxr hands to the kernel as an input prompt; the answer is one line on
//! the child's stdin, `ok<TAB>payload` or `err<TAB>message`. Arguments,
//! payloads and messages are `%`-escaped, so neither holds a tab, a line
//! break or a `:` (which would end evcxr's prompt).

/// What starts a request's prompt.
pub const PREFIX: &str = "kiln\t";

/// `%`-escapes the characters the line protocol uses (and `:`, which ends
/// evcxr's input prompt).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\t' => out.push_str("%09"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

pub fn unescape(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        let text = "a:b\tc\nd%e\r é";
        assert!(!escape(text).contains([':', '\t', '\n', '\r']));
        assert_eq!(unescape(&escape(text)), text);
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz%4"), "%zz%4");
    }
}
