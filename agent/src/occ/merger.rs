//! Deployment explosion (reference heat-agents.md §1.4): the configs of deployments of
//! group `os-apply-config` or `Heat::Ungrouped` (the default) become keys of their own,
//! named by the deployment, after the whole document under the collector's name.

use serde_json::Value;

/// One collected key and its value.
pub type Collected = (String, Value);

/// `(collector, document)` followed by `(deployment name, config)` for every deployment
/// under each of `keys` whose group is exploded. Entries without a name, and keys whose
/// value is not a list, are skipped with a warning, as upstream; a deployment without a
/// `config` contributes `null` (upstream raises and loses the whole collector).
pub fn explode(document: Value, keys: &[String], collector: &str) -> Vec<Collected> {
    let mut exploded = Vec::new();
    for key in keys {
        let Some(entries) = document.get(key) else {
            continue;
        };
        let Some(entries) = entries.as_array() else {
            tracing::warn!(collector, key = %key, "deployment key was found but does not contain a list");
            continue;
        };
        for entry in entries {
            let Some(name) = entry.get("name") else {
                tracing::warn!(collector, key = %key, "no name found for a deployment");
                continue;
            };
            let group = entry
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or("Heat::Ungrouped");
            if matches!(group, "os-apply-config" | "Heat::Ungrouped") {
                let name = match name {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let config = entry.get("config").cloned().unwrap_or(Value::Null);
                exploded.push((name, config));
            }
        }
    }
    exploded.insert(0, (collector.to_string(), document));
    exploded
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ungrouped_and_oac_configs_become_keys() {
        let doc = json!({"deployments": [
            {"name": "a", "config": {"x": 1}},
            {"name": "b", "group": "script", "config": "#!/bin/sh"},
            {"name": "c", "group": "os-apply-config", "config": {"y": 2}},
            {"group": "Heat::Ungrouped", "config": {}},
        ], "other": "not a list"});
        let keys = vec![
            "deployments".to_string(),
            "other".to_string(),
            "missing".to_string(),
        ];
        let out = explode(doc.clone(), &keys, "cfn");
        assert_eq!(
            out,
            vec![
                ("cfn".to_string(), doc),
                ("a".to_string(), json!({"x": 1})),
                ("c".to_string(), json!({"y": 2})),
            ]
        );
    }
}
