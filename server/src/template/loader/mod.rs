//! The one YAML/JSON loader for templates and environments.
//!
//! Heat (`heat/common/template_format.py`) tries JSON first, then YAML with PyYAML's
//! (C)SafeLoader whose `str` and `timestamp` constructors return the scalar's text. This module
//! does the same: JSON, then [`updraft_hooks::pyyaml`] (shared with the agent's hooks, which
//! documents the YAML rules and their limits). An empty document is `{}`, as in Heat. The
//! size limit on the raw text (`max_template_size`) is the API's.

#[cfg(test)]
mod differential;

use serde_json::Value;

pub use updraft_hooks::pyyaml::{MAX_DEPTH, MAX_NODES};

/// A document that could not be parsed, with its position when known.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{message}")]
pub struct LoadError {
    /// Human-readable message naming line and column where known.
    pub message: String,
    /// 1-based line of the problem.
    pub line: Option<u64>,
    /// 1-based column of the problem.
    pub column: Option<u64>,
}

/// Parses a template or environment text (JSON or YAML) into a JSON value.
/// An empty document is `{}`, as in Heat.
pub fn load_document(text: &str) -> Result<Value, LoadError> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    match updraft_hooks::pyyaml::load(text) {
        Ok(None | Some(Value::Null)) => Ok(Value::Object(Default::default())),
        Ok(Some(v)) => Ok(v),
        Err(e) => Err(LoadError {
            message: format!("Error parsing template: {e}"),
            line: Some(e.line),
            column: Some(e.column),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_stay_strings_and_json_is_accepted() {
        let v = load_document("heat_template_version: 2018-08-31\nmode: 0700\n").unwrap();
        assert_eq!(v["heat_template_version"], json!("2018-08-31"));
        assert_eq!(v["mode"], json!(448));
        let v = load_document(r#"{"a": [1, 2]}"#).unwrap();
        assert_eq!(v, json!({"a": [1, 2]}));
        assert_eq!(load_document("").unwrap(), json!({}));
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let v = load_document("a: 1\na: 2\n").unwrap();
        assert_eq!(v, json!({"a": 2}));
    }

    #[test]
    fn errors_name_line_and_column() {
        let err = load_document("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
        assert!(err.message.contains("line "), "{}", err.message);
        assert!(err.message.contains("column "), "{}", err.message);
    }

    #[test]
    fn yaml_1_1_scalars_as_pyyaml() {
        let v =
            load_document("name: n\nflag: y\nforce: yes\nmode: 0755\nt: 1:30\nx: 1e3\n").unwrap();
        assert_eq!(
            v,
            json!({"name": "n", "flag": "y", "force": true, "mode": 493, "t": 90, "x": "1e3"})
        );
        let v = load_document("on: 1\n1.5: 2\n~: 3\n").unwrap();
        assert_eq!(v, json!({"true": 1, "1.5": 2, "null": 3}));
    }

    fn nested(depth: usize, block: bool) -> String {
        if block {
            (0..depth)
                .map(|i| format!("{}k:\n", "  ".repeat(i)))
                .chain([format!("{}v\n", "  ".repeat(depth))])
                .collect()
        } else {
            format!("a: {}{}\n", "[".repeat(depth - 1), "]".repeat(depth - 1))
        }
    }

    #[test]
    fn nesting_is_limited_without_overflowing_the_stack() {
        for block in [false, true] {
            let v = load_document(&nested(MAX_DEPTH, block)).unwrap();
            assert!(v.is_object());
            let err = load_document(&nested(MAX_DEPTH + 1, block)).unwrap_err();
            assert!(err.message.contains("deeper than"), "{}", err.message);
            assert!(err.line.is_some());
        }
        // Aliases cannot smuggle in more depth.
        let mut text = format!("a: &a {}{}\n", "[".repeat(600), "]".repeat(600));
        text.push_str(&format!("b: {}*a{}\n", "[".repeat(500), "]".repeat(500)));
        let err = load_document(&text).unwrap_err();
        // Either our depth check or the parser's nesting limit stops it first.
        assert!(
            err.message.contains("deeper than") || err.message.contains("recursion limit"),
            "{}",
            err.message
        );
    }

    #[test]
    fn alias_expansion_is_budgeted() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = load_document(&text).unwrap_err();
        assert!(
            err.message.contains("expands to more than"),
            "{}",
            err.message
        );
        assert_eq!(err.line, Some(6));
    }
}
