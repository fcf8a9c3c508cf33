//! JSON values as Python sees them, where Heat's results or messages depend on it:
//! `repr()`, `str()`, type names, truthiness and `==`.

use serde_json::{Number, Value};
pub use updraft_hooks::python_json::truthy;

/// Python's `repr()` of a value (`{'a': [1, None, True]}`).
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(value, &mut out);
    out
}

/// Python's `str()` of a value: strings as they are, everything else as `repr()`.
pub fn str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => repr(other),
    }
}

/// `repr(value)[:200]`, as Heat puts values in messages.
pub fn short_repr(value: &Value) -> String {
    repr(value).chars().take(200).collect()
}

/// Python's type name (`NoneType`, `bool`, `int`, `float`, `str`, `list`, `dict`).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `<class 'int'>`, as `str(type(value))` prints.
pub fn type_repr(value: &Value) -> String {
    format!("<class '{}'>", type_name(value))
}

/// Python's `==`: numbers compare by value and `True == 1`, containers element-wise.
pub fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| eq(v, w)))
        }
        _ => match (numeric(a), numeric(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// `value in items`, with Python's `==`.
pub fn contains(items: &[Value], value: &Value) -> bool {
    items.iter().any(|i| eq(i, value))
}

/// The value as a number, for comparisons; booleans count as 0 and 1.
fn numeric(value: &Value) -> Option<Numeric> {
    match value {
        Value::Bool(b) => Some(Numeric::Int(i128::from(*b))),
        Value::Number(n) => Some(Numeric::of(n)),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
enum Numeric {
    Int(i128),
    Float(f64),
}

impl Numeric {
    fn of(n: &Number) -> Self {
        if let Some(i) = n.as_i64() {
            Numeric::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Numeric::Int(i128::from(u))
        } else {
            Numeric::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Self) -> bool {
        match (*self, *other) {
            (Numeric::Int(a), Numeric::Int(b)) => a == b,
            (Numeric::Float(a), Numeric::Float(b)) => a == b,
            // Exact for the integers a JSON float can hold, which is all that matters here.
            #[allow(clippy::cast_precision_loss)]
            (Numeric::Int(i), Numeric::Float(f)) | (Numeric::Float(f), Numeric::Int(i)) => {
                f.fract() == 0.0 && (i as f64) == f
            }
        }
    }
}

fn write_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str_repr(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(k, out);
                out.push_str(": ");
                write_repr(v, out);
            }
            out.push('}');
        }
    }
}

/// A string literal as Python writes it: single quotes unless the text has `'` but no `"`.
fn write_str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repr_str_and_types_match_python() {
        let cases = [
            (
                json!({"a": [1, null, true, 1.5]}),
                "{'a': [1, None, True, 1.5]}",
            ),
            (json!("it's \"q\"\n\u{1}"), r#"'it\'s "q"\n\x01'"#),
            (json!("a'b"), r#""a'b""#),
            (json!("é"), "'é'"),
        ];
        for (value, expected) in cases {
            assert_eq!(repr(&value), expected);
        }
        assert_eq!(str(&json!("x")), "x");
        assert_eq!(type_repr(&json!(1.5)), "<class 'float'>");
        assert_eq!(type_name(&json!(null)), "NoneType");
    }

    #[test]
    fn equality_and_truthiness_follow_python() {
        assert!(eq(&json!(1), &json!(1.0)));
        assert!(eq(&json!(true), &json!(1)));
        assert!(eq(&json!([1, {"a": 0}]), &json!([1.0, {"a": false}])));
        assert!(!eq(&json!("1"), &json!(1)));
        assert!(!truthy(&json!(0.0)));
        assert!(!truthy(&json!({})));
        assert!(truthy(&json!(" ")));
    }
}
