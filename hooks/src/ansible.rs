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
use crate::json_files::write_text_file;
use crate::names::is_safe_file_name;
use crate::process::run_captured;
use crate::python_json;
use crate::script::{collect_outputs, completion_payload, create_dir};
use crate::signal::SignalPayload;

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
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        AnsibleSettings {
            working: var(
                "HEAT_ANSIBLE_WORKING",
                "/var/lib/heat-config/heat-config-ansible",
            )
            .into(),
            outputs: var(
                "HEAT_ANSIBLE_OUTPUTS",
                "/var/run/heat-config/heat-config-ansible",
            )
            .into(),
            command: var("HEAT_ANSIBLE_CMD", "ansible-playbook"),
            inventory: var("HEAT_ANSIBLE_INVENTORY", "localhost,"),
        }
    }
}

fn failed(id: &str, message: String) -> SignalPayload {
    tracing::warn!(id, "ansible: {message}");
    SignalPayload::new("", format!("ansible: {message}"), 1)
}

/// Runs `deployment` through ansible.
pub async fn run(
    deployment: &Deployment,
    settings: &AnsibleSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    let id = deployment.id.as_str();
    if !is_safe_file_name(id) {
        return failed(
            id,
            format!("deployment id {id:?} cannot be used as a file name"),
        );
    }
    let playbook_text = match &deployment.config {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => {
            return failed(
                id,
                format!(
                    "config must be a playbook (YAML text), not {}",
                    crate::json_file::kind(other)
                ),
            );
        }
    };
    if playbook_text.trim().is_empty() {
        tracing::warn!(id, "ansible: no config, nothing to do");
        return SignalPayload::new("", "ansible: the config is empty; nothing was run", 0);
    }
    let option = |name: &str| {
        deployment
            .options
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (working, outputs) = match (
        create_dir(&settings.working).await,
        create_dir(&settings.outputs).await,
    ) {
        (Ok(w), Ok(o)) => (w, o),
        (Err(e), _) | (_, Err(e)) => return failed(id, e.to_string()),
    };
    let playbook = working.join(format!("{id}_playbook.yaml"));
    let variables_file = working.join(format!("{id}_variables.json"));
    let outputs_path = outputs.join(id);
    let mut variables = Map::new();
    variables.insert("heat_config_id".into(), Value::String(id.to_string()));
    for input in &deployment.inputs {
        variables.insert(input.name.clone(), input.value.clone());
    }
    variables.insert(
        "heat_outputs_path".into(),
        Value::String(outputs_path.display().to_string()),
    );
    let written = {
        let (playbook, variables_file) = (playbook.clone(), variables_file.clone());
        let variables = python_json::dumps(&Value::Object(variables));
        tokio::task::spawn_blocking(move || {
            write_text_file(&variables_file, &variables, 0o600)?;
            write_text_file(&playbook, &playbook_text, 0o600)
        })
        .await
    };
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return failed(id, e.to_string()),
        Err(e) => return failed(id, e.to_string()),
    }

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
    tracing::debug!(id, playbook = %playbook.display(), "running ansible-playbook");
    let completion = match run_captured(command, None, timeout).await {
        Ok(done) => done,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return failed(
                id,
                format!(
                    "{} is not installed (or not on PATH); install ansible-core or set HEAT_ANSIBLE_CMD",
                    settings.command
                ),
            );
        }
        Err(err) => return failed(id, format!("cannot run {}: {err}", settings.command)),
    };
    let mut payload = completion_payload(id, completion, timeout);
    collect_outputs(deployment, &outputs, &mut payload).await;
    payload
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
