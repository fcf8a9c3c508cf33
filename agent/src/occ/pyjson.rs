//! JSON text as Python's `json.dumps` writes it, which is what os-collect-config puts in
//! its cache files and prints with `--print`: `ensure_ascii` (every non-ASCII character
//! as `\uXXXX`, surrogate pairs above the BMP), `", "`/`": "` separators, and with an
//! indent, one line per member and `{}`/`[]` for empty containers. Floats use serde_json's
//! shortest form, which may differ from Python's `repr` in the exponent notation
//! (`1e16` against `1e+16`).

use std::fmt::Write as _;

use serde_json::Value;

/// `json.dumps(value, indent=indent)`; `None` is the one-line form.
pub fn dumps(value: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent, 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * depth));
    }
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    let separator = if indent.is_some() { "," } else { ", " };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, indent, depth + 1);
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

/// Python's float repr always has a `.0` or an exponent.
fn python_number(n: &serde_json::Number) -> String {
    let text = n.to_string();
    if n.is_f64() && !text.contains(['.', 'e', 'E']) {
        format!("{text}.0")
    } else {
        text
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indented_output_matches_python() {
        // json.dumps({"a": [1, {}], "b": {"c": "x"}, "d": []}, indent=1)
        let v = json!({"a": [1, {}], "b": {"c": "x"}, "d": [], "e": 1.5});
        assert_eq!(
            dumps(&v, Some(1)),
            "{\n \"a\": [\n  1,\n  {}\n ],\n \"b\": {\n  \"c\": \"x\"\n },\n \"d\": [],\n \"e\": 1.5\n}"
        );
        assert_eq!(
            dumps(&json!(["/a.json", "/b.json"]), None),
            "[\"/a.json\", \"/b.json\"]"
        );
        assert_eq!(
            dumps(&json!({"k": 1, "l": null}), None),
            "{\"k\": 1, \"l\": null}"
        );
    }

    #[test]
    fn strings_are_ascii_escaped() {
        assert_eq!(
            dumps(&json!("é\u{1F600}\"\\\n\u{1}"), None),
            "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\n\\u0001\""
        );
        assert_eq!(dumps(&json!(2.0), None), "2.0");
    }
}
