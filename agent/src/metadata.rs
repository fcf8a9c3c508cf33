//! The server's metadata document: a JSON object whose `deployments` list the agent acts on
//! and whose `os-collect-config` section tells it which collector to poll with (see
//! [`crate::collectors::CollectorSettings::from_section`]); other keys are not used.

use serde_json::Value;
use updraft_hooks::Deployment;

/// A metadata document that did not parse.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Not JSON at all.
    #[error("metadata is not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("metadata is JSON but not an object")]
    NotAnObject,
}

/// The part of a metadata document the agent uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetadataDocument {
    /// The deployments, in the server's order.
    pub deployments: Vec<Deployment>,
    /// How many entries of `deployments` were skipped because they did not parse.
    pub skipped: usize,
    /// The `os-collect-config` section, when present (and not null).
    pub collect_config: Option<Value>,
    /// The whole document as served (what os-apply-config renders from).
    pub content: Value,
}

/// The key of the collector section in a document.
pub const COLLECT_CONFIG_KEY: &str = "os-collect-config";

/// Parses a metadata document. A missing (or null) `deployments` key is an empty list;
/// entries that do not parse as a deployment are logged by position and skipped.
pub fn parse(body: &[u8]) -> Result<MetadataDocument, DocumentError> {
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        // Position and category only: the message of a data error can quote the input.
        DocumentError::NotJson(format!(
            "{:?} error at line {} column {}",
            err.classify(),
            err.line(),
            err.column()
        ))
    })?;
    from_value(value)
}

/// [`parse`] for a document already parsed as JSON (the cfn collector's `<Metadata>` text,
/// the heat collector's `metadata` key).
pub fn from_value(value: Value) -> Result<MetadataDocument, DocumentError> {
    if !value.is_object() {
        return Err(DocumentError::NotAnObject);
    }
    let content = value.clone();
    let Value::Object(mut doc) = value else {
        return Err(DocumentError::NotAnObject);
    };
    let entries = match doc.remove("deployments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            tracing::warn!("metadata `deployments` is not a list; treating it as empty");
            Vec::new()
        }
    };
    let mut parsed = MetadataDocument {
        collect_config: doc.remove(COLLECT_CONFIG_KEY).filter(|v| !v.is_null()),
        content,
        ..MetadataDocument::default()
    };
    for (position, entry) in entries.into_iter().enumerate() {
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        match serde_json::from_value::<Deployment>(entry) {
            Ok(deployment) => parsed.deployments.push(deployment),
            Err(err) => {
                parsed.skipped += 1;
                tracing::warn!(
                    position,
                    id = %id.escape_debug(),
                    "metadata deployments[{position}] is not a valid deployment ({}); skipped",
                    without_quoted_values(&err.to_string())
                );
            }
        }
    }
    Ok(parsed)
}

/// A serde message with double-quoted input strings elided, so a log line never repeats
/// data that may be a secret: `invalid type: string "s3cret", expected …` becomes
/// `invalid type: string "…", expected …`. Backticked field names are kept.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' {
                    open = Some(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_null_deployments_is_an_empty_list() {
        for body in [r#"{"os-collect-config": null}"#, r#"{"deployments": null}"#] {
            let doc = parse(body.as_bytes()).unwrap();
            assert_eq!((doc.deployments.len(), doc.skipped), (0, 0));
            assert_eq!(doc.collect_config, None);
            assert_eq!(doc.content.to_string(), body.replace(": ", ":"));
        }
    }

    #[test]
    fn bad_entries_are_skipped_and_the_rest_kept_in_order() {
        let body = br#"{"deployments": [
            {"id": "a", "group": "script"},
            {"name": "no id"},
            "not an object",
            {"id": "b", "inputs": [{"name": "x", "value": 1}]}
        ], "os-collect-config": {"request": {"metadata_url": "http://x"}}}"#;
        let doc = parse(body).unwrap();
        let ids: Vec<_> = doc.deployments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(doc.skipped, 2);
        assert_eq!(
            doc.collect_config,
            Some(serde_json::json!({"request": {"metadata_url": "http://x"}}))
        );
    }

    #[test]
    fn non_objects_and_non_json_are_errors() {
        assert!(matches!(parse(b"[1]"), Err(DocumentError::NotAnObject)));
        let err = parse(b"{\"secret\": ").unwrap_err();
        assert!(matches!(err, DocumentError::NotJson(_)));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn quoted_values_are_elided() {
        assert_eq!(
            without_quoted_values(r#"invalid type: string "s3cret", expected `x`"#),
            r#"invalid type: string "…", expected `x`"#
        );
    }
}
