//! Checking a `docker-cmd` config before anything runs: each container entry becomes a
//! [`Container`] with its `docker run` (or `docker exec`) arguments in upstream's order,
//! or a [`ConfigError`] naming the entry and field (`config.web.volumes: …`).

use serde_json::{Map, Value};

use crate::json_file::kind;
use crate::python_json::{str_of, truthy};

/// A config the hook cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// YAML text that does not parse.
    #[error("config is not valid YAML: {0}")]
    Yaml(String),
    /// Neither a map nor text.
    #[error("config must be a map of containers (or YAML text of one), not {0}")]
    NotMap(&'static str),
    /// One entry or field is wrong.
    #[error("config.{path}: {message}")]
    Invalid {
        /// `web`, `web.volumes`, …
        path: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// What a container entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `docker run`.
    Run,
    /// `docker exec` in a container of this deployment.
    Exec,
}

/// One checked container entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Container {
    /// The key in `config`: the container's name (and its `container_name` label).
    pub(crate) name: String,
    pub(crate) action: Action,
    pub(crate) exit_codes: Vec<i64>,
    /// For `run`: the arguments after the labels (`--detach=true … image command…`).
    /// For `exec`: the options before the container (`--privileged=… --user=…`).
    pub(crate) args: Vec<String>,
    /// For `exec`: the container to run in, and the command after it.
    pub(crate) exec: Option<(String, Vec<String>)>,
}

/// True for a name docker accepts: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub(crate) fn is_container_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A scalar as Python's `'%s' % value`; lists and maps are refused.
fn scalar(path: &str, value: &Value) -> Result<String, ConfigError> {
    match value {
        Value::Array(_) | Value::Object(_) => Err(invalid(
            path,
            format!("must be a string, not {}", kind(value)),
        )),
        other => Ok(str_of(other)),
    }
}

/// A list field's truthy items, as text (absent: none).
fn list_field(
    spec: &Map<String, Value>,
    path: &str,
    field: &str,
) -> Result<Vec<String>, ConfigError> {
    let path = format!("{path}.{field}");
    match spec.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter(|(_, v)| truthy(v))
            .map(|(i, v)| scalar(&format!("{path}[{i}]"), v))
            .collect(),
        Some(other) => Err(invalid(
            path,
            format!("must be a list, not {}", kind(other)),
        )),
    }
}

/// `command`: text split on whitespace, or a list of words.
fn command_words(spec: &Map<String, Value>, path: &str) -> Result<Vec<String>, ConfigError> {
    let path = format!("{path}.command");
    match spec.get("command") {
        None => Ok(Vec::new()),
        Some(v) if !truthy(v) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s.split_whitespace().map(str::to_string).collect()),
        Some(Value::Array(words)) => words
            .iter()
            .enumerate()
            .map(|(i, w)| scalar(&format!("{path}[{i}]"), w))
            .collect(),
        Some(other) => Err(invalid(
            path,
            format!("must be a string or a list, not {}", kind(other)),
        )),
    }
}

/// `--<flag>=<value>` for each scalar option present.
fn scalar_flags(
    spec: &Map<String, Value>,
    path: &str,
    fields: &[&str],
    args: &mut Vec<String>,
) -> Result<(), ConfigError> {
    for field in fields {
        if let Some(value) = spec.get(*field) {
            let text = scalar(&format!("{path}.{field}"), value)?;
            let text = if *field == "privileged" {
                text.to_lowercase()
            } else {
                text
            };
            args.push(format!("--{field}={text}"));
        }
    }
    Ok(())
}

/// `docker run`'s arguments after the labels, as upstream orders them.
fn run_args(spec: &Map<String, Value>, path: &str) -> Result<Vec<String>, ConfigError> {
    let mut args = Vec::new();
    if spec.get("detach").is_none_or(truthy) {
        args.push("--detach=true".to_string());
    }
    match spec.get("env_file") {
        None | Some(Value::Null) => {}
        Some(Value::Array(_)) => {
            for file in list_field(spec, path, "env_file")? {
                args.push(format!("--env-file={file}"));
            }
        }
        Some(file) => args.push(format!(
            "--env-file={}",
            scalar(&format!("{path}.env_file"), file)?
        )),
    }
    for env in list_field(spec, path, "environment")? {
        args.push(format!("--env={env}"));
    }
    scalar_flags(
        spec,
        path,
        &["net", "pid", "privileged", "restart", "user"],
        &mut args,
    )?;
    for volume in list_field(spec, path, "volumes")? {
        args.push(format!("--volume={volume}"));
    }
    for from in list_field(spec, path, "volumes_from")? {
        args.push(format!("--volumes-from={from}"));
    }
    match spec.get("image") {
        Some(Value::String(image)) if !image.is_empty() => args.push(image.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(invalid(
                format!("{path}.image"),
                "required for action \"run\"",
            ));
        }
        Some(other) => {
            return Err(invalid(
                format!("{path}.image"),
                format!("must be a string, not {}", kind(other)),
            ));
        }
    }
    args.extend(command_words(spec, path)?);
    Ok(args)
}

/// One entry of `config`, checked.
fn container(name: &str, entry: &Value) -> Result<(f64, Container), ConfigError> {
    let Value::Object(spec) = entry else {
        return Err(invalid(name, format!("must be a map, not {}", kind(entry))));
    };
    if !is_container_name(name) {
        return Err(invalid(
            name,
            "is not a container name docker accepts ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
        ));
    }
    let start_order = match spec.get("start_order") {
        None | Some(Value::Null) => 0.0,
        Some(Value::Number(n)) => n.as_f64().unwrap_or_default(),
        Some(other) => {
            return Err(invalid(
                format!("{name}.start_order"),
                format!("must be a number, not {}", kind(other)),
            ));
        }
    };
    let exit_codes = match spec.get("exit_codes") {
        None | Some(Value::Null) => vec![0],
        Some(Value::Array(codes)) => codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.as_i64().ok_or_else(|| {
                    invalid(
                        format!("{name}.exit_codes[{i}]"),
                        format!("must be an integer, not {}", kind(c)),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(
                format!("{name}.exit_codes"),
                format!("must be a list of integers, not {}", kind(other)),
            ));
        }
    };
    let action = match spec.get("action") {
        None | Some(Value::Null) => Action::Run,
        Some(Value::String(a)) if a == "run" => Action::Run,
        Some(Value::String(a)) if a == "exec" => Action::Exec,
        Some(other) => {
            return Err(invalid(
                format!("{name}.action"),
                format!(
                    "must be \"run\" or \"exec\", not {}",
                    crate::python_json::dumps(other)
                ),
            ));
        }
    };
    let (args, exec) = match action {
        Action::Run => (run_args(spec, name)?, None),
        Action::Exec => {
            let mut args = Vec::new();
            scalar_flags(spec, name, &["privileged", "user"], &mut args)?;
            let mut words = command_words(spec, name)?.into_iter();
            let Some(target) = words.next() else {
                return Err(invalid(
                    format!("{name}.command"),
                    "required for action \"exec\": the container, then the command",
                ));
            };
            if !is_container_name(&target) {
                return Err(invalid(
                    format!("{name}.command[0]"),
                    format!("{target:?} is not a container name"),
                ));
            }
            (args, Some((target, words.collect())))
        }
    };
    Ok((
        start_order,
        Container {
            name: name.to_string(),
            action,
            exit_codes,
            args,
            exec,
        },
    ))
}

/// The config's containers in the order they run; `None` when there is nothing to do.
pub(crate) fn parse_config(config: &Value) -> Result<Option<Vec<Container>>, ConfigError> {
    if !truthy(config) {
        return Ok(None);
    }
    let loaded;
    let map = match config {
        Value::Object(map) => map,
        Value::String(text) => {
            loaded = crate::pyyaml::load(text)
                .map_err(|e| ConfigError::Yaml(e.to_string()))?
                .unwrap_or(Value::Null);
            match &loaded {
                Value::Object(map) => map,
                v if !truthy(v) => return Ok(None),
                other => return Err(ConfigError::NotMap(kind(other))),
            }
        }
        other => return Err(ConfigError::NotMap(kind(other))),
    };
    let mut containers = map
        .iter()
        .map(|(name, entry)| container(name, entry))
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: equal start_orders keep the config's order, as Python's sorted().
    containers.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Some(containers.into_iter().map(|(_, c)| c).collect()))
}
