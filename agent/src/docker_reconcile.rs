//! heat-agents' orc steps for the docker hooks ([`updraft_hooks::docker_reconcile`]), in
//! two forms:
//!
//! - [`main`]: the executables `50-heat-config-docker-cmd` and
//!   `50-heat-config-docker-compose` (os-refresh-config `configure.d` scripts, reached
//!   through links of those names). As upstream they read the deployments from the JSON
//!   list os-apply-config renders at `$HEAT_SHELL_CONFIG` (default
//!   `/var/run/heat-config/heat-config`); a missing or unreadable file does nothing.
//! - [`cycle`]: what the agent daemon runs before each document's deployments (upstream's
//!   `50-…` steps run before `55-heat-config`), but only on a host where a deployment of
//!   that group has appeared: a marker `<state-dir>/<group>.used` remembers it (and the
//!   deployment ids it last ran for, so an unchanged document costs no docker call), so a
//!   host that never used docker never runs it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use updraft_hooks::Deployment;
use updraft_hooks::docker_cmd::DockerCmdSettings;
use updraft_hooks::docker_compose::ComposeSettings;
use updraft_hooks::docker_reconcile::{
    DOCKER_CMD_GROUP, DOCKER_COMPOSE_GROUP, reconcile_docker_cmd, reconcile_docker_compose,
};

/// Where upstream's orc scripts read the deployments.
pub const SHELL_CONFIG_ENV: &str = "HEAT_SHELL_CONFIG";
/// Its default.
pub const SHELL_CONFIG_DEFAULT: &str = "/var/run/heat-config/heat-config";

/// Which orc step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `50-heat-config-docker-cmd`.
    DockerCmd,
    /// `50-heat-config-docker-compose`.
    DockerCompose,
}

impl Step {
    /// The group whose leftovers this step reconciles.
    pub fn group(self) -> &'static str {
        match self {
            Step::DockerCmd => DOCKER_CMD_GROUP,
            Step::DockerCompose => DOCKER_COMPOSE_GROUP,
        }
    }

    /// Runs this step for `deployments`; `Err` holds what went wrong (already logged).
    async fn run(
        self,
        tools: &Tools,
        deployments: &[Deployment],
        timeout: Option<Duration>,
    ) -> Result<(), String> {
        let problems = match self {
            Step::DockerCmd => {
                reconcile_docker_cmd(deployments, &tools.docker.command, timeout)
                    .await
                    .map_err(|e| e.to_string())?
                    .problems
            }
            Step::DockerCompose => {
                reconcile_docker_compose(deployments, &tools.compose, timeout)
                    .await
                    .map_err(|e| e.to_string())?
                    .problems
            }
        };
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// The docker tools, as the hooks find them.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `HEAT_DOCKER_CMD`.
    pub docker: DockerCmdSettings,
    /// `HEAT_DOCKER_COMPOSE_WORKING`, `HEAT_DOCKER_COMPOSE_CMD`.
    pub compose: ComposeSettings,
}

impl Tools {
    /// From the environment, as the hooks read it.
    pub fn from_env() -> Self {
        Tools {
            docker: DockerCmdSettings::from_env(),
            compose: ComposeSettings::from_env(),
        }
    }
}

/// The deployments in an os-apply-config rendered list, reduced to what the steps read
/// (`id`, `name`, `group`, `config`; a missing `id`, which only the compose step could
/// lack, is empty).
pub fn parse_shell_config(text: &str) -> Result<Vec<Deployment>, String> {
    let list: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON list: {e}"))?;
    list.into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let Value::Object(map) = entry else {
                return Err(format!("entry {i}: not a map"));
            };
            let mut kept = serde_json::Map::new();
            kept.insert("id".into(), Value::String(String::new()));
            for key in ["id", "name", "group", "config"] {
                if let Some(v) = map.get(key) {
                    kept.insert(key.into(), v.clone());
                }
            }
            serde_json::from_value(Value::Object(kept)).map_err(|e| format!("entry {i}: {e}"))
        })
        .collect()
}

/// The orc script `step`: exit 0 (a missing or unreadable deployments file, or a missing
/// docker, is only logged: os-refresh-config must go on to run the hooks), except that
/// the compose step exits 1 when it could not do its work, as upstream.
pub async fn main(step: Step, _args: Vec<OsString>) -> ExitCode {
    let path = std::env::var_os(SHELL_CONFIG_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(SHELL_CONFIG_DEFAULT), PathBuf::from);
    let text = match tokio::fs::read_to_string(&path).await {
        Ok(text) => text,
        Err(err) => {
            tracing::warn!(
                "no deployments file {}: {err}; nothing to reconcile",
                path.display()
            );
            return ExitCode::SUCCESS;
        }
    };
    let deployments = match parse_shell_config(&text) {
        Ok(deployments) => deployments,
        Err(err) => {
            tracing::warn!(
                "cannot read the deployments in {}: {err}; nothing to reconcile",
                path.display()
            );
            return ExitCode::SUCCESS;
        }
    };
    match step.run(&Tools::from_env(), &deployments, None).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{}: {err}", step.group());
            match step {
                Step::DockerCmd => ExitCode::SUCCESS,
                Step::DockerCompose => ExitCode::FAILURE,
            }
        }
    }
}

fn marker(state_dir: &Path, step: Step) -> PathBuf {
    state_dir.join(format!("{}.used", step.group()))
}

/// The daemon's step, before a document's deployments run: each reconciliation whose
/// group has ever had a deployment on this host runs against `deployments`, with the
/// tools the environment names, when the deployments differ from those it last ran for
/// (upstream's steps run only when the metadata changed). Problems are logged, never
/// fatal.
pub async fn cycle(state_dir: &Path, deployments: &[Deployment], timeout: Option<Duration>) {
    cycle_with(&Tools::from_env(), state_dir, deployments, timeout).await;
}

/// [`cycle`] with the given tools.
pub async fn cycle_with(
    tools: &Tools,
    state_dir: &Path,
    deployments: &[Deployment],
    timeout: Option<Duration>,
) {
    // The marker holds the ids the step last ran for.
    let ids: Vec<&str> = deployments.iter().map(|d| d.id.as_str()).collect();
    let ids = serde_json::to_vec(&ids).unwrap_or_default();
    for step in [Step::DockerCmd, Step::DockerCompose] {
        let marker = marker(state_dir, step);
        match tokio::fs::read(&marker).await {
            Ok(last) if last == ids => continue,
            Ok(_) => {}
            // Never used on this host (or unreadable): only a deployment of the group starts it.
            Err(_) if !deployments.iter().any(|d| d.group == step.group()) => continue,
            Err(_) => {}
        }
        if let Err(err) = step.run(tools, deployments, timeout).await {
            tracing::warn!("reconciling {} leftovers: {err}", step.group());
        }
        if let Err(err) = tokio::fs::write(&marker, &ids).await {
            tracing::warn!("cannot write {}: {err}", marker.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_rendered_list_reads_with_or_without_ids() {
        // heat-agents' compose test gives `inputs` as a map and no id.
        let d = parse_shell_config(
            r#"[{"id": "a", "group": "docker-cmd", "inputs": []}, {"name": "p", "group": "docker-compose", "inputs": {}, "config": {"web": {}}}]"#,
        )
        .unwrap();
        assert_eq!(
            (d[0].id.as_str(), d[1].id.as_str(), d[1].name.as_str()),
            ("a", "", "p")
        );
        assert_eq!(d[1].config, serde_json::json!({"web": {}}));
        assert!(parse_shell_config("{}").is_err());
        assert!(parse_shell_config(r#"[{"id": 5}]"#).is_err());
    }

    #[tokio::test]
    async fn docker_is_only_called_on_hosts_that_used_it() {
        let tmp = tempfile::tempdir().unwrap();
        let calls = tmp.path().join("calls");
        let fake = |name: &str| {
            let path = tmp.path().join(name);
            std::fs::write(
                &path,
                format!("#!/bin/sh\necho \"{name} $*\" >> {}\n", calls.display()),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path.display().to_string()
        };
        let tools = Tools {
            docker: DockerCmdSettings {
                command: fake("docker"),
            },
            compose: ComposeSettings {
                working: tmp.path().join("compose"),
                command: fake("docker-compose"),
            },
        };
        let state = tmp.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let d = |id: &str, group: &str| -> Deployment {
            serde_json::from_value(serde_json::json!({"id": id, "name": id, "group": group}))
                .unwrap()
        };
        cycle_with(&tools, &state, &[d("s", "script")], None).await;
        assert!(
            !calls.exists(),
            "docker was called on a host that never used it"
        );

        cycle_with(&tools, &state, &[d("c", "docker-cmd")], None).await;
        let seen = std::fs::read_to_string(&calls).unwrap();
        assert!(
            seen.starts_with("docker ps -a --filter label=managed_by=docker-cmd"),
            "{seen}"
        );
        assert!(!seen.contains("docker-compose"), "{seen}");
        // The same deployments again: nothing to do.
        std::fs::remove_file(&calls).unwrap();
        cycle_with(&tools, &state, &[d("c", "docker-cmd")], None).await;
        assert!(!calls.exists());
        // The marker stays: the deployment gone, its containers are still looked for.
        cycle_with(&tools, &state, &[d("s", "script")], None).await;
        assert!(
            std::fs::read_to_string(&calls)
                .unwrap()
                .starts_with("docker ps")
        );
    }

    #[test]
    fn the_orc_step_names_are_multi_call_names() {
        use crate::multicall::{Tool, invoked_as};
        assert_eq!(
            invoked_as(&"/x/configure.d/50-heat-config-docker-cmd".into()),
            Some(Tool::DockerReconcile(Step::DockerCmd))
        );
        assert_eq!(
            invoked_as(&"50-heat-config-docker-compose".into()),
            Some(Tool::DockerReconcile(Step::DockerCompose))
        );
        assert_eq!(
            invoked_as(&"hook-docker-cmd.py".into()),
            Some(Tool::Hook("docker-cmd"))
        );
    }
}
