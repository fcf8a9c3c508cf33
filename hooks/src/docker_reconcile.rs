//! Reconciling what the docker hooks left behind with the deployments a server still
//! has, as heat-agents' orc steps `50-heat-config-docker-cmd` and
//! `50-heat-config-docker-compose` do on every refresh, given the full current
//! deployments list:
//!
//! - [`reconcile_docker_cmd`]: containers labelled `managed_by=docker-cmd` whose
//!   `config_id` is no deployed `docker-cmd` deployment's id are removed
//!   (`docker rm -f`), then containers started under a suffixed name (`web-xxxxxxxx`, the
//!   name being taken at the time) are renamed to their `container_name` label when that
//!   name is free.
//! - [`reconcile_docker_compose`]: a project directory `<working>/<name>/` holding a
//!   `docker-compose.yml` whose name no `docker-compose` deployment has any more is
//!   stopped (`docker-compose kill`, in that directory) and its compose file removed; then
//!   each `docker-compose` deployment's compose file is written (as the hook also does).
//!
//! The docker commands and their arguments are upstream's. Fixes: a missing docker or
//! docker-compose is an error (upstream logs a traceback); renames keep track of the names
//! they take, so two containers wanting one name do not both try; only `docker-compose`
//! deployments keep a project alive (upstream: any deployment of that name); a failed
//! `kill` keeps the compose file so the next refresh tries again; every command is bounded
//! by the hook timeout.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use crate::deployment::Deployment;
use crate::docker_cmd::MANAGED_BY;
use crate::docker_compose::{COMPOSE_FILE, ComposeSettings, write_compose_file};
use crate::json_files::{WriteError, prepare_dir};
use crate::names::is_safe_file_name;
use crate::process::{Completion, run_captured};

/// The `docker-cmd` group.
pub const DOCKER_CMD_GROUP: &str = "docker-cmd";
/// The `docker-compose` group.
pub const DOCKER_COMPOSE_GROUP: &str = "docker-compose";

/// Why a reconciliation could not run (problems with single containers or projects are
/// reported in its result instead).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The tool is missing.
    #[error("{program} is not installed (or not on PATH); install it or set {env}")]
    NotInstalled {
        /// The command.
        program: String,
        /// The variable naming it.
        env: &'static str,
    },
    /// The tool could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The command.
        program: String,
        /// Why.
        source: io::Error,
    },
    /// A command outlived the timeout and was killed.
    #[error("{program} {step} timed out after {secs}s and was killed")]
    TimedOut {
        /// The command.
        program: String,
        /// Its subcommand.
        step: String,
        /// The timeout.
        secs: u64,
    },
    /// A directory could not be prepared.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The compose working directory could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    List {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// What [`reconcile_docker_cmd`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerCmdReconciled {
    /// Containers removed (as `docker ps -q` named them).
    pub removed: Vec<String>,
    /// `(from, to)` renames.
    pub renamed: Vec<(String, String)>,
    /// Commands that failed (already logged).
    pub problems: Vec<String>,
}

/// What [`reconcile_docker_compose`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerComposeReconciled {
    /// Stale projects killed (their compose file removed).
    pub killed: Vec<String>,
    /// Projects whose compose file was (re)written.
    pub written: Vec<String>,
    /// What failed (already logged).
    pub problems: Vec<String>,
}

/// One tool, its variable, and the timeout for each of its commands.
struct Tool<'a> {
    program: &'a str,
    env: &'static str,
    timeout: Option<Duration>,
}

impl Tool<'_> {
    async fn run(&self, args: &[&str], cwd: Option<&Path>) -> Result<Completion, ReconcileError> {
        let mut command = Command::new(self.program);
        command.args(args);
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        let done = run_captured(command, None, self.timeout)
            .await
            .map_err(|source| {
                if source.kind() == io::ErrorKind::NotFound {
                    ReconcileError::NotInstalled {
                        program: self.program.to_string(),
                        env: self.env,
                    }
                } else {
                    ReconcileError::Spawn {
                        program: self.program.to_string(),
                        source,
                    }
                }
            })?;
        if done.timed_out {
            return Err(ReconcileError::TimedOut {
                program: self.program.to_string(),
                step: args.first().copied().unwrap_or_default().to_string(),
                secs: self.timeout.map_or(0, |t| t.as_secs()),
            });
        }
        Ok(done)
    }
}

fn problem(list: &mut Vec<String>, message: String) {
    tracing::warn!("{message}");
    list.push(message);
}

/// Removes the containers of `docker-cmd` configs no longer in `deployments`, then
/// renames suffixed containers back to their `container_name` (upstream's
/// `50-heat-config-docker-cmd`). `docker` is the command (`HEAT_DOCKER_CMD`).
pub async fn reconcile_docker_cmd(
    deployments: &[Deployment],
    docker: &str,
    timeout: Option<Duration>,
) -> Result<DockerCmdReconciled, ReconcileError> {
    let tool = Tool {
        program: docker,
        env: "HEAT_DOCKER_CMD",
        timeout,
    };
    let deployed: HashSet<&str> = deployments
        .iter()
        .filter(|d| d.group == DOCKER_CMD_GROUP)
        .map(|d| d.id.as_str())
        .collect();
    let mut done = DockerCmdReconciled::default();

    let managed = format!("label={MANAGED_BY}");
    let listed = tool
        .run(
            &[
                "ps",
                "-a",
                "--filter",
                &managed,
                "--format",
                "{{.Label \"config_id\"}}",
            ],
            None,
        )
        .await?;
    let config_ids: BTreeSet<&str> = if listed.code == 0 {
        listed.stdout.split_whitespace().collect()
    } else {
        problem(
            &mut done.problems,
            format!(
                "docker ps failed ({}): {}",
                listed.code,
                listed.stderr.trim()
            ),
        );
        BTreeSet::new()
    };
    for config_id in config_ids.into_iter().filter(|id| !deployed.contains(id)) {
        tracing::info!(
            config_id,
            "docker-cmd config no longer deployed; removing its containers"
        );
        let by_config = format!("label=config_id={config_id}");
        let found = tool
            .run(
                &[
                    "ps", "-q", "-a", "--filter", &managed, "--filter", &by_config,
                ],
                None,
            )
            .await?;
        if found.code != 0 {
            problem(
                &mut done.problems,
                format!(
                    "docker ps for config {config_id} failed ({}): {}",
                    found.code,
                    found.stderr.trim()
                ),
            );
            continue;
        }
        for container in found.stdout.split_whitespace() {
            let removed = tool.run(&["rm", "-f", container], None).await?;
            if removed.code == 0 {
                done.removed.push(container.to_string());
            } else {
                problem(
                    &mut done.problems,
                    format!(
                        "cannot remove container {container}: {}",
                        removed.stderr.trim()
                    ),
                );
            }
        }
    }

    let names = tool
        .run(
            &[
                "ps",
                "-a",
                "--format",
                "{{.Names}} {{.Label \"container_name\"}}",
            ],
            None,
        )
        .await?;
    if names.code != 0 {
        problem(
            &mut done.problems,
            format!("docker ps failed ({}): {}", names.code, names.stderr.trim()),
        );
        return Ok(done);
    }
    let mut current: HashSet<String> = HashSet::new();
    let mut wanted: BTreeMap<String, String> = BTreeMap::new();
    for line in names.stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(label)) = (words.first(), words.last()) else {
            continue;
        };
        current.insert((*name).to_string());
        if words.len() >= 2 && name != label {
            wanted.insert((*name).to_string(), (*label).to_string());
        }
    }
    for (from, to) in wanted {
        if current.contains(&to) {
            tracing::info!(
                "cannot rename {from:?} to {to:?}: a container of that name still exists"
            );
            continue;
        }
        let renamed = tool.run(&["rename", &from, &to], None).await?;
        if renamed.code == 0 {
            tracing::info!("renamed container {from:?} to {to:?}");
            current.remove(&from);
            current.insert(to.clone());
            done.renamed.push((from, to));
        } else {
            problem(
                &mut done.problems,
                format!(
                    "cannot rename container {from} to {to}: {}",
                    renamed.stderr.trim()
                ),
            );
        }
    }
    Ok(done)
}

/// Kills the compose projects no `docker-compose` deployment in `deployments` names and
/// removes their compose files, then writes each deployment's compose file (upstream's
/// `50-heat-config-docker-compose`).
pub async fn reconcile_docker_compose(
    deployments: &[Deployment],
    settings: &ComposeSettings,
    timeout: Option<Duration>,
) -> Result<DockerComposeReconciled, ReconcileError> {
    let tool = Tool {
        program: &settings.command,
        env: "HEAT_DOCKER_COMPOSE_CMD",
        timeout,
    };
    let working = settings.working.clone();
    {
        let working = working.clone();
        tokio::task::spawn_blocking(move || prepare_dir(&working))
            .await
            .map_err(|e| ReconcileError::List {
                path: settings.working.clone(),
                source: io::Error::other(e),
            })??;
    }
    let compose: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| d.group == DOCKER_COMPOSE_GROUP)
        .collect();
    let names: HashSet<&str> = compose.iter().map(|d| d.name.as_str()).collect();
    let mut done = DockerComposeReconciled::default();

    let list_err = |source| ReconcileError::List {
        path: working.clone(),
        source,
    };
    let mut entries = tokio::fs::read_dir(&working).await.map_err(list_err)?;
    let mut projects = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(list_err)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let file = entry.path().join(COMPOSE_FILE);
        if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_file()) {
            projects.push((name, entry.path(), file));
        }
    }
    projects.sort();
    for (name, dir, file) in projects {
        if names.contains(name.as_str()) {
            continue;
        }
        tracing::info!(project = %name, "docker-compose project no longer deployed; killing it");
        let killed = tool.run(&["kill"], Some(&dir)).await?;
        if killed.code != 0 {
            problem(
                &mut done.problems,
                format!(
                    "docker-compose kill in {} failed ({}): {}",
                    dir.display(),
                    killed.code,
                    killed.stderr.trim()
                ),
            );
            continue;
        }
        match tokio::fs::remove_file(&file).await {
            Ok(()) => done.killed.push(name),
            Err(e) => problem(
                &mut done.problems,
                format!("cannot remove {}: {e}", file.display()),
            ),
        }
    }

    for d in compose {
        if !is_safe_file_name(&d.name) {
            problem(
                &mut done.problems,
                format!(
                    "deployment name {:?} cannot name a compose project directory",
                    d.name
                ),
            );
            continue;
        }
        let (dir, name, config) = (working.clone(), d.name.clone(), d.config.clone());
        match tokio::task::spawn_blocking(move || write_compose_file(&dir, &name, &config)).await {
            Ok(Ok(true)) => done.written.push(d.name.clone()),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => problem(&mut done.problems, e.to_string()),
            Err(e) => problem(&mut done.problems, e.to_string()),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::os::unix::fs::PermissionsExt;

    fn deployment(id: &str, name: &str, group: &str, config: Value) -> Deployment {
        serde_json::from_value(json!({"id": id, "name": name, "group": group, "config": config}))
            .unwrap()
    }

    /// A recording fake tool: appends `cwd|argv` lines to `calls`; answers from `<dir>/<subcommand>` files.
    fn fake(dir: &Path, name: &str) -> String {
        let path = dir.join(name);
        let script = format!(
            "#!/bin/sh\n(IFS='|'; echo \"$(pwd)|$*\") >> {calls}\nkey=\"$1\"; [ \"$1\" = ps ] && key=\"ps-$2\"; [ \"$3\" = --format ] && key=ps-names\ncat {dir}/answer-\"$key\" 2>/dev/null\nexit 0\n",
            calls = dir.join("calls").display(),
            dir = dir.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    fn calls(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_once('|').map_or(l, |(_, argv)| argv).to_string())
            .collect()
    }

    #[tokio::test]
    async fn stale_containers_are_removed_and_suffixed_ones_renamed() {
        let tmp = tempfile::tempdir().unwrap();
        let docker = fake(tmp.path(), "docker");
        // ps -a --filter …: config ids; ps -q: container ids; ps -a --format: names.
        std::fs::write(tmp.path().join("answer-ps--a"), "old1\nkept\nold1\n").unwrap();
        std::fs::write(tmp.path().join("answer-ps--q"), "111\n222\n").unwrap();
        std::fs::write(
            tmp.path().join("answer-ps-names"),
            "web-abcd1234 web\nweb-efgh5678 web\ndb db\nplain\n",
        )
        .unwrap();
        let deployments = [
            deployment("kept", "a", "docker-cmd", json!({})),
            deployment("old1", "b", "script", json!("")),
        ];
        let done = reconcile_docker_cmd(&deployments, &docker, None)
            .await
            .unwrap();
        assert_eq!(
            calls(tmp.path()),
            vec![
                "ps|-a|--filter|label=managed_by=docker-cmd|--format|{{.Label \"config_id\"}}",
                "ps|-q|-a|--filter|label=managed_by=docker-cmd|--filter|label=config_id=old1",
                "rm|-f|111",
                "rm|-f|222",
                "ps|-a|--format|{{.Names}} {{.Label \"container_name\"}}",
                "rename|web-abcd1234|web",
            ]
        );
        assert_eq!(done.removed, vec!["111", "222"]);
        assert_eq!(
            done.renamed,
            vec![("web-abcd1234".to_string(), "web".to_string())]
        );
        assert!(done.problems.is_empty());
    }

    #[tokio::test]
    async fn a_missing_docker_is_an_error() {
        let err = reconcile_docker_cmd(&[], "/nonexistent/docker", None)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("set HEAT_DOCKER_CMD"), "{err}");
    }

    #[tokio::test]
    async fn stale_compose_projects_are_killed_and_current_ones_written() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = ComposeSettings {
            working: tmp.path().join("work"),
            command: fake(tmp.path(), "docker-compose"),
        };
        for project in ["gone", "kept"] {
            std::fs::create_dir_all(settings.working.join(project)).unwrap();
            std::fs::write(settings.working.join(project).join(COMPOSE_FILE), "x: 1\n").unwrap();
        }
        std::fs::create_dir_all(settings.working.join("no-file")).unwrap();
        let deployments = [
            deployment(
                "1",
                "kept",
                "docker-compose",
                json!({"web": {"image": "nginx"}}),
            ),
            deployment(
                "2",
                "new",
                "docker-compose",
                json!("web:\n  image: redis\n"),
            ),
            deployment("3", "no-file", "script", json!("")),
        ];
        let done = reconcile_docker_compose(&deployments, &settings, None)
            .await
            .unwrap();
        let work = tmp.path().join("work");
        assert_eq!(calls(tmp.path()), vec!["kill"]);
        let cwd = std::fs::read_to_string(tmp.path().join("calls")).unwrap();
        assert!(
            cwd.starts_with(&format!("{}|", work.join("gone").display())),
            "{cwd}"
        );
        assert_eq!(done.killed, vec!["gone"]);
        assert_eq!(done.written, vec!["kept", "new"]);
        assert!(!work.join("gone").join(COMPOSE_FILE).exists());
        assert_eq!(
            std::fs::read_to_string(work.join("kept").join(COMPOSE_FILE)).unwrap(),
            "web:\n  image: nginx\n"
        );
        assert_eq!(
            std::fs::read_to_string(work.join("new").join(COMPOSE_FILE)).unwrap(),
            "web:\n  image: redis\n"
        );
        // Nothing changed: nothing killed or written the second time.
        let again = reconcile_docker_compose(&deployments, &settings, None)
            .await
            .unwrap();
        assert_eq!(again, DockerComposeReconciled::default());
    }
}
