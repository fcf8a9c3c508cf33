//! `55-heat-config`, heat-agents' os-refresh-config step, for images that keep
//! os-collect-config and os-refresh-config (ours or the stock ones) with `updraft-agent`
//! linked as `configure.d/55-heat-config`: reads the deployments os-apply-config rendered to
//! `$HEAT_SHELL_CONFIG` (`/var/run/heat-config/heat-config`), and runs each one not yet in
//! `$HEAT_CONFIG_DEPLOYED` (`/var/lib/heat-config/deployed`, migrated from
//! `$HEAT_CONFIG_DEPLOYED_OLD` when only that exists) through its hook, recording
//! `<id>.json` before and `<id>.notify.json` after, then hands the result to
//! `$HEAT_CONFIG_NOTIFY` (`heat-config-notify`: ours when none is on `PATH`).
//!
//! As upstream, a hook executable in the hooks directories (`$HEAT_CONFIG_HOOKS`,
//! `/usr/libexec/heat-config/hooks`, `/var/lib/heat-config/hooks`) wins, so images with
//! heat-agents' hooks keep them; a group without one runs the built-in hook. Documents are
//! handed on as they came (inputs sanitised, `component` resolved), not re-encoded. Unlike
//! upstream, one deployment's failure is logged and the rest still run, and a missing
//! notifier is logged rather than a traceback.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use updraft_hooks::Deployment;
use updraft_hooks::builtin::BuiltIn;
use updraft_hooks::deployment::{COMPONENT, sanitise_document_inputs};
use updraft_hooks::hook::{default_hooks_dirs, find_hook, run_hook_executable, sanitise_group};
use updraft_hooks::process::{run_captured, tool_command};
use updraft_hooks::python_json::{self, Layout};
use updraft_hooks::signal::SignalPayload;

/// Groups that never had a hook: skipped without a complaint.
const NO_HOOK_EXPECTED: &[&str] = &["os-apply-config"];

/// The files deployed records are written as (`indent=2`, keys as they came).
const RECORD: Layout = Layout {
    indent: Some(2),
    sort_keys: false,
};

fn env_path(name: &str, default: &str) -> PathBuf {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Runs one pass over the deployments in `$HEAT_SHELL_CONFIG`.
pub async fn main(_args: Vec<OsString>) -> ExitCode {
    let conf = env_path("HEAT_SHELL_CONFIG", "/var/run/heat-config/heat-config");
    let deployed = env_path("HEAT_CONFIG_DEPLOYED", "/var/lib/heat-config/deployed");
    let old = env_path("HEAT_CONFIG_DEPLOYED_OLD", "/var/run/heat-config/deployed");
    let text = match std::fs::read(&conf) {
        Ok(text) => text,
        Err(err) => {
            tracing::error!("No config file {}: {err}", conf.display());
            return ExitCode::FAILURE;
        }
    };
    // The file holds credentials.
    let _ = std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600));
    if let Err(err) = prepare_deployed(&deployed, &old) {
        tracing::error!("{err}");
        return ExitCode::FAILURE;
    }
    let configs = match serde_json::from_slice::<Value>(&text) {
        Ok(Value::Array(configs)) => configs,
        // As upstream: nothing to do for a file that is not a list of deployments.
        Ok(_) | Err(_) => {
            tracing::warn!("{} holds no list of deployments", conf.display());
            return ExitCode::SUCCESS;
        }
    };
    let hooks_dirs = default_hooks_dirs();
    for config in configs {
        if let Err(err) = invoke(config, &deployed, &hooks_dirs).await {
            tracing::error!("{err}");
        }
    }
    ExitCode::SUCCESS
}

/// Creates `deployed` (0700), moving `old` there when only it exists.
fn prepare_deployed(deployed: &Path, old: &Path) -> Result<(), String> {
    if deployed.is_dir() {
        return Ok(());
    }
    if deployed != old && old.is_dir() {
        tracing::debug!(
            "Migrating deployed state from {} to {}",
            old.display(),
            deployed.display()
        );
        return std::fs::rename(old, deployed).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                old.display(),
                deployed.display()
            )
        });
    }
    updraft_hooks::json_files::prepare_dir(deployed).map_err(|e| e.to_string())
}

/// Resolves a `component` document to the entry for its `deploy_action`; `false` when it
/// has none (skipped, as upstream).
fn select_component(document: &mut Value, deployment: &mut Deployment) -> bool {
    if deployment.group != COMPONENT {
        return true;
    }
    if !deployment.select_component() {
        return false;
    }
    if let Some(doc) = document.as_object_mut() {
        doc.insert("config".into(), deployment.config.clone());
        doc.insert("group".into(), Value::String(deployment.group.clone()));
    }
    true
}

/// Runs one deployment document, unless it is already deployed.
async fn invoke(
    mut document: Value,
    deployed: &Path,
    hooks_dirs: &[PathBuf],
) -> Result<(), String> {
    sanitise_document_inputs(&mut document);
    let mut deployment: Deployment = serde_json::from_value(document.clone())
        .map_err(|e| format!("skipping a deployment that does not parse: {e}"))?;
    if !select_component(&mut document, &mut deployment) {
        tracing::warn!(
            "Skipping group {COMPONENT}, no valid script is defined for deploy action {}",
            deployment.action()
        );
        return Ok(());
    }
    let id = deployment.id.clone();
    if !updraft_hooks::names::is_safe_file_name(&id) {
        return Err(format!(
            "skipping deployment id {id:?}: not usable as a file name"
        ));
    }
    let record = deployed.join(format!("{id}.json"));
    if record.exists() {
        tracing::warn!("Skipping config {id}, already deployed");
        tracing::warn!("To force-deploy, rm {}", record.display());
        return Ok(());
    }
    let group = deployment.group.clone();
    let external = find_hook(&sanitise_group(&group), hooks_dirs).await;
    let built_in = BuiltIn::for_group(&group);
    if external.is_none() && built_in.is_none() {
        if !NO_HOOK_EXPECTED.contains(&group.as_str()) {
            tracing::error!("Skipping group {group} with no hook script");
        }
        return Ok(());
    }
    // Recorded first: it counts as deployed whatever the hook does.
    write(&record, &python_json::dumps_with(&document, RECORD))?;
    let payload = match external {
        Some(hook) => {
            tracing::debug!("Running {} < {}", hook.display(), record.display());
            let stdin = python_json::dumps(&document).into_bytes();
            run_hook_executable(&hook, &id, stdin, None).await
        }
        None => {
            let settings = crate::hook_command::standalone_settings();
            match built_in {
                Some(hook) => hook.run(&deployment, &settings).await,
                None => SignalPayload::default(),
            }
        }
    };
    let notify = deployed.join(format!("{id}.notify.json"));
    let signal = Value::Object(payload.0.clone());
    write(&notify, &python_json::dumps_with(&signal, RECORD))?;
    notify_server(&record, &payload).await;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    updraft_hooks::json_files::write_text_file(path, text, 0o600).map_err(|e| e.to_string())
}

/// Runs `$HEAT_CONFIG_NOTIFY <record>` with the signal on stdin (ours, as
/// `heat-config-notify`, when none is set or on `PATH`).
async fn notify_server(record: &Path, payload: &SignalPayload) {
    let own = crate::multicall::own_executable();
    let (mut command, shown) =
        tool_command("HEAT_CONFIG_NOTIFY", "heat-config-notify", own.as_deref());
    command.arg(record);
    match run_captured(command, Some(payload.to_body()), None).await {
        Ok(done) if done.code == 0 => tracing::debug!("{shown} done"),
        Ok(done) => tracing::error!(
            "Error running {shown}. [{}] {}",
            done.code,
            done.stderr.trim_end()
        ),
        Err(err) => tracing::error!("cannot run {shown}: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_component_document_becomes_its_entry_for_the_action() {
        let mut doc = json!({
            "id": "c1", "group": "component",
            "inputs": [{"name": "deploy_action", "value": "CREATE"}],
            "config": {"configs": [
                {"actions": ["UPDATE"], "tool": "puppet", "config": "u"},
                {"actions": ["CREATE"], "tool": "script", "config": "c"},
            ]},
        });
        let mut d: Deployment = serde_json::from_value(doc.clone()).unwrap();
        assert!(select_component(&mut doc, &mut d));
        assert_eq!(
            (&doc["group"], &doc["config"]),
            (&json!("script"), &json!("c"))
        );
        // Keys keep their place: the record is the document as it came.
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "group", "inputs", "config"]);
    }

    #[test]
    fn the_old_deployed_directory_is_moved() {
        let tmp = tempfile::tempdir().unwrap();
        let (new, old) = (tmp.path().join("new"), tmp.path().join("old"));
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("1.json"), "{}").unwrap();
        prepare_deployed(&new, &old).unwrap();
        assert!(new.join("1.json").is_file() && !old.exists());
        prepare_deployed(&tmp.path().join("fresh"), &old).unwrap();
        assert!(tmp.path().join("fresh").is_dir());
    }
}
