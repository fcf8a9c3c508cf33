//! `cfn-init` (heat-cfntools' flags, reference heat-agents.md §5): applies the
//! `AWS::CloudFormation::Init` section of a resource's metadata.
//!
//! The configs to run come from `configSets` ([`config_sets`]; nested `{"ConfigSet": name}`
//! entries work, unlike upstream on Python 3) or are the one key `config`. Inside a config
//! the sections run in upstream's order: [`packages`] → [`sources`] → groups → users
//! ([`users`]) → [`files`] → [`commands`] → [`services`]. Every error names where it is
//! (`AWS::CloudFormation::Init.config.files./etc/x: mode "abc" is not an octal string`)
//! and exits 1; nothing input-derived panics.
//!
//! Our extension `--root DIR`: paths in `files` and `sources` are taken under `DIR` (a
//! staging tree, or a test's temporary directory); commands and tools are unaffected.

pub mod commands;
pub mod config_sets;
pub mod files;
pub mod packages;
pub mod services;
pub mod sources;
pub mod users;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use serde_json::{Map, Value};

use super::credentials;
use super::metadata::{self, Locations, MetadataError, Request};
use super::run::{RunError, Runner, SystemRunner};

/// The metadata key cfn-init reads.
pub const INIT_KEY: &str = "AWS::CloudFormation::Init";

/// `cfn-init [options]`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cfn-init",
    version,
    about = "Apply a resource's AWS::CloudFormation::Init metadata."
)]
pub struct InitArgs {
    /// The stack name.
    #[arg(short = 's', long = "stack")]
    pub stack: Option<String>,
    /// The logical resource id whose metadata is applied.
    #[arg(short = 'r', long = "resource")]
    pub resource: Option<String>,
    /// The EC2 access key.
    #[arg(long)]
    pub access_key: Option<String>,
    /// The EC2 secret key.
    #[arg(long)]
    pub secret_key: Option<String>,
    /// The region (accepted for compatibility; unused, as upstream).
    #[arg(long)]
    pub region: Option<String>,
    /// configSets to run, comma-separated [default: `default`].
    #[arg(short = 'c', long = "configsets")]
    pub configsets: Option<String>,
    /// A file with `AWSAccessKeyId=` and `AWSSecretKey=` lines [default: the key flags,
    /// else /etc/cfn/cfn-credentials when it exists].
    #[arg(long)]
    pub credential_file: Option<PathBuf>,
    /// Our extension: take `files` and `sources` paths under this directory.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Why cfn-init stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The metadata is not what cfn-init can apply.
    #[error("{at}: {reason}")]
    Invalid {
        /// Where (`AWS::CloudFormation::Init.config.files./etc/x`).
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// A tool could not be started.
    #[error("{at}: {source}")]
    Run {
        /// Where.
        at: String,
        /// Why.
        #[source]
        source: RunError,
    },
    /// A command or tool failed.
    #[error("{at}: {command} exited with {status}{stderr}")]
    Failed {
        /// Where.
        at: String,
        /// The command line (or `command`).
        command: String,
        /// `status 3`.
        status: String,
        /// `: <stderr tail>` or nothing.
        stderr: String,
    },
    /// A file operation failed.
    #[error("{at}: {path}: {source}")]
    Io {
        /// Where.
        at: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A download failed.
    #[error("{at}: cannot download {url}: {reason}")]
    Download {
        /// Where.
        at: String,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The credential file is unusable.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    /// No metadata.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

impl InitError {
    /// An [`InitError::Invalid`].
    pub fn invalid(at: &str, reason: impl Into<String>) -> Self {
        InitError::Invalid {
            at: at.to_string(),
            reason: reason.into(),
        }
    }

    /// An [`InitError::Failed`] for `outcome` of `command`.
    pub fn failed(at: &str, command: &str, outcome: &super::run::Outcome) -> Self {
        let tail = outcome.stderr_tail();
        InitError::Failed {
            at: at.to_string(),
            command: command.to_string(),
            status: outcome.describe(),
            stderr: if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            },
        }
    }
}

/// Downloads a URL into a file (files' `source`, sources).
pub trait Fetcher {
    /// Writes the body of `url` to `into`; `Err` says why not.
    fn fetch(&mut self, url: &str, into: &Path) -> Result<(), String>;
}

/// Downloads with reqwest on the tokio runtime, from a blocking thread.
pub struct HttpFetcher {
    handle: tokio::runtime::Handle,
    client: reqwest::Client,
}

impl HttpFetcher {
    /// A fetcher on the current runtime (call from the runtime, use from a blocking thread:
    /// the runtime's own thread keeps driving IO while it awaits that thread).
    pub fn new() -> Result<Self, crate::http::ClientError> {
        Ok(HttpFetcher {
            handle: tokio::runtime::Handle::current(),
            client: crate::http::client()?,
        })
    }
}

impl Fetcher for HttpFetcher {
    fn fetch(&mut self, url: &str, into: &Path) -> Result<(), String> {
        let client = self.client.clone();
        self.handle.block_on(async move {
            let mut response = client
                .get(url)
                .send()
                .await
                .map_err(|e| crate::http::describe(&e))?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            let mut file = std::fs::File::create(into).map_err(|e| e.to_string())?;
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| crate::http::describe(&e))?
            {
                file.write_all(&chunk).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }
}

/// What the sections need: how to run tools and download, and the `--root`.
pub struct Context<'a> {
    /// Runs tools.
    pub runner: &'a mut dyn Runner,
    /// Downloads.
    pub fetcher: &'a mut dyn Fetcher,
    /// `--root`.
    pub root: Option<PathBuf>,
}

impl Context<'_> {
    /// `path` under `--root` (a relative path is taken from the root too).
    pub fn rooted(&self, path: &str) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }
}

/// `section` of `config` as a map: absent or null → `None`; any other non-map → error.
pub fn section<'a>(
    config: &'a Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<&'a Map<String, Value>>, InitError> {
    match config.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(InitError::invalid(
            &format!("{at}.{name}"),
            format!("must be a map, not {}", kind(other)),
        )),
    }
}

/// A JSON value's kind for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// heat-cfntools' `to_boolean`: `true`, `"true"`, `"yes"`, `"1"`, `1` (case-insensitive).
pub fn to_boolean(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.trim().to_lowercase().as_str(), "true" | "yes" | "1"),
        _ => false,
    }
}

/// Applies the `AWS::CloudFormation::Init` section of `metadata` (blocking).
pub fn apply(
    metadata: &Value,
    configsets: Option<&str>,
    ctx: &mut Context<'_>,
) -> Result<(), InitError> {
    let init = match metadata.get(INIT_KEY) {
        Some(Value::Object(m)) if !m.is_empty() => m,
        Some(Value::Object(_)) | None | Some(Value::Null) => {
            return Err(InitError::invalid(
                INIT_KEY,
                "the metadata has no (or an empty) AWS::CloudFormation::Init section",
            ));
        }
        Some(other) => {
            return Err(InitError::invalid(
                INIT_KEY,
                format!("must be a map, not {}", kind(other)),
            ));
        }
    };
    for name in config_sets::execution_list(init, configsets)? {
        let at = format!("{INIT_KEY}.{name}");
        let config = match init.get(&name) {
            Some(Value::Object(c)) => c,
            Some(other) => {
                return Err(InitError::invalid(
                    &at,
                    format!("must be a map, not {}", kind(other)),
                ));
            }
            None => {
                return Err(InitError::invalid(
                    INIT_KEY,
                    format!(
                        "could not find config {name:?}; you may need to select another configSet (-c)"
                    ),
                ));
            }
        };
        tracing::info!(config = %name, "applying config");
        apply_config(config, &at, ctx)?;
    }
    Ok(())
}

/// One config's sections, in upstream's order.
fn apply_config(
    config: &Map<String, Value>,
    at: &str,
    ctx: &mut Context<'_>,
) -> Result<(), InitError> {
    // Check every section's shape first, so a malformed later section fails before
    // anything is changed.
    for name in [
        "packages", "sources", "groups", "users", "files", "commands", "services",
    ] {
        section(config, name, at)?;
    }
    if let Some(s) = section(config, "packages", at)? {
        packages::apply(s, &format!("{at}.packages"), ctx.runner)?;
    }
    if let Some(s) = section(config, "sources", at)? {
        sources::apply(s, &format!("{at}.sources"), ctx)?;
    }
    if let Some(s) = section(config, "groups", at)? {
        users::apply_groups(s, &format!("{at}.groups"), ctx.runner)?;
    }
    if let Some(s) = section(config, "users", at)? {
        users::apply_users(s, &format!("{at}.users"), ctx.runner)?;
    }
    if let Some(s) = section(config, "files", at)? {
        files::apply(s, &format!("{at}.files"), ctx)?;
    }
    if let Some(s) = section(config, "commands", at)? {
        commands::apply(s, &format!("{at}.commands"), ctx.runner)?;
    }
    if let Some(s) = section(config, "services", at)? {
        services::apply(s, &format!("{at}.services"), ctx.runner)?;
    }
    Ok(())
}

/// Runs as `cfn-init` with `args` (`args[0]` is the program name).
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args: InitArgs = match super::parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cfn-init: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Retrieves the metadata and applies it.
pub async fn run(args: InitArgs) -> Result<(), InitError> {
    let creds = credentials::choose_off_runtime(
        args.access_key.clone(),
        args.secret_key.clone(),
        args.credential_file.clone(),
    )
    .await?;
    let locations = Locations::from_env();
    let retrieved = metadata::retrieve(
        &locations,
        &Request {
            stack: args.stack.as_deref(),
            resource: args.resource.as_deref(),
            credentials: creds.as_ref(),
        },
    )
    .await?;
    let mut fetcher = HttpFetcher::new().map_err(|e| InitError::Download {
        at: INIT_KEY.into(),
        url: String::new(),
        reason: e.to_string(),
    })?;
    let configsets = args.configsets.clone();
    let root = args.root.clone();
    tokio::task::spawn_blocking(move || {
        let mut runner = SystemRunner;
        let mut ctx = Context {
            runner: &mut runner,
            fetcher: &mut fetcher,
            root,
        };
        apply(&retrieved.metadata, configsets.as_deref(), &mut ctx)
    })
    .await
    .unwrap_or_else(|e| {
        Err(InitError::invalid(
            INIT_KEY,
            format!("the worker failed: {e}"),
        ))
    })?;
    tracing::info!("cfn-init finished");
    Ok(())
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// A fetcher that serves fixed bodies by URL.
    #[derive(Default)]
    pub struct FakeFetcher(pub Vec<(String, Vec<u8>)>);

    impl Fetcher for FakeFetcher {
        fn fetch(&mut self, url: &str, into: &Path) -> Result<(), String> {
            let body = self
                .0
                .iter()
                .find(|(u, _)| u == url)
                .map(|(_, b)| b.clone())
                .ok_or("HTTP 404 Not Found")?;
            std::fs::write(into, body).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::FakeFetcher;
    use super::*;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    fn apply_with(metadata: Value, runner: &mut FakeRunner) -> Result<(), InitError> {
        let mut fetcher = FakeFetcher::default();
        let mut ctx = Context {
            runner,
            fetcher: &mut fetcher,
            root: None,
        };
        apply(&metadata, None, &mut ctx)
    }

    #[test]
    fn sections_run_in_upstream_order() {
        let mut runner = FakeRunner::default();
        apply_with(
            json!({INIT_KEY: {"config": {
                "services": {"sysvinit": {"a": {"enabled": true}}},
                "commands": {"c": {"command": ["true"]}},
                "users": {"u": {}},
                "groups": {"g": {}},
                "packages": {"apt": {"p": []}},
            }}}),
            &mut runner,
        )
        .unwrap();
        let programs: Vec<String> = runner.ran.iter().map(|a| a[0].clone()).collect();
        assert_eq!(
            programs,
            ["apt-get", "groupadd", "useradd", "true", "update-rc.d"]
        );
    }

    #[test]
    fn bad_shapes_name_their_place() {
        let mut runner = FakeRunner::default();
        let err =
            apply_with(json!({INIT_KEY: {"config": {"files": ["x"]}}}), &mut runner).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS::CloudFormation::Init.config.files: must be a map, not a list"
        );
        let err = apply_with(json!({}), &mut runner).unwrap_err();
        assert!(err.to_string().starts_with(INIT_KEY), "{err}");
        let err = apply_with(json!({INIT_KEY: "x"}), &mut runner).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS::CloudFormation::Init: must be a map, not a string"
        );
        let err = apply_with(json!({INIT_KEY: {"other": {}}}), &mut runner).unwrap_err();
        assert!(err.to_string().contains("\"config\""), "{err}");
        // A later bad section fails before an earlier one acts.
        let err = apply_with(
            json!({INIT_KEY: {"config": {"packages": {"apt": {"p": []}}, "services": 3}}}),
            &mut runner,
        )
        .unwrap_err();
        assert!(err.to_string().contains("services"), "{err}");
        assert!(runner.ran.is_empty());
    }

    #[test]
    fn booleans_as_upstream() {
        for t in [
            json!(true),
            json!("True"),
            json!("yes"),
            json!("1"),
            json!(1),
        ] {
            assert!(to_boolean(&t), "{t}");
        }
        for f in [json!(false), json!("no"), json!(0), json!(null), json!("2")] {
            assert!(!to_boolean(&f), "{f}");
        }
    }
}
