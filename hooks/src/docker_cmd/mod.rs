//! The built-in `docker-cmd` hook, as heat-agents' `docker-cmd` hook: `config` (a map, or
//! YAML text of one) names containers; each, in `start_order` (then document order), is
//! either started
//!
//! ```text
//! docker inspect --format exists <name>          (until a free name: <name>-xxxxxxxx)
//! docker run --name <free name> --label deploy_stack_id=… --label deploy_resource_name=…
//!     --label config_id=<deployment id> --label container_name=<name> --label managed_by=docker-cmd
//!     [--detach=true] [--env-file=…]… [--env=…]… [--net=…] [--pid=…] [--privileged=true|false]
//!     [--restart=…] [--user=…] [--volume=…]… [--volumes-from=…]… <image> [command…]
//! ```
//!
//! or, with `action: exec`, run in a container this deployment started (its name found
//! with `docker ps -a --filter label=container_name=… --filter label=config_id=… --format
//! {{.Names}}`): `docker exec [--privileged=…] [--user=…] <container> <command…>`.
//! A container's exit code outside its `exit_codes` (default `[0]`) becomes the
//! deployment's status; later containers still run, as upstream. `deploy_action: DELETE`
//! does nothing (the orc step, [`crate::docker_reconcile`], removes the containers of
//! configs no longer deployed). `HEAT_DOCKER_CMD` names docker (default `docker`).
//!
//! Fixes: docker's stdout is never printed before the JSON reply (upstream echoes it,
//! so `docker run -d`'s container id made the reply unparseable); it is in
//! `deploy_stdout`. The whole config is checked before any container starts, and a bad
//! entry fails the deployment naming it (`config.web.volumes: …`) where upstream crashes
//! or passes the bad value to docker; a missing docker fails clearly (upstream crashes);
//! the hook timeout bounds the whole run; the name search gives up after
//! [`NAME_ATTEMPTS`]; `volumes_from` is passed as docker's `--volumes-from` (upstream
//! writes `--volumes_from`, a flag docker does not document).

mod config;

use std::time::Duration;

use tokio::process::Command;
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::process::Completion;
use crate::python_json::str_of;
use crate::script::completion_payload;
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

pub use config::ConfigError;
pub(crate) use config::{Action, parse_config};

/// How many names `docker inspect` is asked about before giving up on a free one.
pub const NAME_ATTEMPTS: usize = 64;

/// The label that marks the containers this hook started.
pub const MANAGED_BY: &str = "managed_by=docker-cmd";

/// With what the hook runs docker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerCmdSettings {
    /// The `docker` command.
    pub command: String,
}

impl DockerCmdSettings {
    /// From the environment (`HEAT_DOCKER_CMD`), with upstream's default.
    pub fn from_env() -> Self {
        DockerCmdSettings {
            command: env_or("HEAT_DOCKER_CMD", "docker"),
        }
    }
}

pub(crate) const HOOK: ToolHook = ToolHook {
    name: "docker-cmd",
    package: "docker (docker.io or docker-ce)",
    command_env: "HEAT_DOCKER_CMD",
};

/// The `--label` arguments upstream gives every container it starts.
pub(crate) fn label_args(container: &str, deployment: &Deployment) -> Vec<String> {
    let input = |name: &str| {
        deployment
            .input(name)
            .map_or_else(|| "None".to_string(), str_of)
    };
    [
        format!("deploy_stack_id={}", input("deploy_stack_id")),
        format!("deploy_resource_name={}", input("deploy_resource_name")),
        format!("config_id={}", deployment.id),
        format!("container_name={container}"),
        MANAGED_BY.to_string(),
    ]
    .into_iter()
    .flat_map(|label| ["--label".to_string(), label])
    .collect()
}

/// Eight characters of `[a-z0-9]`, different on every call.
pub(crate) fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    let mut bits = hasher.finish();
    (0..8)
        .map(|_| {
            let c = ALPHABET[(bits % 36) as usize];
            bits /= 36;
            char::from(c)
        })
        .collect()
}

/// Runs docker for one deployment, within one deadline for the whole hook.
pub(crate) struct Docker<'a> {
    pub(crate) program: &'a str,
    pub(crate) id: &'a str,
    pub(crate) deadline: Option<Instant>,
}

impl Docker<'_> {
    /// Runs `docker <args>`; a missing docker or a spawn failure is the failed payload.
    pub(crate) async fn run(&self, args: &[String]) -> Result<Completion, SignalPayload> {
        let remaining = self
            .deadline
            .map(|at| at.saturating_duration_since(Instant::now()));
        let mut command = Command::new(self.program);
        command.args(args);
        HOOK.run(self.id, command, self.program, remaining).await
    }

    /// The first of `name`, `name-xxxxxxxx`, … that `docker inspect` does not know.
    async fn unique_name(&self, name: &str) -> Result<Result<String, Completion>, SignalPayload> {
        let mut candidate = name.to_string();
        for _ in 0..NAME_ATTEMPTS {
            let args = ["inspect", "--format", "exists", candidate.as_str()].map(String::from);
            let done = self.run(&args).await?;
            if done.timed_out {
                return Ok(Err(done));
            }
            // As upstream: the name is taken when inspect succeeds and prints anything.
            if done.code != 0 || done.stdout.is_empty() {
                return Ok(Ok(candidate));
            }
            candidate = format!("{name}-{}", random_suffix());
        }
        Err(HOOK.failed(
            self.id,
            format!("config.{name}: no free container name after {NAME_ATTEMPTS} tries"),
        ))
    }

    /// The container of this deployment labelled `container_name=<name>`, or `name`.
    async fn discover(&self, name: &str) -> Result<Result<String, Completion>, SignalPayload> {
        let args = [
            "ps".to_string(),
            "-a".into(),
            "--filter".into(),
            format!("label=container_name={name}"),
            "--filter".into(),
            format!("label=config_id={}", self.id),
            "--format".into(),
            "{{.Names}}".into(),
        ];
        let done = self.run(&args).await?;
        if done.timed_out {
            return Ok(Err(done));
        }
        if done.code != 0 {
            return Ok(Ok(name.to_string()));
        }
        Ok(Ok(done
            .stdout
            .split_whitespace()
            .next()
            .unwrap_or(name)
            .to_string()))
    }
}

/// Runs `deployment` through docker.
pub async fn run(
    deployment: &Deployment,
    settings: &DockerCmdSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &DockerCmdSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    if deployment.action() == "DELETE" {
        return Ok(SignalPayload::new("", "", 0));
    }
    let containers = match parse_config(&deployment.config) {
        Ok(Some(containers)) => containers,
        Ok(None) => {
            tracing::debug!(id, "docker-cmd: empty config, nothing to do");
            return Ok(SignalPayload::new("", "", 0));
        }
        Err(err) => return Err(HOOK.failed(id, err)),
    };
    let docker = Docker {
        program: &settings.command,
        id,
        deadline: timeout.map(|t| Instant::now() + t),
    };
    let (mut stdouts, mut stderrs) = (Vec::new(), Vec::new());
    let timed_out = |done: Completion, stdouts: &mut Vec<String>, stderrs: &mut Vec<String>| {
        stdouts.push(done.stdout);
        stderrs.push(done.stderr);
        let done = Completion {
            stdout: stdouts.join("\n"),
            stderr: stderrs.join("\n"),
            code: done.code,
            timed_out: true,
        };
        completion_payload(id, done, timeout)
    };
    let mut status = 0;
    for container in &containers {
        tracing::debug!(id, container = %container.name, action = ?container.action, "docker-cmd: container");
        let mut args: Vec<String> = Vec::new();
        match (&container.action, &container.exec) {
            (Action::Exec, Some((target, command))) => {
                let target = match docker.discover(target).await? {
                    Ok(found) => found,
                    Err(done) => return Err(timed_out(done, &mut stdouts, &mut stderrs)),
                };
                args.push("exec".into());
                args.extend(container.args.iter().cloned());
                args.push(target);
                args.extend(command.iter().cloned());
            }
            _ => {
                let name = match docker.unique_name(&container.name).await? {
                    Ok(name) => name,
                    Err(done) => return Err(timed_out(done, &mut stdouts, &mut stderrs)),
                };
                args.extend(["run".to_string(), "--name".into(), name]);
                args.extend(label_args(&container.name, deployment));
                args.extend(container.args.iter().cloned());
            }
        }
        let done = docker.run(&args).await?;
        if done.timed_out {
            return Err(timed_out(done, &mut stdouts, &mut stderrs));
        }
        if !done.stdout.is_empty() {
            stdouts.push(done.stdout);
        }
        if !done.stderr.is_empty() {
            stderrs.push(done.stderr);
        }
        if container.exit_codes.contains(&done.code) {
            tracing::debug!(id, container = %container.name, code = done.code, "docker-cmd: done");
        } else {
            tracing::warn!(id, container = %container.name, code = done.code, "docker-cmd: container command failed");
            status = done.code;
        }
    }
    Ok(SignalPayload::new(
        stdouts.join("\n"),
        stderrs.join("\n"),
        status,
    ))
}

#[cfg(test)]
mod tests {
    use super::config::is_container_name;
    use super::*;
    use serde_json::Value;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn deployment(config: Value) -> Deployment {
        serde_json::from_value(json!({
            "id": "abc123", "name": "d", "group": "docker-cmd", "config": config,
            "inputs": [
                {"name": "deploy_stack_id", "value": "the_stack"},
                {"name": "deploy_resource_name", "value": "the_deployment"},
            ],
        }))
        .unwrap()
    }

    /// A recording fake docker: appends its argv (one line, words joined by `|`) to
    /// `calls`, answers `inspect` for names listed in `taken`, `ps` with `web-found`,
    /// prints `out:<subcommand>` on stdout and `err:<subcommand>` on stderr for run/exec,
    /// and exits 3 for `exec`.
    fn fake_docker(dir: &Path) -> String {
        let path = dir.join("docker");
        let script = format!(
            r#"#!/bin/sh
calls={calls}
(IFS='|'; echo "$*") >> "$calls"
case "$1" in
  inspect) grep -qx "$4" {taken} 2>/dev/null && {{ echo exists; exit 0; }}; echo "no such: $4" >&2; exit 1 ;;
  ps) echo web-found ;;
  run) echo "out:run"; echo "err:run" >&2 ;;
  exec) echo "out:exec"; echo "err:exec" >&2; exit 3 ;;
esac
"#,
            calls = dir.join("calls").display(),
            taken = dir.join("taken").display(),
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    fn calls(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    #[tokio::test]
    async fn containers_run_in_start_order_with_upstreams_argv() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = DockerCmdSettings {
            command: fake_docker(tmp.path()),
        };
        let config = json!({
            "db": {"image": "xxx", "privileged": false, "environment": ["foo=bar", ""],
                   "env_file": "env.file", "start_order": 0},
            "web-ls": {"action": "exec", "start_order": 2, "command": ["web", "/bin/ls", "-l"],
                       "exit_codes": [0, 3], "user": "root"},
            "web": {"start_order": 1, "image": "yyy", "net": "host", "restart": "always",
                    "privileged": true, "user": "root", "command": "/bin/webserver  start",
                    "volumes": ["/run:/run"], "volumes_from": ["db"], "pid": "host",
                    "env_file": ["foo.env", "bar.conf"], "detach": false},
        });
        let out = run(
            &deployment(config),
            &settings,
            Some(Duration::from_secs(30)),
        )
        .await;
        assert_eq!(
            out,
            SignalPayload::new(
                "out:run\n\nout:run\n\nout:exec\n",
                "err:run\n\nerr:run\n\nerr:exec\n",
                0
            )
        );
        let labels = |c: &str| {
            format!(
                "--label|deploy_stack_id=the_stack|--label|deploy_resource_name=the_deployment|--label|config_id=abc123|--label|container_name={c}|--label|managed_by=docker-cmd"
            )
        };
        assert_eq!(
            calls(tmp.path()),
            vec![
                "inspect|--format|exists|db".to_string(),
                format!("run|--name|db|{}|--detach=true|--env-file=env.file|--env=foo=bar|--privileged=false|xxx", labels("db")),
                "inspect|--format|exists|web".to_string(),
                format!("run|--name|web|{}|--env-file=foo.env|--env-file=bar.conf|--net=host|--pid=host|--privileged=true|--restart=always|--user=root|--volume=/run:/run|--volumes-from=db|yyy|/bin/webserver|start", labels("web")),
                "ps|-a|--filter|label=container_name=web|--filter|label=config_id=abc123|--format|{{.Names}}".to_string(),
                "exec|--user=root|web-found|/bin/ls|-l".to_string(),
            ]
        );
    }

    #[tokio::test]
    async fn a_taken_name_gets_a_random_suffix_and_a_failing_exit_code_is_the_status() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("taken"), "web\n").unwrap();
        let settings = DockerCmdSettings {
            command: fake_docker(tmp.path()),
        };
        let config = json!({
            "web": {"image": "nginx"},
            "check": {"action": "exec", "command": "web true", "start_order": 5},
        });
        let out = run(&deployment(config), &settings, None).await;
        assert_eq!(out.status_code(), Some(3), "{out:?}");
        let calls = calls(tmp.path());
        assert_eq!(calls[0], "inspect|--format|exists|web");
        let suffixed = calls[1]
            .strip_prefix("inspect|--format|exists|web-")
            .unwrap();
        assert_eq!(suffixed.len(), 8);
        assert!(
            suffixed
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert!(
            calls[2].starts_with(&format!("run|--name|web-{suffixed}|")),
            "{calls:?}"
        );
        assert!(calls[2].contains("|container_name=web|"), "{calls:?}");
    }

    #[tokio::test]
    async fn yaml_text_with_booleans_is_a_config() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = DockerCmdSettings {
            command: fake_docker(tmp.path()),
        };
        let config = json!("web:\n  image: nginx\n  privileged: yes\n  detach: false\n");
        let out = run(&deployment(config), &settings, None).await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        let calls = calls(tmp.path());
        assert!(
            calls[1].ends_with("|managed_by=docker-cmd|--privileged=true|nginx"),
            "{calls:?}"
        );
    }

    #[tokio::test]
    async fn delete_and_empty_configs_do_nothing() {
        let settings = DockerCmdSettings {
            command: "/nonexistent/docker".into(),
        };
        let mut d = deployment(json!({"web": {"image": "x"}}));
        d.inputs.push(
            serde_json::from_value(json!({"name": "deploy_action", "value": "DELETE"})).unwrap(),
        );
        assert_eq!(
            run(&d, &settings, None).await,
            SignalPayload::new("", "", 0)
        );
        for empty in [json!(null), json!(""), json!({}), json!("# nothing\n")] {
            assert_eq!(
                run(&deployment(empty.clone()), &settings, None).await,
                SignalPayload::new("", "", 0),
                "{empty}"
            );
        }
    }

    #[tokio::test]
    async fn bad_entries_fail_before_anything_runs_naming_the_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = DockerCmdSettings {
            command: fake_docker(tmp.path()),
        };
        let cases = [
            (
                json!({"ok": {"image": "x"}, "web": "nginx"}),
                "config.web: must be a map, not a string",
            ),
            (
                json!({"web": {"image": "x", "volumes": "/a:/b"}}),
                "config.web.volumes: must be a list, not a string",
            ),
            (
                json!({"web": {}}),
                "config.web.image: required for action \"run\"",
            ),
            (
                json!({"web": {"image": "x", "action": "stop"}}),
                "config.web.action: must be \"run\" or \"exec\", not \"stop\"",
            ),
            (
                json!({"web": {"action": "exec"}}),
                "config.web.command: required for action \"exec\"",
            ),
            (
                json!({"web": {"image": "x", "start_order": "1"}}),
                "config.web.start_order: must be a number, not a string",
            ),
            (
                json!({"web": {"image": "x", "exit_codes": [0, "1"]}}),
                "config.web.exit_codes[1]: must be an integer, not a string",
            ),
            (
                json!({"-rm": {"image": "x"}}),
                "config.-rm: is not a container name",
            ),
            (
                json!(["web"]),
                "config must be a map of containers (or YAML text of one), not a list",
            ),
            (json!("web: [unclosed"), "config is not valid YAML"),
            (
                json!("- web\n"),
                "config must be a map of containers (or YAML text of one), not a list",
            ),
        ];
        for (config, message) in cases {
            let out = run(&deployment(config.clone()), &settings, None).await;
            assert_eq!(out.status_code(), Some(1), "{config}");
            let stderr = out.0["deploy_stderr"].as_str().unwrap();
            assert!(
                stderr.starts_with(&format!("docker-cmd: {message}")),
                "{config}: {stderr}"
            );
        }
        assert!(calls(tmp.path()).is_empty());
    }

    #[tokio::test]
    async fn a_missing_docker_fails_clearly() {
        let settings = DockerCmdSettings {
            command: "/nonexistent/docker".into(),
        };
        let out = run(&deployment(json!({"web": {"image": "x"}})), &settings, None).await;
        assert_eq!(out.status_code(), Some(1));
        let stderr = out.0["deploy_stderr"].as_str().unwrap();
        assert!(
            stderr.starts_with("docker-cmd: /nonexistent/docker is not installed")
                && stderr.contains("set HEAT_DOCKER_CMD"),
            "{stderr}"
        );
    }

    #[tokio::test]
    async fn the_timeout_covers_the_whole_run_and_kills_docker() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("docker");
        std::fs::write(
            &path,
            "#!/bin/sh\ncase \"$1\" in inspect) exit 1;; esac\necho started\nsleep 30\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let settings = DockerCmdSettings {
            command: path.display().to_string(),
        };
        let began = std::time::Instant::now();
        let out = run(
            &deployment(json!({"web": {"image": "x"}})),
            &settings,
            Some(Duration::from_secs(1)),
        )
        .await;
        assert!(began.elapsed() < Duration::from_secs(10));
        assert_eq!(
            out.status_code(),
            Some(crate::script::TIMEOUT_STATUS),
            "{out:?}"
        );
        assert_eq!(out.0["deploy_stdout"], "started\n");
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("timed out after 1s")
        );
    }

    #[test]
    fn container_names_are_checked_as_docker_does() {
        assert!(is_container_name("web-1.a_b"));
        for bad in ["", "-x", "_x", "a b", "a/b", "é"] {
            assert!(!is_container_name(bad), "{bad:?}");
        }
        assert_ne!(random_suffix(), random_suffix());
    }
}
