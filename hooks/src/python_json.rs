//! Values written as Python writes them, wherever a Heat component's output depends on it:
//! `json.dumps` (os-collect-config's cache and `--print`, os-apply-config's rendering of
//! non-strings, heat-agents' JSON files, Heat's `str_replace` of a map), `repr(float)` and
//! `str()` of scalars.
//!
//! `json.dumps` defaults: `ensure_ascii` (every non-ASCII character as `\uXXXX`, surrogate
//! pairs beyond the BMP; DEL stays raw), `", "`/`": "` separators, or with an indent one
//! member per line with `","` and `{}`/`[]` for empty containers; floats as `repr`.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// How [`dumps_with`] lays the text out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    /// `indent=`: `None` is the one-line form.
    pub indent: Option<usize>,
    /// `sort_keys=True`.
    pub sort_keys: bool,
}

/// Python's truthiness of a JSON value: `None`, `False`, zero and empty strings and
/// containers are false.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// `json.dumps(value)`.
pub fn dumps(value: &Value) -> String {
    dumps_with(value, Layout::default())
}

/// `json.dumps(value, indent=…, sort_keys=…)`.
pub fn dumps_with(value: &Value, layout: Layout) -> String {
    let mut out = String::new();
    write_value(&mut out, value, layout, 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * depth));
    }
}

fn write_value(out: &mut String, value: &Value, layout: Layout, depth: usize) {
    let separator = if layout.indent.is_some() { "," } else { ", " };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_string(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, layout.indent, depth + 1);
                write_value(out, item, layout, depth + 1);
            }
            newline(out, layout.indent, depth);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            if layout.sort_keys {
                members.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(separator);
                }
                newline(out, layout.indent, depth + 1);
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item, layout, depth + 1);
            }
            newline(out, layout.indent, depth);
            out.push('}');
        }
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
            c if (' '..='\u{7f}').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// A number as Python's `str()`/`json.dumps` writes it: integers as digits, floats as
/// [`float_repr`].
pub fn number(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => float_repr(f),
        _ => n.to_string(),
    }
}

/// Python's `repr(float)` (also `str(float)`): the shortest round-trip digits, exponent
/// form outside `1e-4 ..= 1e16`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // `{:e}` yields the same shortest round-trip digits Python picks.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i64 = exp.parse().unwrap_or(0);
    let point = exp + 1;
    let len = digits.len() as i64;
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let body = if !(-3..=16).contains(&point) {
        let (lead, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!(
            "{lead}{rest}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= len {
        format!("{digits}{}.0", "0".repeat((point - len) as usize))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

/// Python's `str(value)` for scalars (`True`, `False`, `None`, a string raw); lists and
/// maps as [`dumps`].
pub fn str_of(value: &Value) -> String {
    match value {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => number(n),
        other => dumps(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_line_output_matches_python() {
        let v = json!({"a": [1, 2.5, true, null], "é": "<&>\"\n\u{1F600}\u{7f}\u{1}", "n": {"x": 1e16}});
        assert_eq!(
            dumps(&v),
            "{\"a\": [1, 2.5, true, null], \"\\u00e9\": \"<&>\\\"\\n\\ud83d\\ude00\u{7f}\\u0001\", \"n\": {\"x\": 1e+16}}"
        );
        assert_eq!(dumps(&json!(2.0)), "2.0");
    }

    #[test]
    fn indented_and_sorted_output_matches_python() {
        // json.dumps({"b": [1, {}], "a": {"c": "x"}, "d": [], "e": 1.5}, indent=1)
        let v = json!({"b": [1, {}], "a": {"c": "x"}, "d": [], "e": 1.5});
        let layout = Layout {
            indent: Some(1),
            sort_keys: false,
        };
        assert_eq!(
            dumps_with(&v, layout),
            "{\n \"b\": [\n  1,\n  {}\n ],\n \"a\": {\n  \"c\": \"x\"\n },\n \"d\": [],\n \"e\": 1.5\n}"
        );
        let sorted = Layout {
            indent: None,
            sort_keys: true,
        };
        assert_eq!(
            dumps_with(&json!({"b": [1, "x"], "a": {"é": null}}), sorted),
            r#"{"a": {"\u00e9": null}, "b": [1, "x"]}"#
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-300, "-2.5e-300"),
            (-0.0, "-0.0"),
            (123.456, "123.456"),
            (1.2345e20, "1.2345e+20"),
        ] {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn str_is_pythons() {
        assert_eq!(str_of(&json!(true)), "True");
        assert_eq!(str_of(&json!(null)), "None");
        assert_eq!(str_of(&json!("x")), "x");
        assert_eq!(str_of(&json!([1])), "[1]");
    }
}
