//! YAML as PyYAML reads and writes it, for both sides: the server's templates and
//! environments (`updraft_server::template::loader`, which tries JSON first as Heat does)
//! and the hooks' YAML configs (docker-cmd, docker-compose), so a config means the same
//! to us as to the Python tools.
//!
//! Reading ([`load`]) runs a YAML event parser (`granit-parser`, which tells plain scalars
//! from quoted ones) through our port of PyYAML's YAML 1.1 scalar rules (`resolve.rs`) and
//! of its composer and `SafeConstructor` (`compose.rs`), with Heat's `str` and `timestamp`
//! constructors (the scalar's text):
//!
//! - booleans `yes/no/on/off/true/false` in PyYAML's spellings (`Yes`, `YES`, …) but not `y`/`n`;
//! - ints: `0755` octal, `0x1F`, `0b101`, `1_000`, sexagesimal `1:30` = 90; `0o755` is a string;
//! - floats need a dot (and a signed exponent): `1.5`, `1.`, `.5`, `1.0e+3`, `1:30.5`; `1e3` is a
//!   string; `.inf`, `-.inf`, `.nan`;
//! - `~`, `null`, `Null`, `NULL` and the empty plain scalar are null; dates and timestamps stay
//!   strings;
//! - merge keys `<<` (a mapping or a list of mappings), last duplicate key wins (in the first
//!   key's position), keys compared as Python does (`on`, `1` and `1.0` are one key), non-string
//!   keys written as `json.dumps` writes them (`true`, `1`, `1.5`, `null`);
//! - anchors and aliases (a duplicate anchor name is an error, as in PyYAML), explicit core tags
//!   (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp`, `!!seq`, `!!map`, `!`);
//!   any other tag is an error;
//! - exactly one document.
//!
//! Limits: collections nested deeper than [`MAX_DEPTH`] and documents that expand (aliases
//! counted at every use) to more than [`MAX_NODES`] values are errors, never a stack overflow
//! or a memory blow-up.
//!
//! Remaining differences from PyYAML, all outside what JSON can carry or what PyYAML accepts:
//! - `.inf` and `.nan` become `null` (Python keeps floats and would write `Infinity`/`NaN`);
//! - integers beyond ±2^127 become the nearest float (Python keeps them exact);
//! - `!!binary`, `!!set`, `!!omap` and `!!pairs` are errors (PyYAML constructs Python objects);
//! - PyYAML's recursion stops it a little below 1000 levels of nesting (`RecursionError`); we
//!   accept [`MAX_DEPTH`] (100, below serde_json's 128 for request bodies and stored templates);
//! - a recursive alias (`&a [*a]`) is an error here and a `RecursionError` in PyYAML;
//! - error messages are ours (PyYAML's wording is not reproduced), with line and column;
//! - the YAML grammar is granit-parser's, which follows libyaml and PyYAML on the documents the
//!   server's differential test covers (`server/tests/yaml_fixtures/`), not necessarily on
//!   every malformed one.
//!
//! Writing ([`safe_dump`]) is `dump.rs`.

mod compose;
mod dump;
mod json;
mod resolve;

use serde_json::Value;

pub use compose::{MAX_DEPTH, MAX_NODES};
pub use dump::safe_dump;

/// A YAML document that could not be read, with where.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// What is wrong (one line).
    pub message: String,
    /// 1-based line of the problem.
    pub line: u64,
    /// 1-based column of the problem.
    pub column: u64,
}

/// Reads one YAML document as PyYAML's `safe_load` (with Heat's string timestamps) into
/// JSON data; `None` for an empty document.
pub fn load(text: &str) -> Result<Option<Value>, YamlError> {
    compose::compose(text).map_err(|e| YamlError {
        message: e
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        line: e.line,
        column: e.column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_text_reads_as_pyyaml_reads_it() {
        let v = load("web:\n  privileged: yes\n  detach: false\n  start_order: 2\n").unwrap();
        assert_eq!(
            v,
            Some(json!({"web": {"privileged": true, "detach": false, "start_order": 2}}))
        );
        assert_eq!(load("  \n").unwrap(), None);
        assert_eq!(
            load("mode: 0755\nk: 1\nk: 2\nx: 1e3\n").unwrap(),
            Some(json!({"mode": 493, "k": 2, "x": "1e3"}))
        );
        let err = load("a: [").unwrap_err();
        assert_eq!(err.line, 1, "{err}");
    }
}
