//! os-collect-config's `ec2` collector (reference heat-agents.md §1.5): once
//! `<cachedir>/ec2.json` holds a non-empty JSON value it is used forever without asking
//! again (EC2 metadata is treated as immutable, bug 1619072); else the config drive
//! ([`super::config_drive`]); else the metadata service tree at `[ec2] metadata_url`
//! (default `http://169.254.169.254/latest/meta-data`), walked from `<url>/`: each line of
//! a listing ending in `/` is a sub-listing, `k=v` (public keys) is the sub-listing `k/`,
//! anything else a leaf whose text is the value. The key is `ec2`.
//!
//! Deviation: empty listing lines are skipped (upstream fails on a trailing newline).

use std::time::Duration;

use serde_json::{Map, Value};

use crate::occ::source::{Collected, SourceError, body_of};
use crate::redact::redact_url_str;

/// The collector's key.
pub const NAME: &str = "ec2";

/// Listings nested deeper than this are refused (a loop in a misbehaving service).
const MAX_DEPTH: usize = 16;

/// Walks the metadata tree below `root_url` (which ends in `/`).
pub async fn fetch_tree(
    client: &reqwest::Client,
    root_url: &str,
    timeout: Duration,
) -> Result<Value, SourceError> {
    walk(client, root_url.to_string(), timeout, 0).await
}

fn walk(
    client: &reqwest::Client,
    url: String,
    timeout: Duration,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, SourceError>> + Send + '_>> {
    Box::pin(async move {
        let shown = redact_url_str(&url);
        let unavailable = |reason: String| {
            tracing::warn!(url = %shown, "{reason}");
            SourceError::NotAvailable(format!("{shown}: {reason}"))
        };
        if depth > MAX_DEPTH {
            return Err(unavailable("metadata tree too deep".into()));
        }
        let text = body_of(client.get(&url).timeout(timeout))
            .await
            .map_err(unavailable)?;
        if !url.ends_with('/') {
            return Ok(Value::String(text));
        }
        let mut listing = Map::new();
        for line in text.split('\n').filter(|l| !l.is_empty()) {
            let sub = match line.split_once('=') {
                Some((key, _)) => format!("{key}/"),
                None => line.to_string(),
            };
            let key = sub.strip_suffix('/').unwrap_or(&sub).to_string();
            let value = walk(client, format!("{url}{sub}"), timeout, depth + 1).await?;
            listing.insert(key, value);
        }
        Ok(Value::Object(listing))
    })
}

/// Whether a cached value counts (upstream: valid JSON and truthy).
pub fn usable(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The collector: `cached` (the current `ec2.json`), else the config drive, else the tree.
pub async fn collect(
    client: &reqwest::Client,
    cached: Option<Value>,
    metadata_url: &str,
    timeout: Duration,
) -> Result<Vec<Collected>, SourceError> {
    if let Some(value) = cached.filter(usable) {
        return Ok(vec![(NAME.to_string(), value)]);
    }
    let drive = tokio::task::spawn_blocking(super::config_drive::metadata)
        .await
        .ok()
        .flatten()
        .filter(usable);
    if let Some(value) = drive {
        return Ok(vec![(NAME.to_string(), value)]);
    }
    let root = format!("{metadata_url}/");
    Ok(vec![(
        NAME.to_string(),
        fetch_tree(client, &root, timeout).await?,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_truthy_cached_values_are_used() {
        assert!(usable(&json!({"instance-id": "i"})));
        for v in [json!({}), json!(null), json!(""), json!(0), json!([])] {
            assert!(!usable(&v), "{v}");
        }
    }

    #[tokio::test]
    async fn a_cached_value_is_returned_without_asking() {
        let client = reqwest::Client::new();
        // Port 9 (discard) on loopback: nothing answers, so a request would fail.
        let out = collect(
            &client,
            Some(json!({"a": "b"})),
            "http://127.0.0.1:9/x",
            Duration::from_millis(200),
        )
        .await
        .unwrap();
        assert_eq!(out, vec![("ec2".to_string(), json!({"a": "b"}))]);
    }
}
