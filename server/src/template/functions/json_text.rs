//! JSON text as Python's `json.dumps(value, sort_keys=True)` writes it, which is what Heat
//! embeds when `str_replace` or `list_join` meets a map or a list.

use serde_json::Value;

/// `json.dumps(value, sort_keys=True)`: `", "` and `": "` separators, ASCII-escaped.
pub fn python_dumps(value: &Value) -> String {
    let mut out = String::new();
    write(value, true, &mut out);
    out
}

/// `json.dumps(value)`: as [`python_dumps`] but with keys in their order.
pub fn python_dumps_unsorted(value: &Value) -> String {
    let mut out = String::new();
    write(value, false, &mut out);
    out
}

fn write(value: &Value, sort: bool, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(item, sort, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            if sort {
                keys.sort();
            }
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(key, out);
                out.push_str(": ");
                if let Some(v) = map.get(*key) {
                    write(v, sort, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps_sorted() {
        assert_eq!(
            python_dumps(&json!({"b": [1, "x"], "a": {"é": null}})),
            r#"{"a": {"\u00e9": null}, "b": [1, "x"]}"#
        );
        assert_eq!(
            python_dumps_unsorted(&json!({"b": 1, "a": [true]})),
            r#"{"b": 1, "a": [true]}"#
        );
    }
}
