//! The built-in `ansible` hook, as heat-agents' `ansible` hook: `config` is a playbook,
//! written to `<working>/<id>_playbook.yaml`; the inputs (plus `heat_config_id` and
//! `heat_outputs_path`) go to `<working>/<id>_variables.json`; then
//!
//! ```text
//! ansible-playbook -i <inventory> [--module-path M] [--skip-tags S] [--tags T] <playbook> --extra-vars @<variables>
//! ```
//!
//! runs in the working directory, with `ANSIBLE_CALLBACK_PLUGINS` from
//! `options.callback_plugins`. Outputs are read from `<outputs>/<id>.<name>`. Environment
//! overrides as upstream: `HEAT_ANSIBLE_WORKING`, `HEAT_ANSIBLE_OUTPUTS`,
//! `HEAT_ANSIBLE_CMD`, `HEAT_ANSIBLE_INVENTORY`.
//!
//! Fixes: a missing `ansible-playbook` fails the deployment with a clear message (upstream
//! prints nothing, which Heat takes as success); files are truncated when rewritten; the
//! run honours the hook timeout and kills its process group.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::python_json;
use crate::script::{collect_outputs, completion_payload};
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// Where and with what the hook runs ansible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsibleSettings {
    /// Playbooks and variables files.
    pub working: PathBuf,
    /// Output files.
    pub outputs: PathBuf,
    /// The `ansible-playbook` command.
    pub command: String,
    /// The default inventory (`-i`).
    pub inventory: String,
}

impl AnsibleSettings {
    /// From the environment, with upstream's defaults.
    pub fn from_env() -> Self {
        AnsibleSettings {
            working: env_or(
                "HEAT_ANSIBLE_WORKING",
                "/var/lib/heat-config/heat-config-ansible",
            )
            .into(),
            outputs: env_or(
                "HEAT_ANSIBLE_OUTPUTS",
                "/var/run/heat-config/heat-config-ansible",
            )
            .into(),
            command: env_or("HEAT_ANSIBLE_CMD", "ansible-playbook"),
            inventory: env_or("HEAT_ANSIBLE_INVENTORY", "localhost,"),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "ansible",
    package: "ansible-core",
    command_env: "HEAT_ANSIBLE_CMD",
};

/// Runs `deployment` through ansible.
pub async fn run(
    deployment: &Deployment,
    settings: &AnsibleSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &AnsibleSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    HOOK.check_id(id)?;
    let playbook_text = HOOK.text_config(id, &deployment.config, "a playbook (YAML text)")?;
    if playbook_text.trim().is_empty() {
        tracing::warn!(id, "ansible: no config, nothing to do");
        return Ok(SignalPayload::new(
            "",
            "ansible: the config is empty; nothing was run",
            0,
        ));
    }
    let option = |name: &str| {
        deployment
            .options
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (working, outputs) = HOOK.dirs(id, &settings.working, &settings.outputs).await?;
    let playbook = working.join(format!("{id}_playbook.yaml"));
    let variables_file = working.join(format!("{id}_variables.json"));
    let mut variables = Map::new();
    variables.insert("heat_config_id".into(), Value::String(id.to_string()));
    for input in &deployment.inputs {
        variables.insert(input.name.clone(), input.value.clone());
    }
    variables.insert(
        "heat_outputs_path".into(),
        Value::String(outputs.join(id).display().to_string()),
    );
    HOOK.write(
        id,
        vec![
            (
                variables_file.clone(),
                python_json::dumps(&Value::Object(variables)),
                0o600,
            ),
            (playbook.clone(), playbook_text, 0o600),
        ],
    )
    .await?;

    let inventory = match option("inventory") {
        Some(relative) => working.join(relative).display().to_string(),
        None => settings.inventory.clone(),
    };
    let mut command = Command::new(&settings.command);
    command.current_dir(&working).arg("-i").arg(&inventory);
    if let Some(path) = option("modulepath") {
        command.args(["--module-path", path]);
    }
    if let Some(tags) = option("skip_tags") {
        command.args(["--skip-tags", tags]);
    }
    if let Some(tags) = option("tags") {
        command.args(["--tags", tags]);
    }
    command
        .arg(&playbook)
        .arg("--extra-vars")
        .arg(format!("@{}", variables_file.display()));
    if let Some(plugins) = option("callback_plugins") {
        command.env("ANSIBLE_CALLBACK_PLUGINS", plugins);
    }
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

    fn deployment(config: Value, options: Value) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-9", "group": "ansible", "config": config, "options": options,
            "inputs": [{"name": "port", "value": 8080}, {"name": "name", "value": "web"}],
            "outputs": [{"name": "result"}],
        }))
        .unwrap()
    }

    /// A recording fake `ansible-playbook` (the real one is exercised end to end): prints
    /// its argv and working directory, copies the variables file, writes an output.
    fn fake_tool(tmp: &tempfile::TempDir) -> String {
        let path = tmp.path().join("fake-ansible-playbook");
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"argv: $*\"\necho \"cwd: $(pwd)\"\necho \"cb: $ANSIBLE_CALLBACK_PLUGINS\"\nfor a; do case $a in @*) cat \"${a#@}\";; esac; done\nout=$(grep -o '\"heat_outputs_path\": \"[^\"]*' \"$(pwd)/dep-9_variables.json\" | cut -d'\"' -f4)\nprintf ok > \"$out.result\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    fn settings(tmp: &tempfile::TempDir, command: String) -> AnsibleSettings {
        AnsibleSettings {
            working: tmp.path().join("work"),
            outputs: tmp.path().join("out"),
            command,
            inventory: "localhost,".into(),
        }
    }

    #[tokio::test]
    async fn the_command_line_files_and_outputs_are_upstreams() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_tool(&tmp));
        let d = deployment(
            json!("- hosts: all\n  tasks: []\n"),
            json!({"tags": "a,b", "skip_tags": "c", "modulepath": "/m", "callback_plugins": "/cb", "inventory": "hosts"}),
        );
        let out = run(&d, &s, Some(Duration::from_secs(30))).await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        let work = std::fs::canonicalize(tmp.path().join("work")).unwrap();
        let outd = std::fs::canonicalize(tmp.path().join("out")).unwrap();
        let stdout = out.0["deploy_stdout"].as_str().unwrap();
        assert!(
            stdout.contains(&format!(
                "argv: -i {w}/hosts --module-path /m --skip-tags c --tags a,b {w}/dep-9_playbook.yaml --extra-vars @{w}/dep-9_variables.json",
                w = work.display()
            )),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("cwd: {}", work.display())),
            "{stdout}"
        );
        assert!(stdout.contains("cb: /cb"), "{stdout}");
        assert!(
            stdout.contains(&format!(
                "{{\"heat_config_id\": \"dep-9\", \"port\": 8080, \"name\": \"web\", \"heat_outputs_path\": \"{}/dep-9\"}}",
                outd.display()
            )),
            "{stdout}"
        );
        assert_eq!(out.0["result"], "ok");
        let playbook = work.join("dep-9_playbook.yaml");
        assert_eq!(
            std::fs::read_to_string(&playbook).unwrap(),
            "- hosts: all\n  tasks: []\n"
        );
        assert_eq!(
            std::fs::metadata(&playbook).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[tokio::test]
    async fn a_missing_tool_and_a_bad_config_fail_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, "/nonexistent/ansible-playbook".into());
        let out = run(&deployment(json!("- hosts: all\n"), json!({})), &s, None).await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("/nonexistent/ansible-playbook is not installed"),
            "{out:?}"
        );
        let out = run(&deployment(json!({"a": 1}), json!({})), &s, None).await;
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("not a map"),
            "{out:?}"
        );
        let out = run(&deployment(json!(""), json!({})), &s, None).await;
        assert_eq!(out.status_code(), Some(0));
    }
}
