//! What a collector needs, from the command line ([`CollectorSettings::from_args`]) or from
//! the `os-collect-config` section of a metadata document
//! ([`CollectorSettings::from_section`]), and back to a command line
//! ([`CollectorSettings::command_line`]) for whoever starts an agent for a server.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cfn;
use crate::cli::CollectorArgs;
use crate::redact::redact_url_str;
use crate::secret::Secret;

/// Environment variable of `--metadata-url`.
pub const ENV_METADATA_URL: &str = "UPDRAFT_METADATA_URL";
/// Environment variable of `--cfn-secret-access-key`.
pub const ENV_CFN_SECRET_ACCESS_KEY: &str = "UPDRAFT_CFN_SECRET_ACCESS_KEY";
/// Environment variable of `--heat-password`.
pub const ENV_HEAT_PASSWORD: &str = "UPDRAFT_HEAT_PASSWORD";

/// The collectors this agent runs, in the order a section's `collectors` list is read.
pub const SUPPORTED: &[&str] = &["request", "cfn", "heat"];

/// One collector and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "collector", rename_all = "snake_case")]
pub enum CollectorSettings {
    /// `request`: a plain (capability) URL.
    Request(RequestSettings),
    /// `cfn`: the CFN API's `DescribeStackResource`, EC2-signed.
    Cfn(CfnSettings),
    /// `heat`: Keystone v3 then the native API.
    Heat(HeatSettings),
}

/// `[request]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestSettings {
    /// The metadata URL (a signed capability: secret).
    pub metadata_url: Secret,
}

/// `[cfn]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CfnSettings {
    /// The CFN API URL (`<heat-cfn>/v1/`).
    pub metadata_url: String,
    /// The EC2 access key id.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: Secret,
    /// The stack name.
    pub stack_name: String,
    /// `Resource.Field[.sub.keys]`, one or more.
    pub path: Vec<String>,
}

/// `[heat]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeatSettings {
    /// Keystone URL.
    pub auth_url: String,
    /// The server's stack user id.
    pub user_id: String,
    /// Its password.
    pub password: Secret,
    /// The project its token is scoped to.
    pub project_id: String,
    /// `<stack name>/<stack id>` (or a bare id, resolved on first use).
    pub stack_id: String,
    /// The server's resource name.
    pub resource_name: String,
    /// The catalog region, if any.
    pub region_name: Option<String>,
}

/// Settings that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Options of more than one collector were given.
    #[error("options of more than one collector given ({}): configure one of request, cfn, heat", .0.join(", "))]
    Conflict(Vec<&'static str>),
    /// A required option of the collector is missing.
    #[error("the {collector} collector needs {option}")]
    Missing {
        /// `cfn` or `heat` (or `request`).
        collector: &'static str,
        /// The option (`--cfn-stack-name`) or section key (`cfn.stack_name`).
        option: String,
    },
}

/// A command line (and environment, for the secrets) that makes `updraft-agent run` use
/// given settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// Options after `run`.
    pub args: Vec<String>,
    /// Environment variables holding secrets (never on the command line, which other
    /// users of the machine can read).
    pub env: Vec<(String, String)>,
}

/// A non-empty string value of `key` in `object`.
fn text(object: &Value, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn nonempty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|s| !s.is_empty())
}

impl CollectorSettings {
    /// os-collect-config's name of the collector.
    pub fn name(&self) -> &'static str {
        match self {
            CollectorSettings::Request(_) => "request",
            CollectorSettings::Cfn(_) => "cfn",
            CollectorSettings::Heat(_) => "heat",
        }
    }

    /// A one-line description without secrets, for logs.
    pub fn summary(&self) -> String {
        match self {
            CollectorSettings::Request(s) => {
                format!("request {}", redact_url_str(s.metadata_url.expose()))
            }
            CollectorSettings::Cfn(s) => format!(
                "cfn {} stack {} path {}",
                redact_url_str(&s.metadata_url),
                s.stack_name,
                s.path.join(",")
            ),
            CollectorSettings::Heat(s) => format!(
                "heat {} stack {} resource {}",
                redact_url_str(&s.auth_url),
                s.stack_id,
                s.resource_name
            ),
        }
    }

    /// The settings the options name, `None` when no collector option is given.
    /// `--cfn-metadata-url` defaults, as upstream, to the contents of
    /// `--cfn-heat-metadata-hint` plus `/v1/` (normalised: [`cfn::url_from_hint`]).
    pub fn from_args(args: &CollectorArgs) -> Result<Option<Self>, SettingsError> {
        let request = args.metadata_url.is_some();
        let cfn = args.cfn_metadata_url.is_some()
            || args.cfn_access_key_id.is_some()
            || args.cfn_secret_access_key.is_some()
            || args.cfn_stack_name.is_some()
            || !args.cfn_path.is_empty();
        let heat = args.heat_auth_url.is_some()
            || args.heat_user_id.is_some()
            || args.heat_password.is_some()
            || args.heat_project_id.is_some()
            || args.heat_stack_id.is_some()
            || args.heat_resource_name.is_some();
        let given: Vec<&'static str> = [(request, "request"), (cfn, "cfn"), (heat, "heat")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if given.len() > 1 {
            return Err(SettingsError::Conflict(given));
        }
        let need = |collector: &'static str, option: &str, value: &Option<String>| {
            nonempty(value).ok_or_else(|| SettingsError::Missing {
                collector,
                option: option.to_string(),
            })
        };
        if request {
            let url = need("request", "--metadata-url", &args.metadata_url)?;
            return Ok(Some(CollectorSettings::Request(RequestSettings {
                metadata_url: Secret::new(url),
            })));
        }
        if cfn {
            let metadata_url = match nonempty(&args.cfn_metadata_url) {
                Some(url) => url,
                None => read_hint(&args.cfn_heat_metadata_hint).ok_or_else(|| {
                    SettingsError::Missing {
                        collector: "cfn",
                        option: format!(
                            "--cfn-metadata-url (or a readable {})",
                            args.cfn_heat_metadata_hint.display()
                        ),
                    }
                })?,
            };
            if args.cfn_path.is_empty() {
                return Err(SettingsError::Missing {
                    collector: "cfn",
                    option: "--cfn-path".into(),
                });
            }
            return Ok(Some(CollectorSettings::Cfn(CfnSettings {
                metadata_url,
                access_key_id: need("cfn", "--cfn-access-key-id", &args.cfn_access_key_id)?,
                secret_access_key: Secret::new(need(
                    "cfn",
                    "--cfn-secret-access-key",
                    &args.cfn_secret_access_key,
                )?),
                stack_name: need("cfn", "--cfn-stack-name", &args.cfn_stack_name)?,
                path: args.cfn_path.clone(),
            })));
        }
        if heat {
            return Ok(Some(CollectorSettings::Heat(HeatSettings {
                auth_url: need("heat", "--heat-auth-url", &args.heat_auth_url)?,
                user_id: need("heat", "--heat-user-id", &args.heat_user_id)?,
                password: Secret::new(need("heat", "--heat-password", &args.heat_password)?),
                project_id: need("heat", "--heat-project-id", &args.heat_project_id)?,
                stack_id: need("heat", "--heat-stack-id", &args.heat_stack_id)?,
                resource_name: need("heat", "--heat-resource-name", &args.heat_resource_name)?,
                region_name: nonempty(&args.heat_region_name),
            })));
        }
        Ok(None)
    }

    /// The settings an `os-collect-config` section names: the first of its `collectors`
    /// this agent runs ([`SUPPORTED`]), with that collector's keys. `None` when the
    /// section names none of them (e.g. only `local`, or `zaqar`).
    pub fn from_section(section: &Value) -> Result<Option<Self>, SettingsError> {
        let Some(name) = section
            .get("collectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|c| SUPPORTED.contains(c))
        else {
            return Ok(None);
        };
        let block = section.get(name).cloned().unwrap_or(Value::Null);
        let need = |collector: &'static str, key: &str| {
            text(&block, key).ok_or_else(|| SettingsError::Missing {
                collector,
                option: format!("{collector}.{key}"),
            })
        };
        Ok(Some(match name {
            "request" => CollectorSettings::Request(RequestSettings {
                metadata_url: Secret::new(need("request", "metadata_url")?),
            }),
            "cfn" => {
                let path: Vec<String> = match block.get("path") {
                    Some(Value::String(p)) if !p.is_empty() => vec![p.clone()],
                    Some(Value::Array(ps)) => ps
                        .iter()
                        .filter_map(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                    _ => Vec::new(),
                };
                if path.is_empty() {
                    return Err(SettingsError::Missing {
                        collector: "cfn",
                        option: "cfn.path".into(),
                    });
                }
                CollectorSettings::Cfn(CfnSettings {
                    metadata_url: need("cfn", "metadata_url")?,
                    access_key_id: need("cfn", "access_key_id")?,
                    secret_access_key: Secret::new(need("cfn", "secret_access_key")?),
                    stack_name: need("cfn", "stack_name")?,
                    path,
                })
            }
            _ => CollectorSettings::Heat(HeatSettings {
                auth_url: need("heat", "auth_url")?,
                user_id: need("heat", "user_id")?,
                password: Secret::new(need("heat", "password")?),
                project_id: need("heat", "project_id")?,
                stack_id: need("heat", "stack_id")?,
                resource_name: need("heat", "resource_name")?,
                region_name: text(&block, "region_name"),
            }),
        }))
    }

    /// The options (secrets in the environment) that configure these settings.
    pub fn command_line(&self) -> CommandLine {
        let mut line = CommandLine::default();
        let mut opt = |name: &str, value: &str| {
            line.args.push(format!("--{name}"));
            line.args.push(value.to_string());
        };
        let mut env = Vec::new();
        match self {
            CollectorSettings::Request(s) => {
                env.push((ENV_METADATA_URL, s.metadata_url.expose()));
            }
            CollectorSettings::Cfn(s) => {
                opt("cfn-metadata-url", &s.metadata_url);
                opt("cfn-access-key-id", &s.access_key_id);
                opt("cfn-stack-name", &s.stack_name);
                for p in &s.path {
                    opt("cfn-path", p);
                }
                env.push((ENV_CFN_SECRET_ACCESS_KEY, s.secret_access_key.expose()));
            }
            CollectorSettings::Heat(s) => {
                opt("heat-auth-url", &s.auth_url);
                opt("heat-user-id", &s.user_id);
                opt("heat-project-id", &s.project_id);
                opt("heat-stack-id", &s.stack_id);
                opt("heat-resource-name", &s.resource_name);
                if let Some(region) = &s.region_name {
                    opt("heat-region-name", region);
                }
                env.push((ENV_HEAT_PASSWORD, s.password.expose()));
            }
        }
        line.env = env
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        line
    }
}

/// The cfn URL from the hint file, if it can be read and is not empty.
fn read_hint(path: &Path) -> Option<String> {
    let contents = std::fs::read_to_string(PathBuf::from(path)).ok()?;
    let trimmed = contents.trim();
    (!trimmed.is_empty()).then(|| cfn::url_from_hint(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sections_name_the_first_supported_collector() {
        let cfn = json!({"collectors": ["ec2", "cfn", "local"],
            "request": {"metadata_url": null},
            "cfn": {"metadata_url": "http://h/v1/", "access_key_id": "AK", "secret_access_key": "SK", "stack_name": "s", "path": "server.Metadata"}});
        let Some(CollectorSettings::Cfn(s)) = CollectorSettings::from_section(&cfn).unwrap() else {
            panic!()
        };
        assert_eq!(s.path, ["server.Metadata"]);
        assert_eq!(s.secret_access_key.expose(), "SK");

        let heat = json!({"collectors": ["heat", "local"],
            "cfn": {"metadata_url": null, "access_key_id": null},
            "heat": {"auth_url": "http://h/v3/", "user_id": "u", "password": "pw", "project_id": "p", "stack_id": "s/1", "resource_name": "server", "region_name": "RegionOne"}});
        let settings = CollectorSettings::from_section(&heat).unwrap().unwrap();
        assert_eq!(settings.name(), "heat");
        assert!(!format!("{settings:?}").contains("pw"));
        assert!(!settings.summary().contains("pw"));

        assert_eq!(
            CollectorSettings::from_section(&json!({"collectors": ["zaqar", "local"]})).unwrap(),
            None
        );
        assert_eq!(CollectorSettings::from_section(&json!({})).unwrap(), None);
        // Heat nulls the keys of a collector it no longer uses.
        let nulled = json!({"collectors": ["request"], "request": {"metadata_url": null}});
        assert_eq!(
            CollectorSettings::from_section(&nulled).unwrap_err(),
            SettingsError::Missing {
                collector: "request",
                option: "request.metadata_url".into()
            }
        );
    }

    #[test]
    fn options_of_one_collector_are_required_complete() {
        let none = CollectorArgs::default();
        assert_eq!(CollectorSettings::from_args(&none).unwrap(), None);
        let both = CollectorArgs {
            metadata_url: Some("http://h/m".into()),
            heat_user_id: Some("u".into()),
            ..Default::default()
        };
        assert_eq!(
            CollectorSettings::from_args(&both).unwrap_err().to_string(),
            "options of more than one collector given (request, heat): configure one of request, cfn, heat"
        );
        let partial = CollectorArgs {
            heat_auth_url: Some("http://h/v3".into()),
            ..Default::default()
        };
        assert_eq!(
            CollectorSettings::from_args(&partial)
                .unwrap_err()
                .to_string(),
            "the heat collector needs --heat-user-id"
        );
        // The cfn URL may come from the hint file, normalised.
        let dir = tempfile::tempdir().unwrap();
        let hint = dir.path().join("cfn-metadata-server");
        std::fs::write(&hint, "http://heat:8000/v1/\n").unwrap();
        let cfn = CollectorArgs {
            cfn_heat_metadata_hint: hint,
            cfn_access_key_id: Some("AK".into()),
            cfn_secret_access_key: Some("SK".into()),
            cfn_stack_name: Some("st".into()),
            cfn_path: vec!["server.Metadata".into()],
            ..Default::default()
        };
        let Some(CollectorSettings::Cfn(s)) = CollectorSettings::from_args(&cfn).unwrap() else {
            panic!()
        };
        assert_eq!(s.metadata_url, "http://heat:8000/v1/");
        let no_hint = CollectorArgs {
            cfn_heat_metadata_hint: dir.path().join("missing"),
            ..cfn
        };
        assert!(CollectorSettings::from_args(&no_hint).is_err());
    }

    #[test]
    fn command_lines_keep_secrets_in_the_environment() {
        let heat = CollectorSettings::Heat(HeatSettings {
            auth_url: "http://h/v3/".into(),
            user_id: "u".into(),
            password: Secret::new("pw"),
            project_id: "p".into(),
            stack_id: "s/1".into(),
            resource_name: "server".into(),
            region_name: None,
        });
        let line = heat.command_line();
        assert!(!line.args.iter().any(|a| a.contains("pw")));
        assert_eq!(
            line.env,
            [(ENV_HEAT_PASSWORD.to_string(), "pw".to_string())]
        );
        assert_eq!(line.args[0..2], ["--heat-auth-url", "http://h/v3/"]);
    }
}
