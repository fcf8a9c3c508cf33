//! `--key`, `--type`, `--key-default` and `--boolean-key`: reading one value of the
//! merged metadata from a shell script.

use regex::Regex;
use serde_json::Value;

use super::metadata::extract;
use updraft_hooks::python_json as pyjson;

/// Why `--key` printed nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The key is missing (or null) and no `--key-default` was given.
    #[error("key {0} does not exist in the metadata")]
    Missing(String),
    /// The value does not look like `--type` says it should.
    #[error("cannot interpret value '{value}' of key {key} as type {type_name}")]
    WrongType {
        /// The key.
        key: String,
        /// The value as Python's `str()` shows it.
        value: String,
        /// The `--type`.
        type_name: String,
    },
    /// `--type` names no known type.
    #[error("requested validation of unknown type: {0}")]
    UnknownType(String),
}

/// The `--type` names and the patterns their values must match. Python's `$` also
/// matches before a final newline, hence `\n?\z`; `raw` accepts anything.
pub const TYPES: &[(&str, &str)] = &[
    ("int", r"^[0-9]+\n?\z"),
    ("default", r"^[A-Za-z0-9_]*\n?\z"),
    ("netaddress", r"^[A-Za-z0-9/.:-]*\n?\z"),
    ("netdevice", r"^[A-Za-z0-9/.:-]*\n?\z"),
    (
        "dsn",
        r"^[a-zA-Z0-9]+://([a-zA-Z0-9+_-]+(:[^@]+)?)?(@?[a-zA-Z0-9/_.-]+)?(/[a-zA-Z0-9_-]+)?(\?[a-zA-Z0-9=_-]+)?\n?\z",
    ),
    // Upstream's class `.-_` is a range ('.' to '_'), kept as written.
    (
        "swiftdevices",
        r"^(r\d+z\d+-[A-Za-z0-9.-_]+:%PORT%/[^,]+,?)+\n?\z",
    ),
    ("username", r"^[A-Za-z0-9_-]+\n?\z"),
    ("raw", ""),
];

/// Checks `text` (a value's Python `str()`) against `type_name`'s pattern.
pub fn matches_type(text: &str, type_name: &str) -> Result<bool, KeyError> {
    let (_, pattern) = TYPES
        .iter()
        .find(|(name, _)| *name == type_name)
        .ok_or_else(|| KeyError::UnknownType(type_name.to_string()))?;
    // The patterns are fixed and known to compile; a failure would be ours, so refuse.
    let re = Regex::new(pattern).map_err(|_| KeyError::UnknownType(type_name.to_string()))?;
    Ok(re.is_match(text))
}

/// What `--key` prints (without the newline): strings raw; maps, lists and booleans as
/// JSON; numbers as Python writes them. A missing or null value prints `default`,
/// unchecked, if there is one.
pub fn lookup(
    config: &Value,
    key: &str,
    type_name: &str,
    default: Option<&str>,
) -> Result<String, KeyError> {
    let Some(value) = extract(config, key) else {
        return default
            .map(str::to_string)
            .ok_or_else(|| KeyError::Missing(key.to_string()));
    };
    let text = pyjson::str_of(value);
    if !matches_type(&text, type_name)? {
        return Err(KeyError::WrongType {
            key: key.to_string(),
            value: text,
            type_name: type_name.to_string(),
        });
    }
    Ok(match value {
        Value::Object(_) | Value::Array(_) | Value::Bool(_) => pyjson::dumps(value),
        _ => text,
    })
}

/// `--boolean-key`'s exit status: 0 for true, 1 for false, 255 (upstream's `-1`) for
/// anything else, missing included.
pub fn boolean_status(config: &Value, key: &str) -> u8 {
    match extract(config, key) {
        Some(Value::Bool(true)) => 0,
        Some(Value::Bool(false)) => 1,
        _ => 255,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printing_follows_python_str_and_json() {
        let c = json!({"s": "a b", "n": 5, "f": 1.5, "b": true, "l": [1], "u": "http://x/"});
        assert_eq!(lookup(&c, "s", "raw", None).unwrap(), "a b");
        assert_eq!(lookup(&c, "n", "int", None).unwrap(), "5");
        assert_eq!(lookup(&c, "f", "netaddress", None).unwrap(), "1.5");
        assert_eq!(lookup(&c, "b", "default", None).unwrap(), "true");
        assert_eq!(lookup(&c, "l", "raw", None).unwrap(), "[1]");
        assert!(matches!(
            lookup(&c, "u", "default", None),
            Err(KeyError::WrongType { .. })
        ));
        assert_eq!(lookup(&c, "nope", "int", Some("d")).unwrap(), "d");
        assert_eq!(
            lookup(&c, "nope", "int", None),
            Err(KeyError::Missing("nope".into()))
        );
        assert_eq!(
            lookup(&c, "s", "colour", None),
            Err(KeyError::UnknownType("colour".into()))
        );
    }

    #[test]
    fn every_type_pattern_compiles_and_dsn_accepts_a_database_url() {
        for (name, _) in TYPES {
            matches_type("x", name).unwrap();
        }
        assert!(matches_type("mysql://user:pw@host/db?charset=utf8", "dsn").unwrap());
        assert!(matches_type("r1z1-10.0.0.1:%PORT%/sdb1", "swiftdevices").unwrap());
        assert!(matches_type("abc\n", "default").unwrap());
        assert!(!matches_type("abc\n\n", "default").unwrap());
    }

    #[test]
    fn boolean_key_statuses() {
        let c = json!({"t": true, "f": false, "s": "true"});
        assert_eq!(
            [
                boolean_status(&c, "t"),
                boolean_status(&c, "f"),
                boolean_status(&c, "s"),
                boolean_status(&c, "x")
            ],
            [0, 1, 255, 255]
        );
    }
}
