//! What the hooks that drive a configuration tool (puppet, ansible, salt) share: their
//! settings from upstream's environment variables, their directories, writing the tool's
//! input files, and running the tool, where a missing tool is a clear failure (upstream
//! prints nothing, which Heat takes as success).
//!
//! Each step answers `Err(payload)` with the failed deployment's signal, so a hook reads
//! as a sequence of `?`.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::json_files::write_text_file;
use crate::names::is_safe_file_name;
use crate::process::{Completion, run_captured};
use crate::script::create_dir;
use crate::signal::SignalPayload;

/// `$name`, or `default` when unset or empty.
pub(crate) fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// One tool hook, named for its messages (`puppet: …`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToolHook {
    /// The group, e.g. `ansible`.
    pub(crate) name: &'static str,
    /// What to install when the tool is missing, e.g. `ansible-core`.
    pub(crate) package: &'static str,
    /// The variable naming the tool's command, e.g. `HEAT_ANSIBLE_CMD`.
    pub(crate) command_env: &'static str,
}

impl ToolHook {
    /// The failed signal for deployment `id`, logged.
    pub(crate) fn failed(&self, id: &str, message: impl Display) -> SignalPayload {
        tracing::warn!(id, hook = self.name, "{message}");
        SignalPayload::new("", format!("{}: {message}", self.name), 1)
    }

    /// Refuses an id that cannot name the hook's files.
    pub(crate) fn check_id(&self, id: &str) -> Result<(), SignalPayload> {
        if is_safe_file_name(id) {
            Ok(())
        } else {
            Err(self.failed(
                id,
                format!("deployment id {id:?} cannot be used as a file name"),
            ))
        }
    }

    /// The config as text (`null` as empty); anything else fails, naming `what` it must be.
    pub(crate) fn text_config(
        &self,
        id: &str,
        config: &Value,
        what: &str,
    ) -> Result<String, SignalPayload> {
        match config {
            Value::String(s) => Ok(s.clone()),
            Value::Null => Ok(String::new()),
            other => Err(self.failed(
                id,
                format!(
                    "config must be {what}, not {}",
                    crate::json_file::kind(other)
                ),
            )),
        }
    }

    /// Creates (0700) and resolves the working and outputs directories.
    pub(crate) async fn dirs(
        &self,
        id: &str,
        working: &std::path::Path,
        outputs: &std::path::Path,
    ) -> Result<(PathBuf, PathBuf), SignalPayload> {
        match (create_dir(working).await, create_dir(outputs).await) {
            (Ok(w), Ok(o)) => Ok((w, o)),
            (Err(e), _) | (_, Err(e)) => Err(self.failed(id, e)),
        }
    }

    /// Writes each `(path, text, mode)`, atomically, off the runtime.
    pub(crate) async fn write(
        &self,
        id: &str,
        files: Vec<(PathBuf, String, u32)>,
    ) -> Result<(), SignalPayload> {
        let written = tokio::task::spawn_blocking(move || {
            files
                .iter()
                .try_for_each(|(path, text, mode)| write_text_file(path, text, *mode))
        })
        .await;
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.failed(id, e)),
            Err(e) => Err(self.failed(id, e)),
        }
    }

    /// The command for a tool the multi-call agent also is (`cfn-init`, `os-apply-config`):
    /// `$command_env` when set; else `name` when it is on `PATH`; else `own` (the agent's
    /// executable) run under the name `name`; else `name`, which then fails as missing.
    /// Also answers the program as shown in messages.
    pub(crate) fn own_tool_command(&self, name: &str, own: Option<&Path>) -> (Command, String) {
        crate::process::tool_command(self.command_env, name, own)
    }

    /// Runs `command` (program `program`) to its end or `timeout`.
    pub(crate) async fn run(
        &self,
        id: &str,
        command: Command,
        program: &str,
        timeout: Option<Duration>,
    ) -> Result<Completion, SignalPayload> {
        tracing::debug!(id, hook = self.name, program, "running the tool");
        match run_captured(command, None, timeout).await {
            Ok(done) => Ok(done),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(self.failed(
                id,
                format!(
                    "{program} is not installed (or not on PATH); install {} or set {}",
                    self.package, self.command_env
                ),
            )),
            Err(err) => Err(self.failed(id, format!("cannot run {program}: {err}"))),
        }
    }
}
