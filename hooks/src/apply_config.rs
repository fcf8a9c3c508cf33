//! The built-in `apply-config` hook, as heat-agents' `apply-config` hook: the deployment's
//! `config` is not read; `os-apply-config` re-renders its templates from the collected
//! metadata (with the inherited environment, so `OS_CONFIG_FILES` and
//! `OS_CONFIG_APPLIER_TEMPLATES` reach it), and its stdout, stderr and exit code are the
//! deployment's. `HEAT_APPLY_CONFIG_CMD` overrides the command, as upstream.
//!
//! Fixes: a missing `os-apply-config` is a clear failure, and when none is on `PATH` the
//! agent's own runs ([`HookSettings::tools_executable`]); the timeout kills the run.
//!
//! [`HookSettings::tools_executable`]: crate::hook::HookSettings::tools_executable

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::deployment::Deployment;
use crate::script::completion_payload;
use crate::signal::SignalPayload;
use crate::tool_hook::ToolHook;

const HOOK: ToolHook = ToolHook {
    name: "apply-config",
    package: "os-apply-config (or link it to updraft-agent)",
    command_env: "HEAT_APPLY_CONFIG_CMD",
};

/// Runs `os-apply-config` for `deployment`; `own` is the agent's executable, run as
/// `os-apply-config` when no other is on `PATH`; `config_files` are its metadata when
/// `OS_CONFIG_FILES` is not set (and they exist).
pub async fn run(
    deployment: &Deployment,
    own: Option<&Path>,
    config_files: &[PathBuf],
    timeout: Option<Duration>,
) -> SignalPayload {
    let id = deployment.id.as_str();
    let (mut command, program) = HOOK.own_tool_command("os-apply-config", own);
    let present: Vec<&PathBuf> = config_files.iter().filter(|f| f.is_file()).collect();
    if std::env::var_os("OS_CONFIG_FILES").is_none() && !present.is_empty() {
        let joined = std::env::join_paths(present).unwrap_or_default();
        command.env("OS_CONFIG_FILES", joined);
    }
    match HOOK.run(id, command, &program, timeout).await {
        Ok(done) => completion_payload(id, done, timeout),
        Err(payload) => payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn a_missing_tool_is_a_clear_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let d: Deployment =
            serde_json::from_value(json!({"id": "d1", "group": "apply-config"})).unwrap();
        // Only when no os-apply-config is on this host's PATH does `own` run.
        if which::which("os-apply-config").is_ok() {
            return;
        }
        let payload = run(&d, Some(&tmp.path().join("gone")), &[], None).await;
        assert_eq!(payload.status_code(), Some(1));
        let stderr = payload.0["deploy_stderr"].as_str().unwrap();
        assert!(
            stderr.starts_with("apply-config: os-apply-config (")
                && stderr.contains("is not installed"),
            "{stderr}"
        );
    }
}
