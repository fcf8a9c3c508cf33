//! The built-in `chef` hook, as heat-agents' `chef` hook: chef-client in local mode
//! (chef-zero) with a generated `client.rb`, a node file `node/<fqdn>.json` holding the
//! inputs as attributes and `config` as the run list, and optionally a kitchen cloned
//! with git from `options.kitchen` (into `options.kitchen_path`, default
//! `<working>/kitchen`; cloned afresh on UPDATE):
//!
//! ```text
//! chef-client -z --config <working>/client.rb -j <working>/node/<fqdn>.json
//! ```
//!
//! with `heat_outputs_path` in its environment; outputs are read from
//! `<outputs>/<id>.<name>`. The input `environment` sets the chef environment; the
//! `deploy_*` inputs are not attributes. Environment overrides as upstream
//! (`HEAT_CHEF_WORKING`, `HEAT_CHEF_OUTPUTS`), plus `HEAT_CHEF_CMD` (default
//! `chef-client`), which upstream lacks.
//!
//! Fixes: a missing `chef-client` fails the deployment with a clear message; a run list
//! that is not a JSON list, or a failing `hostname -f`, is a clear failure (upstream
//! crashes on the latter); files are truncated when rewritten.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::python_json::{self, Layout};
use crate::script::{collect_outputs, completion_payload};
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// The inputs that are not node attributes.
const DEPLOY_KEYS: [&str; 7] = [
    "deploy_server_id",
    "deploy_action",
    "deploy_stack_id",
    "deploy_resource_name",
    "deploy_signal_transport",
    "deploy_signal_id",
    "deploy_signal_verb",
];

/// Where and with what the hook runs chef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChefSettings {
    /// `client.rb`, `node/`, the default kitchen.
    pub working: PathBuf,
    /// Output files.
    pub outputs: PathBuf,
    /// The `chef-client` command.
    pub command: String,
}

impl ChefSettings {
    /// From the environment, with upstream's defaults.
    pub fn from_env() -> Self {
        ChefSettings {
            working: env_or("HEAT_CHEF_WORKING", "/var/lib/heat-config/heat-config-chef").into(),
            outputs: env_or("HEAT_CHEF_OUTPUTS", "/var/run/heat-config/heat-config-chef").into(),
            command: env_or("HEAT_CHEF_CMD", "chef-client"),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "chef",
    package: "chef (chef-client)",
    command_env: "HEAT_CHEF_CMD",
};

/// Runs `deployment` through chef-client.
pub async fn run(
    deployment: &Deployment,
    settings: &ChefSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

/// A captured command's outcome as the signal upstream sends when a step fails.
fn step_failed(
    done: crate::process::Completion,
    id: &str,
    timeout: Option<Duration>,
) -> SignalPayload {
    let mut payload = completion_payload(id, done, timeout);
    if payload.status_code() == Some(0) {
        payload
            .0
            .insert("deploy_status_code".into(), Value::from(1));
    }
    payload
}

async fn apply(
    deployment: &Deployment,
    settings: &ChefSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    HOOK.check_id(id)?;
    let run_list = match &deployment.config {
        Value::Array(_) => deployment.config.clone(),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(list @ Value::Array(_)) => list,
            _ => {
                return Err(HOOK.failed(
                    id,
                    "config must be a run list: a JSON list such as [\"recipe[app]\"]",
                ));
            }
        },
        other => {
            return Err(HOOK.failed(
                id,
                format!(
                    "config must be a run list, not {}",
                    crate::json_file::kind(other)
                ),
            ));
        }
    };
    let (working, outputs) = HOOK.dirs(id, &settings.working, &settings.outputs).await?;
    let option = |name: &str| {
        deployment
            .options
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let kitchen_path =
        option("kitchen_path").map_or_else(|| working.join("kitchen"), PathBuf::from);
    let mut client = format!(
        "log_level :debug\nlog_location STDOUT\nlocal_mode true\nchef_zero.enabled true\ncookbook_path '{}'\nrole_path '{}'\nenvironment_path '{}'",
        kitchen_path.join("cookbooks").display(),
        kitchen_path.join("roles").display(),
        kitchen_path.join("environments").display(),
    );
    if let Some(kitchen) = option("kitchen") {
        if deployment.input_str("deploy_action") == Some("UPDATE") {
            let _ = tokio::fs::remove_dir_all(&kitchen_path).await;
        }
        let mut git = Command::new("git");
        git.arg("clone").arg(kitchen).arg(&kitchen_path);
        let done = HOOK.run(id, git, "git", timeout).await?;
        if done.code != 0 || done.timed_out {
            return Err(step_failed(done, id, timeout));
        }
    }
    let mut hostname = Command::new("hostname");
    hostname.arg("-f");
    let done = HOOK.run(id, hostname, "hostname", timeout).await?;
    let fqdn = done.stdout.trim().to_string();
    if done.code != 0 || fqdn.is_empty() || !crate::names::is_safe_file_name(&fqdn) {
        return Err(HOOK.failed(id, "could not determine the host name with hostname -f"));
    }
    let mut node = Map::new();
    for input in &deployment.inputs {
        if input.name == "environment" {
            client.push_str(&format!(
                "\nenvironment '{}'",
                crate::script::env_value(&input.value)
            ));
        } else if !DEPLOY_KEYS.contains(&input.name.as_str()) {
            node.insert(input.name.clone(), input.value.clone());
        }
    }
    node.insert("run_list".into(), run_list);
    let node_dir = working.join("node");
    let node_file = node_dir.join(format!("{fqdn}.json"));
    client.push_str(&format!("\nnode_path '{}'", node_dir.display()));
    let config_path = working.join("client.rb");
    let layout = Layout {
        indent: Some(4),
        sort_keys: false,
    };
    HOOK.write(
        id,
        vec![
            (
                node_file.clone(),
                python_json::dumps_with(&Value::Object(node), layout),
                0o600,
            ),
            (config_path.clone(), client, 0o600),
        ],
    )
    .await?;

    let mut command = Command::new(&settings.command);
    command
        .current_dir(&working)
        .arg("-z")
        .arg("--config")
        .arg(&config_path)
        .arg("-j")
        .arg(&node_file)
        .env("heat_outputs_path", outputs.join(id));
    let completion = HOOK.run(id, command, &settings.command, timeout).await?;
    let mut payload = completion_payload(id, completion, timeout);
    collect_outputs(deployment, &outputs, &mut payload).await;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    fn deployment(config: Value, options: Value, action: &str) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-3", "group": "chef", "config": config, "options": options,
            "inputs": [
                {"name": "port", "value": 8080},
                {"name": "environment", "value": "production"},
                {"name": "deploy_action", "value": action}
            ],
            "outputs": [{"name": "result"}],
        }))
        .unwrap()
    }

    /// A recording fake `chef-client` (no registry here has Chef): prints its argv, the
    /// client.rb and node file it was given, and writes an output.
    fn fake_chef(tmp: &tempfile::TempDir) -> String {
        let path = tmp.path().join("fake-chef-client");
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"argv: $*\"\ncat \"$3\"; echo; cat \"$5\"\nprintf converged > \"$heat_outputs_path.result\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    fn settings(tmp: &tempfile::TempDir, command: String) -> ChefSettings {
        ChefSettings {
            working: tmp.path().join("work"),
            outputs: tmp.path().join("out"),
            command,
        }
    }

    #[tokio::test]
    async fn client_rb_node_file_kitchen_and_command_line_are_upstreams() {
        let tmp = tempfile::tempdir().unwrap();
        // A kitchen repository to clone.
        let repo = tmp.path().join("kitchen-repo");
        std::fs::create_dir_all(repo.join("cookbooks/app")).unwrap();
        std::fs::write(repo.join("cookbooks/app/README"), "app").unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.email=t@t", "-c", "user.name=t"])
                .args(args)
                .current_dir(&repo)
                .output()
                .unwrap()
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-qm", "kitchen"]);
        let s = settings(&tmp, fake_chef(&tmp));
        let options = json!({"kitchen": repo.display().to_string()});
        let out = run(
            &deployment(json!("[\"recipe[app]\"]"), options.clone(), "CREATE"),
            &s,
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        let work = std::fs::canonicalize(tmp.path().join("work")).unwrap();
        let stdout = out.0["deploy_stdout"].as_str().unwrap();
        let fqdn = String::from_utf8(
            std::process::Command::new("hostname")
                .arg("-f")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let node = work.join(format!("node/{}.json", fqdn.trim()));
        assert!(
            stdout.contains(&format!(
                "argv: -z --config {w}/client.rb -j {}",
                node.display(),
                w = work.display()
            )),
            "{stdout}"
        );
        let k = work.join("kitchen");
        assert!(
            stdout.contains(&format!(
                "log_level :debug\nlog_location STDOUT\nlocal_mode true\nchef_zero.enabled true\ncookbook_path '{k}/cookbooks'\nrole_path '{k}/roles'\nenvironment_path '{k}/environments'\nenvironment 'production'\nnode_path '{w}/node'\n",
                k = k.display(),
                w = work.display()
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains(
                "{\n    \"port\": 8080,\n    \"run_list\": [\n        \"recipe[app]\"\n    ]\n}"
            ),
            "{stdout}"
        );
        assert_eq!(out.0["result"], "converged");
        assert!(k.join("cookbooks/app/README").exists());
        // UPDATE clones the kitchen afresh.
        std::fs::write(k.join("stale"), "x").unwrap();
        let out = run(
            &deployment(json!(["recipe[app]"]), options, "UPDATE"),
            &s,
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        assert!(!k.join("stale").exists());
    }

    #[tokio::test]
    async fn a_missing_chef_and_a_bad_run_list_fail_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, "/nonexistent/chef-client".into());
        let out = run(&deployment(json!("[]"), json!({}), "CREATE"), &s, None).await;
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("/nonexistent/chef-client is not installed"),
            "{out:?}"
        );
        let out = run(
            &deployment(json!("recipe[app]"), json!({}), "CREATE"),
            &s,
            None,
        )
        .await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("must be a run list"),
            "{out:?}"
        );
    }
}
