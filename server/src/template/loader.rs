//! The one YAML/JSON loader for templates and environments.
//!
//! Heat tries JSON first, then YAML with PyYAML's SafeLoader where timestamps stay strings.
//! serde-saphyr is configured to match it as closely as it can (DESIGN.md §8): legacy octal
//! numbers, last-wins duplicate keys, non-finite floats passed through.

use serde_json::Value;

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
    if text.trim_start().starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return Ok(v);
    }
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.non_finite_float_policy = serde_saphyr::NonFiniteFloatPolicy::PassThrough;
    options.with_snippet = false;
    match serde_saphyr::from_str_with_options::<Value>(text, options) {
        Ok(Value::Null) => Ok(Value::Object(Default::default())),
        Ok(v) => Ok(v),
        Err(e) => {
            let loc = e.location();
            let (line, column) = (loc.map(|l| l.line()), loc.map(|l| l.column()));
            let detail = first_line(&e.to_string());
            let message = match (line, column) {
                (Some(l), Some(c)) if l > 0 => {
                    format!("Error parsing template: line {l}, column {c}: {detail}")
                }
                _ => format!("Error parsing template: {detail}"),
            };
            Err(LoadError {
                message,
                line,
                column,
            })
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_string()
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
}
