//! The built-in `salt` hook: `config` (a map, or SLS text) is written as the state file
//! `<working>/<id>.sls` and applied with
//!
//! ```text
//! salt-call --local --config-dir <working>/<id>.minion --out json --retcode-passthrough state.sls <id>
//! ```
//!
//! where the generated minion configuration points `file_roots` at the working directory
//! and carries each input as a minion option, as heat-agents' `salt` hook sets them (read
//! them in states as `opts['<name>']` or `salt['config.get']('<name>')`). Running
//! `salt-call` instead of importing Salt keeps Salt's Python out of the agent.
//!
//! The reply follows upstream: `deploy_stdout` is the state return (as JSON text, where
//! upstream dumps YAML) when every state succeeded, else `deploy_stderr`; a non-zero exit
//! whose states all succeeded counts as success. Outputs are read from
//! `<outputs>/<id>.<name>` (`opts['heat_outputs_path']`), as the other hooks do: upstream
//! looks them up in the call's envelope, where no state can put them. Environment
//! overrides: `HEAT_SALT_WORKING`, `HEAT_SALT_OUTPUTS`, `HEAT_SALT_CMD` (`salt-call`).
//! `SALT_MINION_CONFIG` is not read: the generated configuration is the minion's whole
//! configuration, so a host's own minion settings cannot redirect the run.
//!
//! Fixes: a missing `salt-call` fails the deployment with a clear message; the state file
//! is truncated when rewritten; the timeout kills the run.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::script::{collect_outputs, completion_payload};
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// Where and with what the hook runs Salt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltSettings {
    /// State files and generated minion configurations.
    pub working: PathBuf,
    /// Output files.
    pub outputs: PathBuf,
    /// The `salt-call` command.
    pub command: String,
}

impl SaltSettings {
    /// From the environment, with upstream's working directory.
    pub fn from_env() -> Self {
        SaltSettings {
            working: env_or("HEAT_SALT_WORKING", "/var/lib/heat-config/heat-config-salt").into(),
            outputs: env_or("HEAT_SALT_OUTPUTS", "/var/run/heat-config/heat-config-salt").into(),
            command: env_or("HEAT_SALT_CMD", "salt-call"),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "salt",
    package: "salt",
    command_env: "HEAT_SALT_CMD",
};

/// Runs `deployment` through `salt-call`.
pub async fn run(
    deployment: &Deployment,
    settings: &SaltSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &SaltSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    HOOK.check_id(id)?;
    if id.contains('.') {
        return Err(HOOK.failed(id, format!("deployment id {id:?} cannot name a state file")));
    }
    // JSON is YAML: Salt's renderer reads a map written as JSON.
    let sls = match &deployment.config {
        Value::Object(_) => deployment.config.to_string(),
        other => HOOK.text_config(id, other, "a map of states or SLS text")?,
    };
    let (working, outputs) = HOOK.dirs(id, &settings.working, &settings.outputs).await?;
    let config_dir = working.join(format!("{id}.minion"));
    let mut minion = Map::new();
    for input in &deployment.inputs {
        minion.insert(input.name.clone(), input.value.clone());
    }
    minion.insert(
        "heat_outputs_path".into(),
        Value::String(outputs.join(id).display().to_string()),
    );
    minion.insert("file_client".into(), json!("local"));
    minion.insert(
        "file_roots".into(),
        json!({"base": [working.display().to_string()]}),
    );
    minion.insert(
        "root_dir".into(),
        json!(config_dir.join("root").display().to_string()),
    );
    HOOK.write(
        id,
        vec![
            (
                config_dir.join("minion"),
                Value::Object(minion).to_string(),
                0o600,
            ),
            (working.join(format!("{id}.sls")), sls, 0o700),
        ],
    )
    .await?;

    let mut command = Command::new(&settings.command);
    command
        .current_dir(&working)
        .arg("--local")
        .arg("--config-dir")
        .arg(&config_dir)
        .args(["--out", "json", "--retcode-passthrough", "state.sls", id]);
    let completion = HOOK.run(id, command, &settings.command, timeout).await?;
    if completion.timed_out {
        return Ok(completion_payload(id, completion, timeout));
    }
    let returned = serde_json::from_str::<Value>(&completion.stdout)
        .ok()
        .and_then(|v| v.get("local").cloned());
    let mut payload = match returned {
        Some(states) => {
            let text = serde_json::to_string_pretty(&states).unwrap_or_default();
            let all_succeeded = states.as_object().is_some_and(|m| {
                m.values()
                    .all(|s| s.get("result") == Some(&Value::Bool(true)))
            });
            if completion.code == 0 || all_succeeded {
                SignalPayload::new(text, completion.stderr, 0)
            } else {
                let code = if completion.code == 0 {
                    1
                } else {
                    completion.code
                };
                let mut stderr = text;
                if !completion.stderr.is_empty() {
                    stderr.push('\n');
                    stderr.push_str(&completion.stderr);
                }
                SignalPayload::new("", stderr, code)
            }
        }
        // Not a state return: Salt failed before applying anything.
        None => SignalPayload::new(
            completion.stdout,
            completion.stderr,
            if completion.code == 0 {
                1
            } else {
                completion.code
            },
        ),
    };
    collect_outputs(deployment, &outputs, &mut payload).await;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn deployment(config: Value) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-5", "group": "salt", "config": config,
            "inputs": [{"name": "greeting", "value": "hi"}],
        }))
        .unwrap()
    }

    fn settings(tmp: &tempfile::TempDir, command: String) -> SaltSettings {
        SaltSettings {
            working: tmp.path().join("work"),
            outputs: tmp.path().join("out"),
            command,
        }
    }

    /// A recording fake `salt-call` (the real one runs end to end): prints its argv and
    /// the minion configuration inside a state return whose result is `$RESULT`.
    fn fake_salt(tmp: &tempfile::TempDir, result: &str, code: i32) -> String {
        let path = tmp.path().join(format!("fake-salt-{result}"));
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"argv: $*\" >&2\ncat \"$3/minion\" >&2\nprintf '{{\"local\": {{\"s\": {{\"result\": {result}, \"comment\": \"c\"}}}}}}'\nexit {code}\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    #[tokio::test]
    async fn the_command_line_state_file_and_minion_options_are_written() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_salt(&tmp, "true", 0));
        let out = run(
            &deployment(json!({"write": {"file.managed": [{"name": "/x"}]}})),
            &s,
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        let work = std::fs::canonicalize(tmp.path().join("work")).unwrap();
        let stderr = out.0["deploy_stderr"].as_str().unwrap();
        assert!(
            stderr.contains(&format!(
                "argv: --local --config-dir {}/dep-5.minion --out json --retcode-passthrough state.sls dep-5",
                work.display()
            )),
            "{stderr}"
        );
        assert!(stderr.contains("\"greeting\":\"hi\""), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "\"file_roots\":{{\"base\":[\"{}\"]}}",
                work.display()
            )),
            "{stderr}"
        );
        assert!(
            out.0["deploy_stdout"]
                .as_str()
                .unwrap()
                .contains("\"comment\": \"c\"")
        );
        assert_eq!(
            std::fs::read_to_string(work.join("dep-5.sls")).unwrap(),
            r#"{"write":{"file.managed":[{"name":"/x"}]}}"#
        );
    }

    #[tokio::test]
    async fn a_failed_state_a_missing_tool_and_a_bad_config_fail_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let out = run(
            &deployment(json!("s: {}")),
            &settings(&tmp, fake_salt(&tmp, "false", 2)),
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(2));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("\"result\": false"),
            "{out:?}"
        );
        // A non-zero exit whose states all succeeded is success, as upstream.
        let out = run(
            &deployment(json!("s: {}")),
            &settings(&tmp, fake_salt(&tmp, "true", 1)),
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(0));
        let missing = settings(&tmp, "/nonexistent/salt-call".into());
        let out = run(&deployment(json!("s: {}")), &missing, None).await;
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("/nonexistent/salt-call is not installed")
        );
        let out = run(&deployment(json!([1])), &missing, None).await;
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("not a list"),
            "{out:?}"
        );
    }
}
