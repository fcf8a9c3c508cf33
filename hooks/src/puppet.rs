//! The built-in `puppet` hook, as heat-agents' `puppet` hook: `config` is a manifest,
//! written to `<working>/<id>.pp` (0700) and applied with
//!
//! ```text
//! puppet apply --color false --detailed-exitcodes --logdest console [--modulepath M] [--tags T]
//!     [--debug --logdest /var/log/puppet/heat-debug.log] [--verbose --logdest /var/log/puppet/heat-verbose.log] <id>.pp
//! ```
//!
//! in the working directory. With `options.enable_facter` (default true) each input is a
//! fact `FACTER_<name>`; `FACTER_fqdn` is `hostname -f` and `FACTER_heat_outputs_path`
//! where outputs go. With `options.enable_hiera` the inputs are also written as hiera data
//! `<datadir>/heat_config_<name>.json` and `FACTER_deploy_config_name` names it. Exit codes
//! 0 and 2 (changes applied) are success. Output is also kept in
//! `<logdir>/<creation_time>-<id>-{stdout,stderr}.log`. Environment overrides as upstream:
//! `HEAT_PUPPET_WORKING`, `HEAT_PUPPET_OUTPUTS`, `HEAT_PUPPET_CMD`, `HEAT_PUPPET_LOGDIR`,
//! `HEAT_PUPPET_HIERA_DATADIR`.
//!
//! Fixes: a missing `puppet` fails the deployment with a clear message (upstream prints
//! nothing, which Heat takes as success); non-string inputs become JSON text instead of
//! crashing; a deployment without `creation_time` still runs; the timeout kills the run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::json_files::write_text_file;
use crate::names::is_safe_file_name;
use crate::python_json;
use crate::script::{collect_outputs, completion_payload, env_value};
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// Where and with what the hook runs puppet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PuppetSettings {
    /// Manifests.
    pub working: PathBuf,
    /// Output files.
    pub outputs: PathBuf,
    /// The `puppet` command.
    pub command: String,
    /// Where each run's stdout and stderr are kept.
    pub logdir: PathBuf,
    /// The hiera data directory.
    pub hiera_datadir: PathBuf,
}

impl PuppetSettings {
    /// From the environment, with upstream's defaults.
    pub fn from_env() -> Self {
        PuppetSettings {
            working: env_or(
                "HEAT_PUPPET_WORKING",
                "/var/lib/heat-config/heat-config-puppet",
            )
            .into(),
            outputs: env_or(
                "HEAT_PUPPET_OUTPUTS",
                "/var/run/heat-config/heat-config-puppet",
            )
            .into(),
            command: env_or("HEAT_PUPPET_CMD", "puppet"),
            logdir: env_or("HEAT_PUPPET_LOGDIR", "/var/run/heat-config/deployed").into(),
            hiera_datadir: env_or(crate::hiera::DATADIR_ENV, "/etc/puppet/hieradata").into(),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "puppet",
    package: "puppet",
    command_env: "HEAT_PUPPET_CMD",
};

fn flag(options: &Value, name: &str, default: bool) -> bool {
    options
        .get(name)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

/// `hostname -f`, when it works.
async fn hostname_f() -> Option<String> {
    let out = Command::new("hostname").arg("-f").output().await.ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Runs `deployment` through puppet.
pub async fn run(
    deployment: &Deployment,
    settings: &PuppetSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &PuppetSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    HOOK.check_id(id)?;
    let manifest = HOOK.text_config(id, &deployment.config, "a manifest (text)")?;
    let options = &deployment.options;
    let (use_hiera, use_facter) = (
        flag(options, "enable_hiera", false),
        flag(options, "enable_facter", true),
    );
    let text_option = |name: &str| {
        options
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (working, outputs) = HOOK.dirs(id, &settings.working, &settings.outputs).await?;

    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(fqdn) = hostname_f().await {
        facts.push(("FACTER_fqdn".into(), fqdn));
    }
    let mut hiera = Map::new();
    for input in &deployment.inputs {
        if use_facter {
            facts.push((format!("FACTER_{}", input.name), env_value(&input.value)));
        }
        if use_hiera {
            hiera.insert(input.name.clone(), input.value.clone());
        }
    }
    let manifest_path = working.join(format!("{id}.pp"));
    let hiera_file = use_hiera.then(|| {
        settings
            .hiera_datadir
            .join(format!("heat_config_{}.json", deployment.name))
    });
    if use_hiera {
        if !is_safe_file_name(&format!("heat_config_{}.json", deployment.name)) {
            return Err(HOOK.failed(
                id,
                format!(
                    "deployment name {:?} cannot name a hiera file",
                    deployment.name
                ),
            ));
        }
        facts.push(("FACTER_deploy_config_name".into(), deployment.name.clone()));
    }
    let outputs_path = outputs.join(id);
    facts.push((
        "FACTER_heat_outputs_path".into(),
        outputs_path.display().to_string(),
    ));

    let mut files = vec![(manifest_path.clone(), manifest, 0o700)];
    if let Some(file) = hiera_file {
        files.push((file, python_json::dumps(&Value::Object(hiera)), 0o600));
    }
    HOOK.write(id, files).await?;

    let mut command = Command::new(&settings.command);
    command.current_dir(&working).args([
        "apply",
        "--color",
        "false",
        "--detailed-exitcodes",
        "--logdest",
        "console",
    ]);
    if let Some(path) = text_option("modulepath") {
        command.args(["--modulepath", path]);
    }
    if let Some(tags) = text_option("tags") {
        command.args(["--tags", tags]);
    }
    if flag(options, "enable_debug", false) {
        command.args(["--debug", "--logdest", "/var/log/puppet/heat-debug.log"]);
    }
    if flag(options, "enable_verbose", false) {
        command.args(["--verbose", "--logdest", "/var/log/puppet/heat-verbose.log"]);
    }
    command.arg(&manifest_path);
    for (name, value) in &facts {
        if name.contains(['=', '\0']) || value.contains('\0') {
            continue;
        }
        command.env(name, value);
    }
    let mut completion = HOOK.run(id, command, &settings.command, timeout).await?;
    keep_logs(
        &settings.logdir,
        deployment,
        &completion.stdout,
        &completion.stderr,
    )
    .await;
    // --detailed-exitcodes: 2 means changes were applied.
    if !completion.timed_out && completion.code == 2 {
        completion.code = 0;
    }
    let mut payload = completion_payload(id, completion, timeout);
    collect_outputs(deployment, &outputs, &mut payload).await;
    Ok(payload)
}

/// Writes the run's output to `<logdir>/<creation_time, ':'/'T' → '-'>-<id>-{stdout,stderr}.log`.
async fn keep_logs(logdir: &Path, deployment: &Deployment, stdout: &str, stderr: &str) {
    let stamp = deployment
        .creation_time
        .as_deref()
        .unwrap_or("unknown-time")
        .replace([':', 'T'], "-");
    let base = format!("{stamp}-{}", deployment.id);
    if !is_safe_file_name(&base) {
        return;
    }
    let (logdir, stdout, stderr) = (logdir.to_path_buf(), stdout.to_string(), stderr.to_string());
    let written = tokio::task::spawn_blocking(move || {
        write_text_file(&logdir.join(format!("{base}-stdout.log")), &stdout, 0o600)?;
        write_text_file(&logdir.join(format!("{base}-stderr.log")), &stderr, 0o600)
    })
    .await;
    if let Ok(Err(err)) = written {
        tracing::warn!(id = %deployment.id, "puppet: cannot keep the run's log: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    fn deployment(options: Value) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-7", "name": "web", "group": "puppet", "creation_time": "2026-12-02T10:11:12Z",
            "config": "notify { 'hi': }\n", "options": options,
            "inputs": [{"name": "port", "value": 8080}, {"name": "site", "value": "a"}],
            "outputs": [{"name": "result"}],
        }))
        .unwrap()
    }

    fn settings(tmp: &tempfile::TempDir, command: String) -> PuppetSettings {
        PuppetSettings {
            working: tmp.path().join("work"),
            outputs: tmp.path().join("out"),
            command,
            logdir: tmp.path().join("logs"),
            hiera_datadir: tmp.path().join("hieradata"),
        }
    }

    /// A recording fake `puppet` (the real one runs end to end): prints argv and facts,
    /// writes an output, and exits 2 as `--detailed-exitcodes` does after changes.
    fn fake_puppet(tmp: &tempfile::TempDir) -> String {
        let path = tmp.path().join("fake-puppet");
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"argv: $*\"\necho \"port=$FACTER_port site=$FACTER_site name=$FACTER_deploy_config_name\"\nprintf done > \"$FACTER_heat_outputs_path.result\"\nexit 2\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    #[tokio::test]
    async fn the_command_line_facts_hiera_and_logs_are_upstreams() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_puppet(&tmp));
        let d = deployment(json!({"enable_hiera": true, "modulepath": "/m", "tags": "t"}));
        let out = run(&d, &s, Some(Duration::from_secs(30))).await;
        assert_eq!(out.status_code(), Some(0), "exit 2 is success: {out:?}");
        let work = std::fs::canonicalize(tmp.path().join("work")).unwrap();
        let stdout = out.0["deploy_stdout"].as_str().unwrap();
        assert!(
            stdout.contains(&format!(
                "argv: apply --color false --detailed-exitcodes --logdest console --modulepath /m --tags t {}/dep-7.pp",
                work.display()
            )),
            "{stdout}"
        );
        assert!(stdout.contains("port=8080 site=a name=web"), "{stdout}");
        assert_eq!(out.0["result"], "done");
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("hieradata/heat_config_web.json")).unwrap(),
            r#"{"port": 8080, "site": "a"}"#
        );
        assert_eq!(
            std::fs::read_to_string(
                tmp.path()
                    .join("logs/2026-12-02-10-11-12Z-dep-7-stdout.log")
            )
            .unwrap(),
            stdout
        );
    }

    #[tokio::test]
    async fn a_missing_puppet_fails_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, "/nonexistent/puppet".into());
        let out = run(&deployment(json!({})), &s, None).await;
        assert_eq!(out.status_code(), Some(1));
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("/nonexistent/puppet is not installed"),
            "{out:?}"
        );
    }
}
