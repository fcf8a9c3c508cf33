//! `cfn-hup`: watches resources' metadata and runs hook actions when it changes.
//!
//! Configuration (`-c DIR`, default `/etc/cfn`, as AWS's `--config`; upstream's `-c` names
//! only the hooks directory and reads `/etc/cfn/cfn-hup.conf` regardless):
//! - `DIR/cfn-hup.conf` `[main]`: `stack` and `credential-file` (both required; the file
//!   must be readable), `region` (default `nova`, unused), `interval`: minutes between
//!   passes as AWS documents (default 15, AWS's; upstream reads 10 and never uses it). Our
//!   extension: a value ending in `s` is seconds (`interval = 2s`).
//! - hooks: the sections of `DIR/hooks.conf` and of every file in `DIR/hooks.d` (in name
//!   order), each `[name]` with `triggers` (comma-separated), `path`
//!   (`Resources.<LogicalId>.Metadata[.key…]`), `action` (run by `/bin/sh -c`) and `runas`.
//!
//! Each pass, per resource the hooks name: retrieve its metadata ([`super::metadata`]);
//! restart every `ensureRunning` service of its `AWS::CloudFormation::Init` `config` that
//! is not running and fire `service.restarted`; then, per hook, compare the value at the
//! hook's path with the one seen before and fire `post.add` (it appeared), `post.update`
//! (it changed) or `post.remove` (it disappeared). Upstream fires only `post.update`,
//! on any change of the whole document, and matches triggers as a substring; here a hook
//! runs when its comma-separated list holds the event exactly. What each hook saw is kept
//! in `<cache dir>/cfn-hup-state.json`, so a restart does not fire again; a hook seen for
//! the first time compares with the metadata cached before this retrieval (what cfn-init
//! applied), and with nothing cached it only records the value.
//!
//! Unlike upstream (one pass, run from cron), cfn-hup is a daemon: passes repeat every
//! interval until SIGTERM or SIGINT, which ends it after the current pass. `-f` makes one
//! pass. `runas`: the action runs directly when `runas` is the current user; otherwise
//! through `runuser -u <user> -- /bin/sh -c` (or `su -s /bin/sh <user> -c` without
//! runuser), which set the user's groups and cannot be undone by the action, where
//! upstream's `seteuid` leaves the real uid root.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::credentials::{self, Credentials};
use super::init::{INIT_KEY, services};
use super::key;
use super::metadata::{self, Locations, Request};
use super::run::{Cmd, Runner, SystemRunner};
use crate::occ::ini;

/// `cfn-hup [options]`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cfn-hup",
    version,
    about = "Run hooks when resource metadata changes."
)]
pub struct HupArgs {
    /// The configuration directory (cfn-hup.conf, hooks.conf, hooks.d/).
    #[arg(short = 'c', long = "config", default_value = "/etc/cfn")]
    pub config: PathBuf,
    /// One pass, then exit.
    #[arg(short = 'f', long = "no-daemon")]
    pub no_daemon: bool,
    /// Verbose logging (accepted for compatibility; `RUST_LOG` sets the level).
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum HupError {
    /// A file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid INI.
    #[error("{path}: {source}")]
    Ini {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: ini::IniError,
    },
    /// A setting is missing or wrong.
    #[error("{at}: {reason}")]
    Invalid {
        /// `file [section] key`.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The credential file.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
}

/// One hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// The section name.
    pub name: String,
    /// The events it runs on.
    pub triggers: Vec<String>,
    /// `path` as written.
    pub path: String,
    /// The resource (the path's second component).
    pub resource: String,
    /// Keys inside the resource's metadata (after `Metadata`).
    pub keys: Vec<String>,
    /// The shell command.
    pub action: String,
    /// The user to run it as.
    pub runas: String,
}

impl Hook {
    /// Whether `event` is one of its triggers (exactly, not as a substring).
    pub fn fires_on(&self, event: &str) -> bool {
        self.triggers.iter().any(|t| t == event)
    }
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct HupConfig {
    /// `[main] stack`.
    pub stack: String,
    /// `[main] credential-file`.
    pub credential_file: PathBuf,
    /// `[main] region`.
    pub region: String,
    /// Time between passes.
    pub interval: Duration,
    /// The hooks, by file then section order.
    pub hooks: Vec<Hook>,
}

impl HupConfig {
    /// The resources the hooks name, each once, in order.
    pub fn resources(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for h in &self.hooks {
            if !out.contains(&h.resource.as_str()) {
                out.push(&h.resource);
            }
        }
        out
    }
}

/// `interval`: minutes, or seconds with an `s` suffix (our extension).
pub fn parse_interval(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (number, unit) = match t.strip_suffix('s') {
        Some(n) => (n.trim(), 1),
        None => (t.strip_suffix('m').unwrap_or(t).trim(), 60),
    };
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    Some(Duration::from_secs(n.saturating_mul(unit)))
}

/// Parses a hook `path`: `(resource, keys after Metadata)`.
pub fn parse_hook_path(path: &str) -> Result<(String, Vec<String>), String> {
    let parts = key::parse(path).map_err(|e| e.to_string())?;
    match parts.as_slice() {
        [first, resource, field, rest @ ..] if first == "Resources" && field == "Metadata" => {
            Ok((resource.clone(), rest.to_vec()))
        }
        _ => Err(format!(
            "path {path:?} is not Resources.<LogicalId>.Metadata[.key…]"
        )),
    }
}

fn read(path: &Path) -> Result<ini::Sections, HupError> {
    let text = std::fs::read_to_string(path).map_err(|source| HupError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    ini::parse(&text).map_err(|source| HupError::Ini {
        path: path.to_path_buf(),
        source,
    })
}

/// The last value of `key` in `section`.
fn get<'a>(section: &'a BTreeMap<String, Vec<String>>, key: &str) -> Option<&'a str> {
    section.get(key).and_then(|v| v.last()).map(String::as_str)
}

/// Hooks from one parsed file.
pub fn hooks_of(file: &Path, sections: &ini::Sections) -> Result<Vec<Hook>, HupError> {
    let mut out = Vec::new();
    for (name, section) in sections {
        if name == "main" {
            continue;
        }
        let at = format!("{} [{name}]", file.display());
        let need = |key: &str| {
            get(section, key)
                .map(str::to_string)
                .ok_or_else(|| HupError::Invalid {
                    at: at.clone(),
                    reason: format!("has no '{key}'"),
                })
        };
        let path = need("path")?;
        let (resource, keys) = parse_hook_path(&path).map_err(|reason| HupError::Invalid {
            at: format!("{at} path"),
            reason,
        })?;
        let triggers: Vec<String> = need("triggers")?
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        out.push(Hook {
            name: name.clone(),
            triggers,
            path,
            resource,
            keys,
            action: need("action")?,
            runas: need("runas")?,
        });
    }
    Ok(out)
}

/// Reads the configuration in `dir`.
pub fn load(dir: &Path) -> Result<HupConfig, HupError> {
    let main_path = dir.join("cfn-hup.conf");
    let main = read(&main_path)?;
    let section = main.get("main").ok_or_else(|| HupError::Invalid {
        at: main_path.display().to_string(),
        reason: "has no [main] section".into(),
    })?;
    let at = |key: &str| format!("{} [main] {key}", main_path.display());
    let stack = get(section, "stack")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| HupError::Invalid {
            at: at("stack"),
            reason: "is required".into(),
        })?
        .to_string();
    let credential_file =
        PathBuf::from(
            get(section, "credential-file").ok_or_else(|| HupError::Invalid {
                at: at("credential-file"),
                reason: "is required".into(),
            })?,
        );
    let interval = match get(section, "interval") {
        None => Duration::from_secs(15 * 60),
        Some(text) => parse_interval(text).ok_or_else(|| HupError::Invalid {
            at: at("interval"),
            reason: format!(
                "{text:?} is not a positive number of minutes (or seconds with an s suffix)"
            ),
        })?,
    };
    let mut hooks = hooks_of(&main_path, &main)?;
    let mut files = vec![dir.join("hooks.conf")];
    files.retain(|f| f.exists());
    let hooks_dir = dir.join("hooks.d");
    if let Ok(entries) = std::fs::read_dir(&hooks_dir) {
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        files.extend(names);
    }
    for file in &files {
        hooks.extend(hooks_of(file, &read(file)?)?);
    }
    if hooks.is_empty() {
        return Err(HupError::Invalid {
            at: dir.display().to_string(),
            reason: format!(
                "no hooks found: add some to {} or {}",
                dir.join("hooks.conf").display(),
                hooks_dir.display()
            ),
        });
    }
    Ok(HupConfig {
        stack,
        credential_file,
        region: get(section, "region").unwrap_or("nova").to_string(),
        interval,
        hooks,
    })
}

/// The event a change of a watched value is: `post.add`, `post.update`, `post.remove`.
pub fn event_for(before: Option<&Value>, after: Option<&Value>) -> Option<&'static str> {
    match (before, after) {
        (None, Some(_)) => Some("post.add"),
        (Some(_), None) => Some("post.remove"),
        (Some(a), Some(b)) if a != b => Some("post.update"),
        _ => None,
    }
}

/// What a hook saw last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// Whether the path existed.
    pub present: bool,
    /// Its value then (null when absent).
    pub value: Value,
}

impl Seen {
    fn of(v: Option<&Value>) -> Self {
        Seen {
            present: v.is_some(),
            value: v.cloned().unwrap_or(Value::Null),
        }
    }
    fn get(&self) -> Option<&Value> {
        self.present.then_some(&self.value)
    }
}

/// The state kept across passes and restarts: hook name → what it saw.
pub type State = BTreeMap<String, Seen>;

fn state_path(locations: &Locations) -> PathBuf {
    locations.cache_dir.join("cfn-hup-state.json")
}

fn load_state(locations: &Locations) -> State {
    std::fs::read_to_string(state_path(locations))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn save_state(locations: &Locations, state: &State) -> std::io::Result<()> {
    std::fs::create_dir_all(&locations.cache_dir)?;
    let text = serde_json::to_vec_pretty(state).unwrap_or_default();
    metadata::write_private(&locations.cache_dir, &state_path(locations), &text)
}

/// The command running `action` as `runas`.
pub fn action_command(action: &str, runas: &str, current_user: Option<&str>, runuser: bool) -> Cmd {
    if runas.is_empty() || Some(runas) == current_user {
        Cmd::shell(action)
    } else if runuser {
        Cmd::new(&["runuser", "-u", runas, "--", "/bin/sh", "-c", action])
    } else {
        Cmd::new(&["su", "-s", "/bin/sh", runas, "-c", action])
    }
}

fn current_user() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Runs the hooks of `resource` that fire on `event` (blocking).
fn fire(hooks: &[Hook], resource: &str, event: &str, runner: &mut dyn Runner) {
    let me = current_user();
    for hook in hooks.iter().filter(|h| h.resource == resource) {
        if !hook.fires_on(event) {
            tracing::debug!(hook = %hook.name, event, "not a trigger of this hook");
            continue;
        }
        let cmd = action_command(
            &hook.action,
            &hook.runas,
            me.as_deref(),
            runner.on_path("runuser"),
        );
        tracing::info!(hook = %hook.name, event, resource, "running the hook's action");
        match runner.run(&cmd) {
            Ok(o) if o.success() => tracing::info!(hook = %hook.name, "action succeeded"),
            Ok(o) => {
                tracing::warn!(hook = %hook.name, "action exited with {}: {}", o.describe(), o.stderr_tail())
            }
            Err(e) => tracing::warn!(hook = %hook.name, "{e}"),
        }
    }
}

/// The hook events of one resource's new metadata (pure): `(hook name, event)` pairs;
/// `state` is updated to what each hook sees now.
pub fn diff(
    hooks: &[Hook],
    resource: &str,
    metadata: &Value,
    previous: Option<&Value>,
    state: &mut State,
) -> Vec<(String, &'static str)> {
    let mut events = Vec::new();
    for hook in hooks.iter().filter(|h| h.resource == resource) {
        let now = key::lookup(metadata, &hook.keys);
        let before: Option<Option<&Value>> = match state.get(&hook.name) {
            Some(seen) => Some(seen.get()),
            None => previous.map(|p| key::lookup(p, &hook.keys)),
        };
        if let Some(before) = before
            && let Some(event) = event_for(before, now)
        {
            events.push((hook.name.clone(), event));
        }
        state.insert(hook.name.clone(), Seen::of(now));
    }
    events
}

/// One pass over every resource; `Err` when a resource's metadata could not be had.
pub async fn pass(
    config: &HupConfig,
    credentials: &Credentials,
    locations: &Locations,
) -> Result<(), String> {
    let mut state = {
        let locations = locations.clone();
        tokio::task::spawn_blocking(move || load_state(&locations))
            .await
            .unwrap_or_default()
    };
    let mut failed = Vec::new();
    for resource in config.resources() {
        let got = match metadata::retrieve(
            locations,
            &Request {
                stack: Some(&config.stack),
                resource: Some(resource),
                credentials: Some(credentials),
            },
        )
        .await
        {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(resource, "{e}");
                failed.push(format!("{resource}: {e}"));
                continue;
            }
        };
        let services = got
            .metadata
            .get(INIT_KEY)
            .and_then(|i| i.get("config"))
            .and_then(|c| c.get("services"))
            .and_then(Value::as_object)
            .cloned();
        let events = diff(
            &config.hooks,
            resource,
            &got.metadata,
            got.previous.as_ref(),
            &mut state,
        );
        let hooks = config.hooks.clone();
        let resource = resource.to_string();
        let worked = tokio::task::spawn_blocking(move || {
            let mut runner = SystemRunner;
            if let Some(services) = services {
                let at = format!("{INIT_KEY}.config.services");
                match services::monitor(&services, &at, &mut runner) {
                    Ok(restarted) => {
                        for _ in restarted {
                            fire(&hooks, &resource, "service.restarted", &mut runner);
                        }
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            for (hook, event) in events {
                let one: Vec<Hook> = hooks.iter().filter(|h| h.name == hook).cloned().collect();
                fire(&one, &resource, event, &mut runner);
            }
        })
        .await;
        if let Err(e) = worked {
            tracing::warn!("the hook worker failed: {e}");
        }
    }
    let locations = locations.clone();
    let saved = tokio::task::spawn_blocking(move || save_state(&locations, &state)).await;
    if let Ok(Err(e)) = saved {
        tracing::warn!("could not save cfn-hup's state: {e}");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Runs as `cfn-hup` with `args`.
pub async fn main(args: Vec<OsString>) -> ExitCode {
    let args: HupArgs = match super::parse_args(args) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let dir = args.config.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let config = load(&dir)?;
        let creds = credentials::read(&config.credential_file)?;
        Ok::<_, HupError>((config, creds))
    })
    .await;
    let (config, creds) = match loaded {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            eprintln!("cfn-hup: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("cfn-hup: {e}");
            return ExitCode::FAILURE;
        }
    };
    let locations = Locations::from_env();
    if args.no_daemon {
        return match pass(&config, &creds, &locations).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cfn-hup: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // Listening starts before the first pass, so a SIGTERM during a pass ends the loop
    // after it instead of killing the process mid-action.
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cfn-hup: cannot listen for SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        stack = %config.stack,
        interval_secs = config.interval.as_secs(),
        hooks = config.hooks.len(),
        "cfn-hup started"
    );
    loop {
        if let Err(e) = pass(&config, &creds, &locations).await {
            tracing::warn!("{e}");
        }
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!("cfn-hup stopping");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(name: &str, triggers: &str, path: &str) -> Hook {
        let (resource, keys) = parse_hook_path(path).unwrap();
        Hook {
            name: name.into(),
            triggers: triggers.split(',').map(|t| t.trim().to_string()).collect(),
            path: path.into(),
            resource,
            keys,
            action: "true".into(),
            runas: "root".into(),
        }
    }

    #[test]
    fn intervals_are_minutes_or_seconds() {
        assert_eq!(parse_interval("5"), Some(Duration::from_secs(300)));
        assert_eq!(parse_interval(" 2s "), Some(Duration::from_secs(2)));
        assert_eq!(parse_interval("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_interval("0"), None);
        assert_eq!(parse_interval("x"), None);
    }

    #[test]
    fn hook_paths_name_the_resource_and_keys() {
        assert_eq!(
            parse_hook_path("Resources.server.Metadata.AWS::CloudFormation::Init").unwrap(),
            (
                "server".to_string(),
                vec!["AWS::CloudFormation::Init".to_string()]
            )
        );
        assert_eq!(
            parse_hook_path("Resources.s.Metadata.'a.b'").unwrap().1,
            ["a.b"]
        );
        assert_eq!(parse_hook_path("Resources.s.Metadata").unwrap().1.len(), 0);
        assert!(parse_hook_path("Resources.s.PhysicalResourceId").is_err());
        assert!(parse_hook_path("server.Metadata").is_err());
    }

    #[test]
    fn config_files_are_read_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cfn-hup.conf"),
            "[main]\nstack=st\ncredential-file=/etc/cfn/creds\ninterval=3s\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("hooks.conf"),
            "[a]\ntriggers=post.add, post.update\npath=Resources.server.Metadata.x\naction=echo a\nrunas=root\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("hooks.d")).unwrap();
        std::fs::write(
            dir.path().join("hooks.d/b.conf"),
            "[b]\ntriggers=post.remove\npath=Resources.other.Metadata\naction=echo b\nrunas=nobody\n[c]\ntriggers=post.update\npath=Resources.server.Metadata\naction=x\nrunas=root\n",
        )
        .unwrap();
        let c = load(dir.path()).unwrap();
        assert_eq!((c.stack.as_str(), c.region.as_str()), ("st", "nova"));
        assert_eq!(c.interval, Duration::from_secs(3));
        assert_eq!(c.credential_file, PathBuf::from("/etc/cfn/creds"));
        let names: Vec<&str> = c.hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(c.hooks[0].triggers, ["post.add", "post.update"]);
        assert_eq!(c.resources(), ["server", "other"]);

        std::fs::write(
            dir.path().join("hooks.d/bad"),
            "[d]\ntriggers=x\npath=Resources.s.Metadata\nrunas=root\n",
        )
        .unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("hooks.d/bad [d]: has no 'action'"), "{e}");
        std::fs::write(
            dir.path().join("cfn-hup.conf"),
            "[main]\ncredential-file=c\n",
        )
        .unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("cfn-hup.conf [main] stack: is required"), "{e}");
    }

    #[test]
    fn triggers_match_exactly() {
        let h = hook("h", "post.update", "Resources.s.Metadata");
        assert!(h.fires_on("post.update"));
        assert!(!h.fires_on("post"));
        assert!(!h.fires_on("update"));
    }

    #[test]
    fn diffs_fire_add_update_remove_once() {
        let hooks = vec![
            hook(
                "init",
                "post.add,post.update,post.remove",
                "Resources.s.Metadata.k",
            ),
            hook("other", "post.update", "Resources.t.Metadata"),
        ];
        let mut state = State::new();
        // First sight with nothing cached: recorded only.
        assert!(diff(&hooks, "s", &json!({"k": 1}), None, &mut state).is_empty());
        assert!(diff(&hooks, "s", &json!({"k": 1}), None, &mut state).is_empty());
        assert_eq!(
            diff(&hooks, "s", &json!({"k": 2}), None, &mut state),
            [("init".to_string(), "post.update")]
        );
        assert_eq!(
            diff(&hooks, "s", &json!({}), None, &mut state),
            [("init".to_string(), "post.remove")]
        );
        assert_eq!(
            diff(&hooks, "s", &json!({"k": null}), None, &mut state),
            [("init".to_string(), "post.add")]
        );
        // First sight with a cached document compares with it.
        let mut fresh = State::new();
        assert_eq!(
            diff(
                &hooks,
                "s",
                &json!({"k": 3}),
                Some(&json!({"k": 2})),
                &mut fresh
            ),
            [("init".to_string(), "post.update")]
        );
        assert_eq!(
            diff(
                &hooks,
                "s",
                &json!({"k": 3}),
                Some(&json!({})),
                &mut State::new()
            ),
            [("init".to_string(), "post.add")]
        );
    }

    #[test]
    fn actions_switch_user_only_when_needed() {
        assert_eq!(
            action_command("a", "root", Some("root"), true).argv(),
            ["/bin/sh", "-c", "a"]
        );
        assert_eq!(
            action_command("a", "app", Some("root"), true).argv(),
            ["runuser", "-u", "app", "--", "/bin/sh", "-c", "a"]
        );
        assert_eq!(
            action_command("a", "app", Some("root"), false).argv(),
            ["su", "-s", "/bin/sh", "app", "-c", "a"]
        );
    }
}
