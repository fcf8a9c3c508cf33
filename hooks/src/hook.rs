//! Choosing and running the hook for a deployment's `group`.
//!
//! The [`BuiltIn`] hooks win over an executable of the same name (so an image needs no
//! Python for them); `Heat::Ungrouped` and `os-apply-config` are
//! never signalled (as in heat-config); any other group runs the executable of that
//! (sanitised) name from the first hooks directory that has one, speaking the JSON protocol:
//! the deployment on stdin, the signal payload on stdout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::builtin::BuiltIn;
use crate::deployment::{Deployment, UNGROUPED};
use crate::process::run_captured;
use crate::script::{self, ScriptDirs};
use crate::signal::SignalPayload;

/// Environment variable naming an extra hooks directory, searched first.
pub const HOOKS_ENV: &str = "HEAT_CONFIG_HOOKS";

/// Hooks directories searched after `$HEAT_CONFIG_HOOKS`, in order.
pub const SYSTEM_HOOKS_DIRS: [&str; 2] = [
    "/usr/libexec/heat-config/hooks",
    "/var/lib/heat-config/hooks",
];

/// How deployments are run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSettings {
    /// Directories searched, in order, for an external hook named after the group.
    pub hooks_dirs: Vec<PathBuf>,
    /// Directories of the built-in `script` hook.
    pub script: ScriptDirs,
    /// Kill a hook (and everything it started) that runs longer than this.
    pub timeout: Option<Duration>,
    /// An executable that acts as `cfn-init` or `os-apply-config` when run under that name
    /// (the multi-call `updraft-agent`): what the `cfn-init` and `apply-config` hooks run
    /// when their tool is neither overridden nor on `PATH`, so an image needs nothing else.
    pub tools_executable: Option<PathBuf>,
    /// The metadata files the `apply-config` hook's os-apply-config renders from when
    /// `OS_CONFIG_FILES` is not set (the agent's copy of the current document).
    pub config_files: Vec<PathBuf>,
}

/// What running a deployment produced.
#[derive(Debug, Clone, PartialEq)]
pub enum HookOutcome {
    /// The hook ran (or failed to); send this payload.
    Signal(SignalPayload),
    /// No hook exists for the group.
    NoHook {
        /// The deployment's group.
        group: String,
        /// The directories that were searched.
        searched: Vec<PathBuf>,
    },
    /// A group heat-config never signals (`Heat::Ungrouped`, `os-apply-config`).
    NotSignalled,
}

/// `$HEAT_CONFIG_HOOKS` (when set and non-empty), then [`SYSTEM_HOOKS_DIRS`].
pub fn default_hooks_dirs() -> Vec<PathBuf> {
    let env = std::env::var_os(HOOKS_ENV).filter(|v| !v.is_empty());
    env.map(PathBuf::from)
        .into_iter()
        .chain(SYSTEM_HOOKS_DIRS.iter().map(PathBuf::from))
        .collect()
}

/// A group name reduced to `[A-Za-z0-9_-]`, the hook's file name (`Heat::Ungrouped` →
/// `HeatUngrouped`).
pub fn sanitise_group(group: &str) -> String {
    group
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// The first executable regular file called `name` in `dirs`.
pub async fn find_hook(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if name.is_empty() {
        return None;
    }
    for dir in dirs {
        let candidate = dir.join(name);
        if let Ok(meta) = tokio::fs::metadata(&candidate).await
            && meta.is_file()
            && meta.permissions().mode() & 0o111 != 0
        {
            return Some(candidate);
        }
    }
    None
}

/// Runs `deployment` (already sanitised) through the hook for its group.
pub async fn run_deployment(deployment: &Deployment, settings: &HookSettings) -> HookOutcome {
    if let Some(hook) = BuiltIn::for_group(&deployment.group) {
        return HookOutcome::Signal(hook.run(deployment, settings).await);
    }
    match deployment.group.as_str() {
        UNGROUPED | "os-apply-config" => return HookOutcome::NotSignalled,
        _ => {}
    }
    let name = sanitise_group(&deployment.group);
    match find_hook(&name, &settings.hooks_dirs).await {
        Some(hook) => HookOutcome::Signal(run_external(&hook, deployment, settings.timeout).await),
        None => HookOutcome::NoHook {
            group: deployment.group.clone(),
            searched: settings.hooks_dirs.clone(),
        },
    }
}

/// Runs an external hook: argv `[hook]`, stdin the deployment JSON, inherited env and cwd.
async fn run_external(
    hook: &Path,
    deployment: &Deployment,
    timeout: Option<Duration>,
) -> SignalPayload {
    match serde_json::to_vec(deployment) {
        Ok(stdin) => run_hook_executable(hook, &deployment.id, stdin, timeout).await,
        Err(err) => SignalPayload::new(
            "",
            format!(
                "deployment {}: cannot encode it for its hook: {err}",
                deployment.id
            ),
            1,
        ),
    }
}

/// Runs hook executable `hook` for deployment `id` with `stdin` (the deployment document),
/// inherited env and cwd, killed with everything it started after `timeout`; its answer
/// by heat-config's rules ([`SignalPayload::from_hook_run`]).
pub async fn run_hook_executable(
    hook: &Path,
    id: &str,
    stdin: Vec<u8>,
    timeout: Option<Duration>,
) -> SignalPayload {
    tracing::debug!(id, hook = %hook.display(), "running hook");
    match run_captured(Command::new(hook), Some(stdin), timeout).await {
        Ok(done) if done.timed_out => script::completion_payload(id, done, timeout),
        Ok(done) => SignalPayload::from_hook_run(&done.stdout, &done.stderr, done.code),
        Err(err) => {
            let message = format!(
                "deployment {id}: cannot execute hook {}: {err}",
                hook.display()
            );
            tracing::warn!(id, "{message}");
            SignalPayload::new("", message, 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::os::unix::fs::PermissionsExt;

    fn settings(tmp: &tempfile::TempDir, hooks_dirs: Vec<PathBuf>) -> HookSettings {
        HookSettings {
            hooks_dirs,
            script: ScriptDirs {
                working: tmp.path().join("work"),
                outputs: tmp.path().join("out"),
            },
            timeout: Some(Duration::from_secs(30)),
            tools_executable: None,
            config_files: Vec::new(),
        }
    }

    fn deployment(group: &str) -> Deployment {
        serde_json::from_value(json!({
            "id": "dep-2", "name": "d", "group": group, "config": {"k": "v"},
            "inputs": [{"name": "x", "value": "y"}],
        }))
        .unwrap()
    }

    fn write_hook(dir: &Path, name: &str, body: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[tokio::test]
    async fn external_hook_speaks_the_json_protocol() {
        let tmp = tempfile::tempdir().unwrap();
        let (first, second) = (tmp.path().join("h1"), tmp.path().join("h2"));
        std::fs::create_dir_all(&first).unwrap();
        // Not executable: skipped in favour of the next directory.
        std::fs::write(first.join("mytool"), "#!/bin/sh\nexit 9\n").unwrap();
        write_hook(
            &second,
            "mytool",
            "#!/bin/sh\nin=$(cat)\nprintf '{\"deploy_stdout\": %s, \"deploy_status_code\": 0}' \"$in\"\n",
        );
        let d = deployment("my::tool");
        let out = run_deployment(&d, &settings(&tmp, vec![first, second])).await;
        let HookOutcome::Signal(p) = out else {
            panic!("{out:?}")
        };
        // The hook echoed its stdin back inside its JSON answer.
        assert_eq!(p.0["deploy_stdout"], serde_json::to_value(&d).unwrap());
        assert_eq!(p.status_code(), Some(0));
    }

    #[tokio::test]
    async fn non_json_hook_output_is_wrapped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hooks");
        write_hook(
            &dir,
            "mytool",
            "#!/bin/sh\necho plain\necho oops >&2\nexit 2\n",
        );
        let out = run_deployment(&deployment("mytool"), &settings(&tmp, vec![dir])).await;
        assert_eq!(
            out,
            HookOutcome::Signal(SignalPayload::new("plain\n", "oops\n", 2))
        );
    }

    #[tokio::test]
    async fn unknown_group_has_no_hook() {
        let tmp = tempfile::tempdir().unwrap();
        let dirs = vec![tmp.path().join("none")];
        let out = run_deployment(&deployment("kubelet"), &settings(&tmp, dirs.clone())).await;
        assert_eq!(
            out,
            HookOutcome::NoHook {
                group: "kubelet".into(),
                searched: dirs
            }
        );
    }

    #[tokio::test]
    async fn ungrouped_and_apply_config_are_not_signalled() {
        let tmp = tempfile::tempdir().unwrap();
        for group in [UNGROUPED, "os-apply-config"] {
            let out = run_deployment(&deployment(group), &settings(&tmp, vec![])).await;
            assert_eq!(out, HookOutcome::NotSignalled);
        }
    }

    #[tokio::test]
    async fn script_group_uses_the_builtin_hook() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = deployment("script");
        d.config = Value::String("#!/bin/sh\necho \"x=$x\"\n".into());
        let out = run_deployment(&d, &settings(&tmp, vec![])).await;
        assert_eq!(out, HookOutcome::Signal(SignalPayload::new("x=y\n", "", 0)));
    }

    #[test]
    fn group_names_are_sanitised() {
        assert_eq!(sanitise_group("Heat::Ungrouped"), "HeatUngrouped");
        assert_eq!(sanitise_group("../docker-cmd_2"), "docker-cmd_2");
        assert_eq!(sanitise_group("é"), "");
    }
}
