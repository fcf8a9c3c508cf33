//! The built-in `cfn-init` hook, as heat-agents' `cfn-init` hook: `config` (a map, or
//! JSON text of one) is the `AWS::CloudFormation::Init` section; it is written as
//! `{"AWS::CloudFormation::Init": config}` to `<dir>/last_metadata` and `cfn-init` runs
//! with no arguments, so it reads that file. Its stdout, stderr and exit code are the
//! deployment's. Environment overrides as upstream: `HEAT_CFN_INIT_LAST_METADATA_DIR`
//! (`/var/cache/heat-cfntools`), `HEAT_CFN_INIT_CMD` (`cfn-init`).
//!
//! Fixes: a `config` that is not a map (or JSON text of one) fails the deployment with a
//! message saying so (upstream crashes); `last_metadata` is replaced atomically, 0600
//! (upstream writes it in place, 0700); a missing `cfn-init` is a clear failure, and when
//! none is on `PATH` the agent's own `cfn-init` runs ([`HookSettings::tools_executable`]);
//! the timeout kills the run.
//!
//! [`HookSettings::tools_executable`]: crate::hook::HookSettings::tools_executable

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::deployment::Deployment;
use crate::json_file::kind;
use crate::script::completion_payload;
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// The key the metadata document holds the config under.
pub const INIT_KEY: &str = "AWS::CloudFormation::Init";

/// Where the hook writes the metadata for `cfn-init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfnInitSettings {
    /// The directory of `last_metadata`.
    pub last_metadata_dir: PathBuf,
}

impl CfnInitSettings {
    /// From the environment, with upstream's default.
    pub fn from_env() -> Self {
        CfnInitSettings {
            last_metadata_dir: env_or(
                "HEAT_CFN_INIT_LAST_METADATA_DIR",
                "/var/cache/heat-cfntools",
            )
            .into(),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "cfn-init",
    package: "heat-cfntools (or link cfn-init to updraft-agent)",
    command_env: "HEAT_CFN_INIT_CMD",
};

/// Runs `deployment` through `cfn-init`; `own` is the agent's executable, run as
/// `cfn-init` when no other is on `PATH`.
pub async fn run(
    deployment: &Deployment,
    settings: &CfnInitSettings,
    own: Option<&Path>,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, own, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

/// The Init section `config` stands for: a map, JSON text of one, or nothing (`{}`).
fn init_section(config: &Value) -> Result<Map<String, Value>, String> {
    let parsed;
    let value = match config {
        Value::Null => return Ok(Map::new()),
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("config: the text is not JSON ({e})"))?;
            &parsed
        }
        other => other,
    };
    match value {
        Value::Object(map) => Ok(map.clone()),
        other => Err(format!(
            "config must be an {INIT_KEY} section (a map of configSets and configs), not {}",
            kind(other)
        )),
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &CfnInitSettings,
    own: Option<&Path>,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    let init = init_section(&deployment.config).map_err(|m| HOOK.failed(id, m))?;
    let mut metadata = Map::new();
    metadata.insert(INIT_KEY.to_string(), Value::Object(init));
    let text = crate::python_json::dumps(&Value::Object(metadata));
    let file = settings.last_metadata_dir.join("last_metadata");
    HOOK.write(id, vec![(file, text, 0o600)]).await?;
    let (command, program) = HOOK.own_tool_command("cfn-init", own);
    let done = HOOK.run(id, command, &program, timeout).await?;
    Ok(completion_payload(id, done, timeout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_is_a_map_or_json_text_of_one() {
        assert_eq!(
            init_section(&json!({"config": {}})).unwrap(),
            json!({"config": {}}).as_object().unwrap().clone()
        );
        assert_eq!(
            init_section(&json!("{\"config\": {\"files\": {}}}")).unwrap()["config"],
            json!({"files": {}})
        );
        assert!(init_section(&Value::Null).unwrap().is_empty());
        let err = init_section(&json!(["config"])).unwrap_err();
        assert!(err.contains("not a list"), "{err}");
        let err = init_section(&json!("{nope")).unwrap_err();
        assert!(err.contains("not JSON"), "{err}");
    }

    #[tokio::test]
    async fn writes_last_metadata_for_cfn_init() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = CfnInitSettings {
            last_metadata_dir: tmp.path().join("cache"),
        };
        let d: Deployment = serde_json::from_value(json!({
            "id": "d1", "group": "cfn-init", "config": {"config": {"commands": {}}},
        }))
        .unwrap();
        // Whether a cfn-init runs depends on this host's PATH; the file is written first.
        let missing = tmp.path().join("no-such-agent");
        let _ = run(&d, &settings, Some(&missing), None).await;
        let written: Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join("cache/last_metadata")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            written,
            json!({"AWS::CloudFormation::Init": {"config": {"commands": {}}}})
        );
    }
}
