//! The stock Python guest agents, as `.ci/run` installs them, run against our server:
//! os-collect-config → os-refresh-config → os-apply-config (the heat-config element's
//! templates) → heat-agents' `55-heat-config` → the `script` hook → `heat-config-notify`.
//!
//! A [`Guest`] is a guest's file system laid out under a temporary directory `R`, at the
//! paths a real image uses (`R/etc`, `R/var/lib`, `R/var/run`, `R/usr/libexec`), so nothing
//! is written to the machine's own. The stock programs are pointed there by their flags and
//! environment variables:
//!
//! | what | where | told by |
//! |---|---|---|
//! | os-collect-config's config | `R/etc/os-collect-config.conf`, rendered by os-apply-config from the heat-config element's template | `--config-file` |
//! | its cache and backup | `R/var/lib/os-collect-config`, `R/var/run/os-collect-config` | `--cachedir`, `--backup-cachedir` |
//! | the `local` / `heat_local` collectors' inputs (absent) | `R/var/lib/os-collect-config/local-data`, `R/var/lib/heat-cfntools/cfn-init-data` | `--local-path`, `--heat_local-path` |
//! | the refresh command | `os-refresh-config --lockfile R/var/run/os-refresh-config.lock` | `--command` (wins over the file's `command = os-refresh-config`) |
//! | os-refresh-config's phases | `R/usr/libexec/os-refresh-config/configure.d/{20-os-apply-config,55-heat-config}` | `OS_REFRESH_CONFIG_BASE_DIR` |
//! | os-apply-config | `os-apply-config --templates <stock>/templates --output R --fallback-metadata` (no fallback files), data from `OS_CONFIG_FILES` (set by os-collect-config) | `20-os-apply-config`, written here |
//! | the deployments list | `R/var/run/heat-config/heat-config` (the template's `{{deployments}}`) | `HEAT_SHELL_CONFIG` |
//! | deployed state | `R/var/lib/heat-config/deployed` (old: `R/var/run/heat-config/deployed`) | `HEAT_CONFIG_DEPLOYED`, `HEAT_CONFIG_DEPLOYED_OLD` |
//! | hooks | `<stock>/hooks/script` (heat-agents' `hook-script.py`) | `HEAT_CONFIG_HOOKS` |
//! | the script hook's files | `R/var/lib/heat-config/heat-config-script`, `R/var/run/heat-config/heat-config-script` | `HEAT_SCRIPT_WORKING`, `HEAT_SCRIPT_OUTPUTS` |
//! | the notifier | `<stock>/bin/heat-config-notify` | `HEAT_CONFIG_NOTIFY` |
//!
//! `<stock>` is `target/stock-agents` (or `$UPDRAFT_STOCK_AGENTS`); the Python programs run
//! with the venv's `bin` first on `PATH`, so `#!/usr/bin/env python3` is the venv's Python.
//! `LC_ALL=C`: os-collect-config's `local` collector restores the locale it found, and
//! Python 3.11 reports `C.UTF-8` as `en_US.UTF-8`, which fails where that is not installed.
//! As root, os-apply-config also appends its log to `/var/log/os-apply-config.log`; where
//! `unshare` can make a user namespace, `20-os-apply-config` runs it as a mapped non-root
//! user (same files, no log there). `--ec2-metadata-url` points at a closed loopback port,
//! so a config without collectors could never reach a link-local address.
//!
//! The guest's configuration starts as a real deployed server's does: the server's
//! `os_collect_config` attribute is rendered into `etc/os-collect-config.conf` by the same
//! `20-os-apply-config` (with `OS_CONFIG_FILES` naming `{"os-collect-config": <attribute>}`);
//! every refresh renders it again from the metadata the server serves. Each
//! [`Guest::run_once`] is one `os-collect-config --one-time`, as a polling guest does once
//! per interval; [`Guest::run_until_settled`] repeats it until the stack's action ends.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::{Api, repo_root};

/// Longest one `os-collect-config --one-time` may take (heat-config-notify retries a
/// refused connection for about six minutes; a test should fail long before).
const ONE_RUN: Duration = Duration::from_secs(90);

/// Where `.ci/run` installed the stock agents.
#[derive(Debug, Clone)]
pub struct StockAgents {
    /// The venv's `bin` (os-collect-config, os-refresh-config, dib-run-parts,
    /// os-apply-config, python3).
    pub venv_bin: PathBuf,
    /// `target/stock-agents`: `configure.d/55-heat-config`, `bin/heat-config-notify`,
    /// `hooks/script`, `templates/`.
    pub home: PathBuf,
}

impl StockAgents {
    /// The installation, or `None` (the test is skipped, with a message) when it is
    /// missing outside CI; with `CI=true` a missing installation is a failure.
    pub fn find(test: &str) -> Option<Self> {
        let venv_bin = std::env::var_os("UPDRAFT_PYTHON")
            .filter(|p| !p.is_empty())
            .and_then(|p| PathBuf::from(p).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| repo_root().join("target/venv/bin"));
        let home = std::env::var_os("UPDRAFT_STOCK_AGENTS")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/stock-agents"));
        let agents = StockAgents { venv_bin, home };
        let missing: Vec<PathBuf> = agents
            .required()
            .into_iter()
            .filter(|p| !p.exists())
            .collect();
        if missing.is_empty() {
            return Some(agents);
        }
        let message = format!(
            "{test}: the stock agents are not installed (missing {}); run .ci/run",
            missing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{message}");
        }
        eprintln!("skipped {message}");
        None
    }

    fn required(&self) -> Vec<PathBuf> {
        vec![
            self.venv_bin.join("os-collect-config"),
            self.venv_bin.join("os-refresh-config"),
            self.venv_bin.join("dib-run-parts"),
            self.venv_bin.join("os-apply-config"),
            self.home.join("configure.d/55-heat-config"),
            self.home.join("bin/heat-config-notify"),
            self.home.join("hooks/script"),
            self.home.join("templates/etc/os-collect-config.conf"),
            self.home.join("templates/var/run/heat-config/heat-config"),
        ]
    }
}

/// Which program is the guest's `55-heat-config` (and its notifier and hooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatConfigStep {
    /// heat-agents' `55-heat-config`, `heat-config-notify` and `script` hook.
    Stock,
    /// `updraft-agent` linked as `55-heat-config` and `heat-config-notify`, with no hooks
    /// directory (its built-in `script` hook runs): an image that keeps the stock
    /// os-collect-config and os-refresh-config but has no heat-agents.
    Updraft,
}

/// A guest's file system in a temporary directory, run by the stock agents.
pub struct Guest {
    root: tempfile::TempDir,
    agents: StockAgents,
    step: HeatConfigStep,
    transcript: String,
}

/// `'text'` for `sh`.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

impl Guest {
    /// Lays out a guest for a server whose `os_collect_config` attribute is
    /// `os_collect_config`, and renders its `etc/os-collect-config.conf` from it.
    pub async fn new(agents: &StockAgents, os_collect_config: &Value) -> anyhow::Result<Self> {
        Self::new_with(agents, os_collect_config, HeatConfigStep::Stock).await
    }

    /// [`Guest::new`] with `step` as its `55-heat-config`.
    pub async fn new_with(
        agents: &StockAgents,
        os_collect_config: &Value,
        step: HeatConfigStep,
    ) -> anyhow::Result<Self> {
        let root = tempfile::tempdir()?;
        let r = root.path();
        for dir in ["etc", "var/lib", "var/run"] {
            std::fs::create_dir_all(r.join(dir))?;
        }
        let configure = r.join("usr/libexec/os-refresh-config/configure.d");
        std::fs::create_dir_all(&configure)?;
        // heat-agents' own `20-os-apply-config` is `exec os-apply-config` (the image's
        // template dir, output `/`); this one names the stock templates and our root.
        let oac = format!(
            "os-apply-config --templates {} --output {} --fallback-metadata",
            quote(&agents.home.join("templates")),
            quote(r)
        );
        let script = format!(
            "#!/bin/bash\nset -ue\n\
             if [ \"$(id -u)\" = 0 ] && unshare --user --map-user=65534 --map-group=65534 true 2>/dev/null; then\n\
             \x20   exec unshare --user --map-user=65534 --map-group=65534 {oac}\n\
             fi\n\
             exec {oac}\n"
        );
        write_executable(&configure.join("20-os-apply-config"), &script)?;
        let heat_config = configure.join("55-heat-config");
        match step {
            HeatConfigStep::Stock => {
                std::fs::copy(agents.home.join("configure.d/55-heat-config"), &heat_config)
                    .context("cannot copy 55-heat-config")?;
            }
            HeatConfigStep::Updraft => {
                let agent = crate::binary("updraft-agent");
                std::os::unix::fs::symlink(&agent, &heat_config)?;
                std::fs::create_dir_all(r.join("usr/bin"))?;
                std::os::unix::fs::symlink(&agent, r.join("usr/bin/heat-config-notify"))?;
                std::fs::create_dir_all(r.join("var/lib/heat-config/hooks"))?;
            }
        }

        let mut guest = Guest {
            root,
            agents: agents.clone(),
            step,
            transcript: String::new(),
        };
        let bootstrap = guest.path("var/lib/os-collect-config-bootstrap.json");
        std::fs::write(
            &bootstrap,
            serde_json::to_vec(&json!({"os-collect-config": os_collect_config}))?,
        )?;
        let mut cmd = guest
            .command(&guest.path("usr/libexec/os-refresh-config/configure.d/20-os-apply-config"));
        cmd.env("OS_CONFIG_FILES", &bootstrap);
        let status = guest.run("20-os-apply-config (bootstrap)", cmd).await?;
        if !status.success() {
            bail!(
                "rendering os-collect-config.conf failed\n{}",
                guest.report()
            );
        }
        Ok(guest)
    }

    /// `R/<relative>`.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    /// The guest's root directory.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A command with the guest's environment.
    fn command(&self, program: &Path) -> Command {
        let (hooks, notify) = match self.step {
            HeatConfigStep::Stock => (
                self.agents.home.join("hooks"),
                self.agents.home.join("bin/heat-config-notify"),
            ),
            HeatConfigStep::Updraft => (
                self.path("var/lib/heat-config/hooks"),
                self.path("usr/bin/heat-config-notify"),
            ),
        };
        let mut cmd = Command::new(program);
        let mut path = OsString::from(self.agents.venv_bin.as_os_str());
        if let Some(inherited) = std::env::var_os("PATH") {
            path.push(":");
            path.push(inherited);
        }
        cmd.env("PATH", path)
            .env("LC_ALL", "C")
            .env_remove("OS_CONFIG_FILES")
            .env(
                "OS_REFRESH_CONFIG_BASE_DIR",
                self.path("usr/libexec/os-refresh-config"),
            )
            .env(
                "HEAT_SHELL_CONFIG",
                self.path("var/run/heat-config/heat-config"),
            )
            .env("HEAT_CONFIG_HOOKS", hooks)
            .env(
                "HEAT_CONFIG_DEPLOYED",
                self.path("var/lib/heat-config/deployed"),
            )
            .env(
                "HEAT_CONFIG_DEPLOYED_OLD",
                self.path("var/run/heat-config/deployed"),
            )
            .env("HEAT_CONFIG_NOTIFY", notify)
            .env(
                "HEAT_SCRIPT_WORKING",
                self.path("var/lib/heat-config/heat-config-script"),
            )
            .env(
                "HEAT_SCRIPT_OUTPUTS",
                self.path("var/run/heat-config/heat-config-script"),
            )
            .current_dir(self.root.path())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `cmd` to its end (at most [`ONE_RUN`]), adding its output to the transcript.
    async fn run(
        &mut self,
        what: &str,
        mut cmd: Command,
    ) -> anyhow::Result<std::process::ExitStatus> {
        let start = Instant::now();
        let out = tokio::time::timeout(ONE_RUN, cmd.output())
            .await
            .with_context(|| format!("{what} did not end within {ONE_RUN:?}\n{}", self.report()))?
            .with_context(|| format!("cannot run {what}"))?;
        let _ = writeln!(
            self.transcript,
            "$ {what}: {} after {:.1} s\n{}{}",
            out.status,
            start.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(out.status)
    }

    /// `os-collect-config` with the guest's paths, running os-refresh-config on a change.
    fn collect_config(&self) -> Command {
        let refresh = format!(
            "os-refresh-config --lockfile {}",
            quote(&self.path("var/run/os-refresh-config.lock"))
        );
        let mut cmd = self.command(&self.agents.venv_bin.join("os-collect-config"));
        cmd.arg("--config-file")
            .arg(self.path("etc/os-collect-config.conf"))
            .arg("--cachedir")
            .arg(self.path("var/lib/os-collect-config"))
            .arg("--backup-cachedir")
            .arg(self.path("var/run/os-collect-config"))
            .arg("--local-path")
            .arg(self.path("var/lib/os-collect-config/local-data"))
            .arg("--heat_local-path")
            .arg(self.path("var/lib/heat-cfntools/cfn-init-data"))
            .arg("--cfn-heat-metadata-hint")
            .arg(self.path("var/lib/heat-cfntools/cfn-metadata-server"))
            .args(["--ec2-metadata-url", "http://127.0.0.1:9/"])
            .arg("--command")
            .arg(refresh);
        cmd
    }

    /// One poll: `os-collect-config --one-time`, which runs os-refresh-config when the
    /// metadata changed since the last successful run.
    pub async fn run_once(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let mut cmd = self.collect_config();
        cmd.arg("--one-time");
        self.run("os-collect-config --one-time", cmd).await
    }

    /// Starts `os-collect-config` as the long-running daemon a guest runs, with its
    /// configured polling interval; output goes to `log`. Killed when dropped.
    pub fn spawn_daemon(&self, log: &Path) -> anyhow::Result<tokio::process::Child> {
        let file = std::fs::File::create(log)?;
        let mut cmd = self.collect_config();
        cmd.stdout(file.try_clone()?).stderr(file);
        cmd.spawn().context("cannot start os-collect-config")
    }

    /// Polls (one [`Guest::run_once`] about every half second) until the stack at
    /// `stack` is no longer `*_IN_PROGRESS`; returns the stack body. Fails, with
    /// [`Guest::report`], after `timeout`.
    pub async fn run_until_settled(
        &mut self,
        api: &Api,
        stack: &str,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let status = self.run_once().await?;
            let (_, body) = api.get(stack).await?;
            let state = body["stack"]["stack_status"].as_str().unwrap_or_default();
            if !state.is_empty() && !state.ends_with("IN_PROGRESS") {
                return Ok(body["stack"].clone());
            }
            if start.elapsed() > timeout {
                bail!(
                    "stack {stack} still {state} after {timeout:?} of polling by the stock agents (last os-collect-config: {status})\n{}",
                    self.report()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// What 55-heat-config ran on this guest: for each `deployed/<id>.json`, its
    /// `deploy_action` input and the signal it sent (`<id>.notify.json`, `null` if none),
    /// sorted by action and signal.
    pub fn deployed(&self) -> anyhow::Result<Vec<(String, Value)>> {
        let dir = self.path("var/lib/heat-config/deployed");
        let mut runs = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            let name = path.to_string_lossy().into_owned();
            let Some(stem) = name
                .strip_suffix(".json")
                .filter(|s| !s.ends_with(".notify"))
            else {
                continue;
            };
            let config: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
            let action = config["inputs"]
                .as_array()
                .and_then(|i| i.iter().find(|i| i["name"] == "deploy_action"))
                .and_then(|i| i["value"].as_str())
                .unwrap_or_default()
                .to_string();
            let signal = std::fs::read(format!("{stem}.notify.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            runs.push((action, signal));
        }
        runs.sort_by_key(|(action, signal)| (action.clone(), signal.to_string()));
        Ok(runs)
    }

    /// What every step printed, then the guest's rendered config, deployments list and
    /// the signals 55-heat-config sent (`deployed/<id>.notify.json`).
    pub fn report(&self) -> String {
        let mut report = format!("--- stock agents transcript ---\n{}", self.transcript);
        for file in [
            "etc/os-collect-config.conf",
            "var/run/heat-config/heat-config",
        ] {
            let text =
                std::fs::read_to_string(self.path(file)).unwrap_or_else(|e| format!("({e})"));
            let _ = writeln!(report, "--- R/{file} ---\n{text}");
        }
        if let Ok(entries) = std::fs::read_dir(self.path("var/lib/heat-config/deployed")) {
            let mut names: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            names.sort();
            for p in names
                .iter()
                .filter(|p| p.to_string_lossy().ends_with(".notify.json"))
            {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                let _ = writeln!(report, "--- {} ---\n{text}", p.display());
            }
        }
        report
    }
}

fn write_executable(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}
