//! The built-in `docker-compose` hook, as heat-agents' `docker-compose` hook: the
//! deployment's `name` is the compose project, `<working>/<name>/`; its `config` (a map,
//! or YAML text) is the compose file; the input `env_files` (a list of `{file_name,
//! content}`) supplies the `env_file`s the services name, written relative to the project
//! directory (0600); then, in that directory,
//!
//! ```text
//! docker-compose up -d --no-build
//! ```
//!
//! `deploy_action: DELETE` does nothing (stale projects are killed by the orc step,
//! [`crate::docker_reconcile`]). Environment overrides as upstream:
//! `HEAT_DOCKER_COMPOSE_WORKING` (default `/var/lib/heat-config/heat-config-docker-compose`)
//! and `HEAT_DOCKER_COMPOSE_CMD` (default `docker-compose`).
//!
//! Upstream's orc script writes `<working>/<name>/docker-compose.yml` before the hook
//! runs; this agent has no such step before its hooks, so the hook writes it (0600) when
//! it is missing or differs: a map as PyYAML's `safe_dump(default_flow_style=False)`
//! writes it, text as given ([`write_compose_file`], shared with the orc step).
//!
//! Fixes: YAML text holding booleans or nulls works (upstream round-trips it through
//! `ast.literal_eval`, which cannot read `true`); `env_files` may be a JSON list, a
//! Python-literal list (upstream's only form) or a list value; the services of a
//! `services:`-style (version 2/3) file are searched for `env_file`s (upstream crashes on
//! the `version` string); env files are replaced, not overwritten in place; a missing
//! docker-compose, a bad name or bad input fails clearly; the hook timeout kills the run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::process::Command;

use crate::deployment::Deployment;
use crate::json_file::kind;
use crate::json_files::{WriteError, write_text_file};
use crate::names::is_safe_file_name;
use crate::python_json::truthy;
use crate::script::{completion_payload, create_dir};
use crate::signal::SignalPayload;
use crate::tool_hook::{ToolHook, env_or};

/// The compose file in a project directory.
pub const COMPOSE_FILE: &str = "docker-compose.yml";

/// Where and with what the hook runs docker-compose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeSettings {
    /// The directory holding one project directory per deployment name.
    pub working: PathBuf,
    /// The `docker-compose` command.
    pub command: String,
}

impl ComposeSettings {
    /// From the environment, with upstream's defaults.
    pub fn from_env() -> Self {
        ComposeSettings {
            working: env_or(
                "HEAT_DOCKER_COMPOSE_WORKING",
                "/var/lib/heat-config/heat-config-docker-compose",
            )
            .into(),
            command: env_or("HEAT_DOCKER_COMPOSE_CMD", "docker-compose"),
        }
    }
}

const HOOK: ToolHook = ToolHook {
    name: "docker-compose",
    package: "docker-compose",
    command_env: "HEAT_DOCKER_COMPOSE_CMD",
};

/// Input the hook cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// The config is neither a map nor YAML text of one.
    #[error("config must be a compose file: a map, or YAML text of one ({0})")]
    Config(String),
    /// `env_files` is malformed.
    #[error("inputs.env_files{path}: {message}")]
    EnvFiles {
        /// `[1].content`, … (empty for the whole value).
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn env_files_error(path: impl Into<String>, message: impl Into<String>) -> ComposeError {
    ComposeError::EnvFiles {
        path: path.into(),
        message: message.into(),
    }
}

/// The compose file's text for `config`: text as given, a map as PyYAML dumps it;
/// `None` for anything else.
pub fn compose_text(config: &Value) -> Option<String> {
    match config {
        Value::String(text) => Some(text.clone()),
        Value::Object(_) => Some(crate::pyyaml::safe_dump(config)),
        _ => None,
    }
}

/// Writes `<working>/<name>/docker-compose.yml` (0600; the directories 0700) from
/// `config` unless it already holds exactly that; returns whether it wrote.
pub fn write_compose_file(working: &Path, name: &str, config: &Value) -> Result<bool, WriteError> {
    let Some(text) = compose_text(config) else {
        return Ok(false);
    };
    let path = working.join(name).join(COMPOSE_FILE);
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(false);
    }
    write_text_file(&path, &text, 0o600)?;
    Ok(true)
}

/// The config as data: a map, or YAML text of one (`None`: nothing to do).
fn config_map(config: &Value) -> Result<Option<Map<String, Value>>, ComposeError> {
    let loaded = match config {
        Value::String(text) => crate::pyyaml::load(text)
            .map_err(|e| ComposeError::Config(e.to_string()))?
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match loaded {
        Value::Object(map) => Ok(Some(map)),
        v if !truthy(&v) => Ok(None),
        other => Err(ComposeError::Config(format!("not {}", kind(&other)))),
    }
}

/// The `env_file`s the services name, in order: the `services:` map's entries when there
/// is one (compose file versions 2 and 3), else the top-level entries (version 1).
pub(crate) fn compose_env_files(config: &Map<String, Value>) -> Vec<String> {
    let services = match config.get("services") {
        Some(Value::Object(services)) => services,
        _ => config,
    };
    let mut files = Vec::new();
    for service in services.values() {
        match service.get("env_file") {
            Some(Value::String(file)) => files.push(file.clone()),
            Some(Value::Array(list)) => {
                files.extend(list.iter().filter_map(Value::as_str).map(String::from));
            }
            _ => {}
        }
    }
    files
}

/// The `env_files` input: `(file_name, content)` pairs.
pub(crate) fn parse_env_files(
    value: Option<&Value>,
) -> Result<Vec<(String, String)>, ComposeError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(list) => list,
            Err(_) => python_literal(text).map_err(|e| {
                env_files_error("", format!("neither a JSON nor a Python list: {e}"))
            })?,
        },
        Some(other) => other.clone(),
    };
    let Value::Array(items) = list else {
        return Err(env_files_error(
            "",
            format!("must be a list, not {}", kind(&list)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| match item.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(env_files_error(
                    format!("[{i}].{name}"),
                    format!("must be a string, not {}", kind(other)),
                )),
                None => Err(env_files_error(format!("[{i}]"), format!("has no {name}"))),
            };
            if !item.is_object() {
                return Err(env_files_error(
                    format!("[{i}]"),
                    format!(
                        "must be a map with file_name and content, not {}",
                        kind(item)
                    ),
                ));
            }
            Ok((field("file_name")?, field("content")?))
        })
        .collect()
}

/// Runs `deployment` through docker-compose.
pub async fn run(
    deployment: &Deployment,
    settings: &ComposeSettings,
    timeout: Option<Duration>,
) -> SignalPayload {
    match apply(deployment, settings, timeout).await {
        Ok(payload) | Err(payload) => payload,
    }
}

async fn apply(
    deployment: &Deployment,
    settings: &ComposeSettings,
    timeout: Option<Duration>,
) -> Result<SignalPayload, SignalPayload> {
    let id = deployment.id.as_str();
    let name = deployment.name.as_str();
    if !is_safe_file_name(name) {
        return Err(HOOK.failed(
            id,
            format!("deployment name {name:?} cannot name a compose project directory"),
        ));
    }
    let working = create_dir(&settings.working)
        .await
        .map_err(|e| HOOK.failed(id, e))?;
    let project = create_dir(&working.join(name))
        .await
        .map_err(|e| HOOK.failed(id, e))?;
    if deployment.action() == "DELETE" {
        return Ok(SignalPayload::new("", "", 0));
    }
    let config = match config_map(&deployment.config) {
        Ok(Some(config)) => config,
        Ok(None) => {
            tracing::debug!(id, "docker-compose: empty config, nothing to do");
            return Ok(SignalPayload::new("", "", 0));
        }
        Err(err) => return Err(HOOK.failed(id, err)),
    };
    let inputs = parse_env_files(deployment.input("env_files")).map_err(|e| HOOK.failed(id, e))?;

    let wanted = compose_env_files(&config);
    let mut files: Vec<(PathBuf, String, u32)> = Vec::new();
    for file in &wanted {
        if let Some((_, content)) = inputs.iter().find(|(n, _)| n == file) {
            files.push((project.join(file), content.clone(), 0o600));
        }
    }
    let (working_dir, project_name, config_value) =
        (working.clone(), name.to_string(), deployment.config.clone());
    let written = tokio::task::spawn_blocking(move || {
        write_compose_file(&working_dir, &project_name, &config_value)
    })
    .await;
    match written {
        Ok(Ok(true)) => tracing::debug!(id, "docker-compose: wrote {COMPOSE_FILE}"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => return Err(HOOK.failed(id, e)),
        Err(e) => return Err(HOOK.failed(id, e)),
    }
    HOOK.write(id, files).await?;

    let mut command = Command::new(&settings.command);
    command
        .current_dir(&project)
        .args(["up", "-d", "--no-build"]);
    let done = HOOK.run(id, command, &settings.command, timeout).await?;
    if done.code != 0 {
        tracing::warn!(id, code = done.code, "docker-compose up failed");
    }
    Ok(completion_payload(id, done, timeout))
}

/// Reads a Python literal (`ast.literal_eval`'s lists, dicts, tuples, strings, numbers,
/// `True`, `False`, `None`) as JSON data.
pub(crate) fn python_literal(text: &str) -> Result<Value, String> {
    let mut parser = Literal {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = parser.value()?;
    parser.skip_space();
    if parser.at < parser.chars.len() {
        return Err(format!("unexpected text at character {}", parser.at));
    }
    Ok(value)
}

struct Literal {
    chars: Vec<char>,
    at: usize,
}

impl Literal {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {c:?} at character {}", self.at))
        }
    }

    /// Items up to `close`, separated by commas (a trailing comma allowed).
    fn items<T>(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut out = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.at += 1;
                return Ok(out);
            }
            out.push(item(self)?);
            match self.peek() {
                Some(',') => self.at += 1,
                Some(c) if c == close => {}
                _ => {
                    return Err(format!(
                        "expected ',' or {close:?} at character {}",
                        self.at
                    ));
                }
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some('[') => {
                self.at += 1;
                Ok(Value::Array(self.items(']', Self::value)?))
            }
            Some('(') => {
                self.at += 1;
                Ok(Value::Array(self.items(')', Self::value)?))
            }
            Some('{') => {
                self.at += 1;
                let pairs = self.items('}', |p| {
                    let key = match p.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    p.expect(':')?;
                    Ok((key, p.value()?))
                })?;
                Ok(Value::Object(pairs.into_iter().collect()))
            }
            Some(q @ ('\'' | '"')) => self.string(q),
            Some(_) => self.word(),
            None => Err("unexpected end".into()),
        }
    }

    fn string(&mut self, quote: char) -> Result<Value, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.chars.get(self.at).copied() else {
                return Err("unterminated string".into());
            };
            self.at += 1;
            match c {
                c if c == quote => return Ok(Value::String(out)),
                '\\' => {
                    let Some(e) = self.chars.get(self.at).copied() else {
                        return Err("unterminated string".into());
                    };
                    self.at += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\n' => {}
                        'x' | 'u' | 'U' => {
                            let len = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String = self.chars.iter().skip(self.at).take(len).collect();
                            self.at += len;
                            let ch = u32::from_str_radix(&hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| format!("bad escape \\{e}{hex}"))?;
                            out.push(ch);
                        }
                        '\\' | '\'' | '"' => out.push(e),
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn word(&mut self) -> Result<Value, String> {
        let start = self.at;
        while self
            .chars
            .get(self.at)
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        {
            self.at += 1;
        }
        let word: String = self.chars[start..self.at].iter().collect();
        match word.as_str() {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            "" => Err(format!("unexpected character at {start}")),
            number => serde_json::from_str::<Value>(&number.replace('_', ""))
                .ok()
                .filter(Value::is_number)
                .ok_or_else(|| format!("{number:?} is not a literal")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    fn deployment(config: Value, env_files: Option<Value>) -> Deployment {
        let inputs: Vec<Value> = env_files
            .into_iter()
            .map(|v| json!({"name": "env_files", "value": v}))
            .collect();
        serde_json::from_value(json!({
            "id": "c-1", "name": "abcdef001", "group": "docker-compose", "config": config,
            "inputs": inputs,
        }))
        .unwrap()
    }

    /// A recording fake docker-compose: writes its argv, cwd and the env files it finds
    /// to `record`, prints `up` and `Creating…` on stderr.
    fn fake_compose(dir: &Path) -> String {
        let path = dir.join("docker-compose");
        let script = format!(
            "#!/bin/sh\n{{ echo \"argv: $*\"; echo \"cwd: $(pwd)\"; cat common.env test1.env 2>/dev/null; }} > {record}\necho up\necho Creating >&2\n",
            record = dir.join("record").display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    fn settings(tmp: &tempfile::TempDir, command: String) -> ComposeSettings {
        ComposeSettings {
            working: tmp.path().join("work"),
            command,
        }
    }

    #[tokio::test]
    async fn env_files_and_the_compose_file_are_written_and_up_runs_in_the_project() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_compose(tmp.path()));
        let config = json!({
            "web": {"image": "nginx", "env_file": ["./common.env", "./missing.env"]},
            "db": {"image": "redis", "env_file": "./test1.env"},
        });
        let env_files = json!(
            "[ { 'file_name': './common.env', 'content': 'A=1\\n' }, \
             {\"file_name\": \"./test1.env\", \"content\": \"B=2\\n\"}, {'file_name': './unused.env', 'content': 'x'} ]"
        );
        let out = run(&deployment(config.clone(), Some(env_files)), &s, None).await;
        assert_eq!(out, SignalPayload::new("up\n", "Creating\n", 0));
        let project = std::fs::canonicalize(tmp.path().join("work/abcdef001")).unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("record")).unwrap(),
            format!(
                "argv: up -d --no-build\ncwd: {}\nA=1\nB=2\n",
                project.display()
            )
        );
        let yml = project.join(COMPOSE_FILE);
        assert_eq!(
            std::fs::read_to_string(&yml).unwrap(),
            "db:\n  env_file: ./test1.env\n  image: redis\nweb:\n  env_file:\n  - ./common.env\n  - ./missing.env\n  image: nginx\n"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&yml), 0o600);
        assert_eq!(mode(&project.join("common.env")), 0o600);
        assert!(!project.join("unused.env").exists());
    }

    #[tokio::test]
    async fn yaml_text_with_booleans_is_written_as_given() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_compose(tmp.path()));
        let text = "version: '3'\nservices:\n  web:\n    image: nginx\n    tty: true\n    privileged: false\n    env_file: ./common.env\n";
        let env_files = json!([{"file_name": "./common.env", "content": "A=1\n"}]);
        let out = run(&deployment(json!(text), Some(env_files)), &s, None).await;
        assert_eq!(out.status_code(), Some(0), "{out:?}");
        let project = tmp.path().join("work/abcdef001");
        assert_eq!(
            std::fs::read_to_string(project.join(COMPOSE_FILE)).unwrap(),
            text
        );
        assert_eq!(
            std::fs::read_to_string(project.join("common.env")).unwrap(),
            "A=1\n"
        );
    }

    #[tokio::test]
    async fn bad_input_fails_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, fake_compose(tmp.path()));
        let cases = [
            (
                deployment(json!({"web": {}}), Some(json!("[{'file_name': 1}]"))),
                "docker-compose: inputs.env_files[0].file_name: must be a string, not a number",
            ),
            (
                deployment(json!({"web": {}}), Some(json!("{'a': 1}"))),
                "docker-compose: inputs.env_files: must be a list, not a map",
            ),
            (
                deployment(json!({"web": {}}), Some(json!("[oops"))),
                "docker-compose: inputs.env_files: neither a JSON nor a Python list",
            ),
            (
                deployment(json!({"web": {}}), Some(json!(["x"]))),
                "docker-compose: inputs.env_files[0]: must be a map with file_name and content, not a string",
            ),
            (
                deployment(json!("- a\n"), None),
                "docker-compose: config must be a compose file",
            ),
            (
                deployment(json!(5), None),
                "docker-compose: config must be a compose file",
            ),
        ];
        for (d, message) in cases {
            let out = run(&d, &s, None).await;
            assert_eq!(out.status_code(), Some(1), "{message}");
            let stderr = out.0["deploy_stderr"].as_str().unwrap();
            assert!(stderr.starts_with(message), "{stderr}");
        }
        let mut d = deployment(json!({"web": {}}), None);
        d.name = "../x".into();
        let out = run(&d, &s, None).await;
        assert!(
            out.0["deploy_stderr"]
                .as_str()
                .unwrap()
                .contains("cannot name a compose project")
        );
        assert!(!tmp.path().join("record").exists());
    }

    #[tokio::test]
    async fn a_missing_docker_compose_fails_clearly_and_delete_does_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(&tmp, "/nonexistent/docker-compose".into());
        let out = run(&deployment(json!({"web": {"image": "x"}}), None), &s, None).await;
        assert_eq!(out.status_code(), Some(1));
        let stderr = out.0["deploy_stderr"].as_str().unwrap();
        assert!(
            stderr.starts_with("docker-compose: /nonexistent/docker-compose is not installed"),
            "{stderr}"
        );
        assert!(stderr.contains("set HEAT_DOCKER_COMPOSE_CMD"), "{stderr}");
        let mut d = deployment(json!({"web": {"image": "x"}}), None);
        d.inputs.push(
            serde_json::from_value(json!({"name": "deploy_action", "value": "DELETE"})).unwrap(),
        );
        assert_eq!(run(&d, &s, None).await, SignalPayload::new("", "", 0));
    }

    #[test]
    fn env_files_parse_as_json_python_literals_or_lists() {
        let want = vec![("./a.env".to_string(), "x=1".to_string())];
        for value in [
            json!("[{\"file_name\": \"./a.env\", \"content\": \"x=1\"}]"),
            json!("[{'file_name': './a.env', 'content': 'x=1',},]"),
            json!("({'file_name': \"./a.env\", 'content': 'x\\x3d1'},)"),
            json!([{"file_name": "./a.env", "content": "x=1"}]),
        ] {
            assert_eq!(parse_env_files(Some(&value)).unwrap(), want, "{value}");
        }
        assert_eq!(parse_env_files(None).unwrap(), vec![]);
        assert_eq!(parse_env_files(Some(&json!(""))).unwrap(), vec![]);
        assert_eq!(
            python_literal("[True, False, None, 1, -2.5, 'a\\'b']").unwrap(),
            json!([true, false, null, 1, -2.5, "a'b"])
        );
    }
}
