//! os-collect-config's `heat_local` collector (reference heat-agents.md §1.5): the boot-time
//! copy of the server's metadata, `/var/lib/heat-cfntools/cfn-init-data` (by default),
//! written by cloud-init's part handler or by Ignition. Each `[heat_local] path` that
//! exists and holds JSON is merged into one object (top-level keys, later files win);
//! files that are not JSON are skipped. The key is `heat_local`; the document is not
//! exploded, as upstream.
//!
//! Deviation: a file holding JSON that is not an object is skipped with a log line
//! (upstream's `dict.update` raises and os-collect-config dies).

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::occ::source::{Collected, SourceError};

/// The collector's key.
pub const NAME: &str = "heat_local";

/// Reads `paths`.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Collected>, SourceError> {
    let mut merged: Option<Map<String, Value>> = None;
    for path in paths {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                tracing::warn!(path = %path.display(), "cannot read: {err}");
                continue;
            }
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => match merged.as_mut() {
                // Upstream replaces an empty result rather than updating it.
                Some(m) if !m.is_empty() => m.extend(object),
                _ => merged = Some(object),
            },
            Ok(_) => tracing::warn!(path = %path.display(), "not a JSON object; skipped"),
            Err(err) => {
                tracing::info!(path = %path.display(), line = err.line(), column = err.column(), "not valid JSON; skipped")
            }
        }
    }
    match merged {
        Some(m) if !m.is_empty() => Ok(vec![(NAME.to_string(), Value::Object(m))]),
        _ => {
            tracing::info!(paths = ?paths, "local metadata not found");
            Err(SourceError::NotAvailable(
                "no heat_local metadata found".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_merge_and_bad_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c, d) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("c"),
            dir.path().join("d"),
        );
        std::fs::write(&a, r#"{"x": 1, "y": 1}"#).unwrap();
        std::fs::write(&b, "not json").unwrap();
        std::fs::write(&c, r#"{"y": 2}"#).unwrap();
        std::fs::write(&d, "[1]").unwrap();
        let missing = dir.path().join("missing");
        let out = collect(&[a, b, missing.clone(), c, d]).unwrap();
        assert_eq!(out, vec![("heat_local".into(), json!({"x": 1, "y": 2}))]);
        assert!(matches!(
            collect(&[missing]),
            Err(SourceError::NotAvailable(_))
        ));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "{}").unwrap();
        assert!(collect(&[empty]).is_err());
    }
}
