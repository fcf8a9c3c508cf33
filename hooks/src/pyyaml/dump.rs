//! Writing a map as PyYAML's `yaml.safe_dump(data, default_flow_style=False)` does (block
//! style, keys sorted, indentless sequences in mappings, PyYAML's choice between plain,
//! single- and double-quoted scalars, plain and single-quoted scalars folded past column
//! 80), so a `docker-compose.yml` written here is the one upstream's orc script writes.
//!
//! Not reproduced: PyYAML folds long double-quoted scalars and writes multi-line strings
//! single-quoted; here such strings are one double-quoted line with escapes (the same
//! value when read back).

use std::sync::LazyLock;

use regex::Regex;

use super::resolve::{Implicit, resolve_plain};
use serde_json::Value;

/// PyYAML's line width (`best_width`).
const WIDTH: usize = 80;

/// `yaml.safe_dump(value, default_flow_style=False)`.
pub fn safe_dump(value: &Value) -> String {
    let mut out = Emitter::default();
    match value {
        Value::Object(map) if !map.is_empty() => out.mapping(value, 0, false),
        Value::Array(items) if !items.is_empty() => out.sequence(value, 0, false),
        scalar => {
            let text = scalar_text(scalar, &out, 2, false);
            out.push(&text);
            out.push("\n");
            // PyYAML ends a plain root scalar with an explicit document end.
            if matches!(scalar, Value::Null | Value::Bool(_) | Value::Number(_))
                || (matches!(scalar, Value::String(s) if style(s) == Style::Plain))
            {
                out.push("...\n");
            }
        }
    }
    out.text
}

#[derive(Default)]
struct Emitter {
    text: String,
}

impl Emitter {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn column(&self) -> usize {
        match self.text.rfind('\n') {
            Some(at) => self.text.len() - at - 1,
            None => self.text.len(),
        }
    }

    fn indent_to(&mut self, indent: usize) {
        self.push(&" ".repeat(indent));
    }

    /// A non-empty map whose keys start at `indent` (the first on the current line when
    /// `inline`, after a sequence's `- `).
    fn mapping(&mut self, value: &Value, indent: usize, inline: bool) {
        let Value::Object(map) = value else { return };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        for (i, key) in keys.into_iter().enumerate() {
            if !(inline && i == 0) {
                self.indent_to(indent);
            }
            let key_text = string_text(key, self, indent + 2, false);
            self.push(&key_text);
            self.push(":");
            let item = &map[key.as_str()];
            match item {
                Value::Object(m) if !m.is_empty() => {
                    self.push("\n");
                    self.mapping(item, indent + 2, false);
                }
                Value::Array(a) if !a.is_empty() => {
                    self.push("\n");
                    self.sequence(item, indent, false);
                }
                scalar => {
                    self.push(" ");
                    let text = scalar_text(scalar, self, indent + 2, true);
                    self.push(&text);
                    self.push("\n");
                }
            }
        }
    }

    /// A non-empty list whose dashes are at `indent`.
    fn sequence(&mut self, value: &Value, indent: usize, inline: bool) {
        let Value::Array(items) = value else { return };
        for (i, item) in items.iter().enumerate() {
            if !(inline && i == 0) {
                self.indent_to(indent);
            }
            self.push("- ");
            match item {
                Value::Object(m) if !m.is_empty() => self.mapping(item, indent + 2, true),
                Value::Array(a) if !a.is_empty() => self.sequence(item, indent + 2, true),
                scalar => {
                    let text = scalar_text(scalar, self, indent + 2, true);
                    self.push(&text);
                    self.push("\n");
                }
            }
        }
    }
}

/// A scalar (or empty collection) as PyYAML writes it at the emitter's current column;
/// folded lines continue at `indent`.
fn scalar_text(value: &Value, at: &Emitter, indent: usize, split: bool) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => string_text(s, at, indent, split),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// PyYAML's `represent_int` / `represent_float`.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or_default();
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let repr = crate::python_json::float_repr(f).to_lowercase();
    if !repr.contains('.') && repr.contains('e') {
        repr.replacen('e', ".0e", 1)
    } else {
        repr
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// PyYAML's YAML 1.1 implicit resolvers: plain text that would not read back as a string
/// (the loader's resolvers, plus the timestamp one, which Heat's loader reads as text but
/// PyYAML's dumper still quotes against).
fn resolves_to_non_string(s: &str) -> bool {
    static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$").ok()
    });
    resolve_plain(s) != Implicit::Str || TIMESTAMP.as_ref().is_some_and(|re| re.is_match(s))
}

/// PyYAML's `analyze_scalar` + `choose_scalar_style` for a string in block context.
fn style(s: &str) -> Style {
    if s.is_empty() {
        return Style::Single;
    }
    // Anything beyond printable ASCII (line breaks, tabs, non-ASCII with
    // allow_unicode=False) is written double-quoted with escapes.
    if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Style::Double;
    }
    let bytes = s.as_bytes();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    for (i, &ch) in bytes.iter().enumerate() {
        let followed_by_space = bytes.get(i + 1).is_none_or(|&n| n == b' ');
        let preceded_by_space = i == 0 || bytes[i - 1] == b' ';
        if i == 0 {
            if b"#,[]{}&*!|>'\"%@`".contains(&ch) {
                block_indicators = true;
            }
            if (ch == b'?' || ch == b':' || ch == b'-') && followed_by_space {
                block_indicators = true;
            }
        } else {
            if ch == b':' && followed_by_space {
                block_indicators = true;
            }
            if ch == b'#' && preceded_by_space {
                block_indicators = true;
            }
        }
    }
    let edge_space = s.starts_with(' ') || s.ends_with(' ');
    if block_indicators || edge_space || resolves_to_non_string(s) {
        Style::Single
    } else {
        Style::Plain
    }
}

/// A string as PyYAML writes it starting at `at`'s column; `split` allows folding long
/// plain and single-quoted text onto lines indented by `indent`.
fn string_text(s: &str, at: &Emitter, indent: usize, split: bool) -> String {
    let start_column = at.column();
    match style(s) {
        Style::Plain => fold(s, start_column, indent, split, false),
        Style::Single => {
            let mut text = String::from("'");
            text.push_str(&fold(
                &s.replace('\'', "''"),
                start_column + 1,
                indent,
                split,
                true,
            ));
            text.push('\'');
            text
        }
        Style::Double => double_quoted(s),
    }
}

/// PyYAML's `write_plain` / `write_single_quoted` line folding: a single space met past
/// column [`WIDTH`] becomes a line break and indentation (never the first or last space
/// of a single-quoted scalar).
fn fold(s: &str, start_column: usize, indent: usize, split: bool, quoted: bool) -> String {
    let mut out = String::new();
    let mut column = start_column;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            let single = bytes.get(i + 1) != Some(&b' ') && (i == 0 || bytes[i - 1] != b' ');
            let at_edge = quoted && (i == 0 || i + 1 == bytes.len());
            if split && single && !at_edge && column > WIDTH {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                column = indent;
                i += 1;
                continue;
            }
        }
        out.push(char::from(bytes[i]));
        column += 1;
        i += 1;
    }
    out
}

/// PyYAML's double-quoted escapes.
fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        let named = match ch {
            '\0' => Some('0'),
            '\x07' => Some('a'),
            '\x08' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\x0b' => Some('v'),
            '\x0c' => Some('f'),
            '\r' => Some('r'),
            '\x1b' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{a0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        match named {
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None if (' '..='~').contains(&ch) => out.push(ch),
            None => {
                let code = u32::from(ch);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02X}"));
                } else if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_and_lists_are_written_as_pyyaml_block_style() {
        let data = json!({
            "web": {"image": "nginx", "links": ["db"], "ports": ["8000:8000"], "x": []},
            "db": {"image": "redis", "env": [{"a": 1, "b": [true, null]}, ["p", "q"]]},
        });
        assert_eq!(
            safe_dump(&data),
            "db:\n  env:\n  - a: 1\n    b:\n    - true\n    - null\n  - - p\n    - q\n  image: redis\n\
             web:\n  image: nginx\n  links:\n  - db\n  ports:\n  - 8000:8000\n  x: []\n"
        );
    }

    #[test]
    fn scalars_are_quoted_when_pyyaml_quotes_them() {
        let cases = [
            ("plain", "plain"),
            ("", "''"),
            ("yes", "'yes'"),
            ("80:80", "80:80"),
            ("80:59", "'80:59'"),
            ("8000:8000", "8000:8000"),
            ("1.5", "'1.5'"),
            ("012", "'012'"),
            ("2001-12-14", "'2001-12-14'"),
            ("null", "'null'"),
            ("a: b", "'a: b'"),
            ("a:b", "a:b"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            ("*x", "'*x'"),
            (" lead", "' lead'"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            ("two\nlines", "\"two\\nlines\""),
            ("é", "\"\\xE9\""),
            ("---x", "'---x'"),
        ];
        for (value, written) in cases {
            assert_eq!(
                safe_dump(&json!({ "k": value })),
                format!("k: {written}\n"),
                "{value:?}"
            );
        }
        assert_eq!(
            safe_dump(&json!({"f": 1e20, "g": 0.5, "i": -3})),
            "f: 1.0e+20\ng: 0.5\ni: -3\n"
        );
        assert_eq!(safe_dump(&json!({})), "{}\n");
        assert_eq!(safe_dump(&json!("x")), "x\n...\n");
    }

    #[test]
    fn long_plain_scalars_fold_past_column_80() {
        let words = vec!["word"; 30].join(" ");
        let text = safe_dump(&json!({ "command": words }));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        // PyYAML breaks at the first space past column 80 and indents by 2.
        assert_eq!(lines[0].len(), 83, "{text}");
        assert!(lines[1].starts_with("  word"), "{text}");
    }
}
