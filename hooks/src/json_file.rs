//! The built-in `json-file` hook: `config` maps absolute paths to data, each written as a
//! JSON file (indent 4, sorted keys, parents created 0700), as heat-agents' `json-file`
//! hook does. Fixes: a `config` that is not a map, or a path that is not absolute, fails
//! the deployment with a message naming it (upstream crashes or writes relative to its
//! working directory); files are replaced atomically.

use std::path::Path;

use serde_json::Value;

use crate::deployment::Deployment;
use crate::json_files::write_json_file;
use crate::signal::SignalPayload;

/// Mode of the files written (what `open(…, 'w')` gives under the usual umask 022).
const FILE_MODE: u32 = 0o644;

/// Runs `deployment` through the `json-file` hook.
pub async fn run(deployment: &Deployment) -> SignalPayload {
    let deployment = deployment.clone();
    tokio::task::spawn_blocking(move || match write_all(&deployment) {
        Ok(()) => SignalPayload::new("", "", 0),
        Err(message) => {
            tracing::warn!(id = %deployment.id, "json-file: {message}");
            SignalPayload::new("", format!("json-file: {message}"), 1)
        }
    })
    .await
    .unwrap_or_else(|err| SignalPayload::new("", format!("json-file: {err}"), 1))
}

fn write_all(deployment: &Deployment) -> Result<(), String> {
    let Value::Object(files) = &deployment.config else {
        return Err(format!(
            "config must be a map of absolute file paths to data, not {}",
            kind(&deployment.config)
        ));
    };
    for path in files.keys() {
        if !Path::new(path).is_absolute() {
            return Err(format!("config.{path}: the file path must be absolute"));
        }
    }
    for (path, data) in files {
        write_json_file(Path::new(path), data, FILE_MODE)
            .map_err(|e| format!("config.{path}: {e}"))?;
    }
    Ok(())
}

/// A JSON value's kind, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(config: Value) -> Deployment {
        serde_json::from_value(json!({"id": "d", "group": "json-file", "config": config})).unwrap()
    }

    #[tokio::test]
    async fn each_path_gets_its_data() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("x/a.json"), tmp.path().join("b.json"));
        let d = deployment(json!({a.to_str().unwrap(): {"k": [1, 2]}, b.to_str().unwrap(): "s"}));
        assert_eq!(run(&d).await, SignalPayload::new("", "", 0));
        assert_eq!(
            std::fs::read_to_string(&a).unwrap(),
            "{\n    \"k\": [\n        1,\n        2\n    ]\n}"
        );
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "\"s\"");
    }

    #[tokio::test]
    async fn bad_config_fails_clearly_and_writes_nothing() {
        let out = run(&deployment(json!("not a map"))).await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("not a string"),
            "{out:?}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let ok = tmp.path().join("ok.json");
        let out = run(&deployment(
            json!({ok.to_str().unwrap(): 1, "relative.json": 2}),
        ))
        .await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("config.relative.json: the file path must be absolute"),
            "{out:?}"
        );
        assert!(!ok.exists(), "nothing is written when any path is bad");
    }
}
