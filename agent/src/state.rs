//! The deployed-state directory: what has run and what has been signalled, per derived
//! config id. It is what makes a deployment run once per action, across agent restarts.
//!
//! Layout of `<state-dir>/deployed/` (0700; files 0600, each written atomically):
//! - `<id>.json`: the deployment, written *before* its hook runs;
//! - `<id>.notify.json`: the signal payload, written after the hook finished;
//! - `<id>.signalled`: a [`SignalMarker`], written once delivery is settled.
//!
//! An id with only `<id>.json` belongs to a hook the agent was running when it died: it is
//! never run again, but reported failed ([`interrupted_payload`]).

use std::fs::{DirBuilder, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use updraft_hooks::names::is_safe_file_name;
use updraft_hooks::{Deployment, SignalPayload};

/// Sub-directory of the state dir holding the records.
pub const DEPLOYED_DIR: &str = "deployed";

const TEMP_PREFIX: &str = ".tmp-";

/// The state directory's copy of the current metadata document.
pub const METADATA_FILE: &str = "metadata.json";

/// `deploy_stderr` of the payload sent for a deployment whose hook was interrupted.
pub const INTERRUPTED_MESSAGE: &str =
    "updraft-agent restarted while this deployment's hook was running; it was not run again";

/// `deploy_stderr` of the payload sent for a deployment whose stored result is unreadable.
pub const UNREADABLE_MESSAGE: &str = "updraft-agent could not read the stored result of this deployment's hook (corrupt state file); it was not run again";

/// A state-directory operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The deployment id cannot be a file name.
    #[error("deployment id {0:?} cannot be used as a file name")]
    UnsafeId(String),
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`write`, `read`, `create`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A record holds invalid JSON.
    #[error("corrupt state file {}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error (position only).
        reason: String,
    },
    /// The blocking worker running a state write was lost.
    #[error("state write for {0} did not complete")]
    Worker(String),
}

/// How far a deployment has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Never seen: run it.
    New,
    /// Recorded but no payload: the hook was interrupted.
    HookInterrupted,
    /// Payload written, signal not yet settled.
    AwaitingSignal,
    /// Signal delivered, given up, or nothing to send.
    Done,
}

/// How signalling a deployment was settled (content of `<id>.signalled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SignalMarker {
    /// The server acknowledged the signal.
    Delivered {
        /// The 2xx status it answered.
        http_status: u16,
    },
    /// The deployment has no signal transport (NO_SIGNAL).
    NoSignal,
    /// The group is never signalled (`Heat::Ungrouped`, `os-apply-config`).
    NotSignalled,
    /// The transport is not implemented by this agent.
    UnsupportedTransport {
        /// Its name, e.g. `HEAT_SIGNAL`.
        transport: String,
    },
    /// Delivery was abandoned with an error (e.g. the server kept answering 404).
    GaveUp {
        /// Why.
        error: String,
    },
}

/// The payload reported for a deployment whose hook was running when the agent died.
pub fn interrupted_payload() -> SignalPayload {
    SignalPayload::new("", INTERRUPTED_MESSAGE, 1)
}

/// The payload reported for a deployment whose stored payload is corrupt.
pub fn unreadable_payload() -> SignalPayload {
    SignalPayload::new("", UNREADABLE_MESSAGE, 1)
}

/// The deployed-state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io {
        action,
        path,
        source,
    }
}

impl StateDir {
    /// Opens (creating, 0700) `<state_dir>/deployed` and removes temp files left by a crash.
    pub fn open(state_dir: &Path) -> Result<Self, StateError> {
        let dir = state_dir.join(DEPLOYED_DIR);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io_err("create", &dir))?;
        std::fs::set_permissions(&dir, Permissions::from_mode(0o700))
            .map_err(io_err("set permissions of", &dir))?;
        for entry in std::fs::read_dir(&dir).map_err(io_err("list", &dir))? {
            let entry = entry.map_err(io_err("list", &dir))?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(StateDir { dir })
    }

    /// The `deployed` directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn file(&self, id: &str, suffix: &str) -> Result<PathBuf, StateError> {
        // An id ending in `.notify` would alias another id's payload file.
        if !is_safe_file_name(id) || id.ends_with(".notify") || id.starts_with(TEMP_PREFIX) {
            return Err(StateError::UnsafeId(id.to_string()));
        }
        Ok(self.dir.join(format!("{id}{suffix}")))
    }

    fn record_path(&self, id: &str) -> Result<PathBuf, StateError> {
        self.file(id, ".json")
    }

    fn notify_path(&self, id: &str) -> Result<PathBuf, StateError> {
        self.file(id, ".notify.json")
    }

    fn marker_path(&self, id: &str) -> Result<PathBuf, StateError> {
        self.file(id, ".signalled")
    }

    /// How far deployment `id` has got.
    pub async fn progress(&self, id: &str) -> Result<Progress, StateError> {
        let exists = |path: PathBuf| async move {
            tokio::fs::try_exists(&path)
                .await
                .map_err(io_err("check", &path))
        };
        if exists(self.marker_path(id)?).await? {
            Ok(Progress::Done)
        } else if exists(self.notify_path(id)?).await? {
            Ok(Progress::AwaitingSignal)
        } else if exists(self.record_path(id)?).await? {
            Ok(Progress::HookInterrupted)
        } else {
            Ok(Progress::New)
        }
    }

    /// Step 1: records `deployment` as started. Must succeed before its hook runs.
    pub async fn record(&self, deployment: &Deployment) -> Result<(), StateError> {
        let path = self.record_path(&deployment.id)?;
        let json = serde_json::to_vec_pretty(deployment).map_err(|err| StateError::Corrupt {
            path: path.clone(),
            reason: err.to_string(),
        })?;
        write_atomic(path, json).await
    }

    /// Keeps the current metadata document as `<state_dir>/`[`METADATA_FILE`] (0600: it
    /// holds signal URLs and credentials), which the `apply-config` hook's os-apply-config
    /// renders from when `OS_CONFIG_FILES` is not set.
    pub async fn write_metadata(&self, document: &serde_json::Value) -> Result<(), StateError> {
        let root = self.dir.parent().unwrap_or(Path::new("."));
        let bytes = serde_json::to_vec(document).unwrap_or_default();
        write_atomic(root.join(METADATA_FILE), bytes).await
    }

    /// Step 2: stores the signal payload of `id`.
    pub async fn write_notify(&self, id: &str, payload: &SignalPayload) -> Result<(), StateError> {
        let path = self.notify_path(id)?;
        write_atomic(path, payload.to_body()).await
    }

    /// The stored signal payload of `id`.
    pub async fn read_notify(&self, id: &str) -> Result<SignalPayload, StateError> {
        let path = self.notify_path(id)?;
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(io_err("read", &path))?;
        serde_json::from_slice(&bytes).map_err(|err| StateError::Corrupt {
            path,
            reason: format!("line {} column {}", err.line(), err.column()),
        })
    }

    /// Step 3: marks signalling of `id` settled.
    pub async fn mark_signalled(&self, id: &str, marker: &SignalMarker) -> Result<(), StateError> {
        let path = self.marker_path(id)?;
        let json = serde_json::to_vec(marker).map_err(|err| StateError::Corrupt {
            path: path.clone(),
            reason: err.to_string(),
        })?;
        write_atomic(path, json).await
    }

    /// The settled outcome of `id`, if any.
    pub async fn read_marker(&self, id: &str) -> Result<Option<SignalMarker>, StateError> {
        let path = self.marker_path(id)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|err| StateError::Corrupt {
                        path,
                        reason: err.to_string(),
                    })
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(io_err("read", &path)(err)),
        }
    }

    /// Ids whose hook was interrupted (a record without a payload), sorted.
    pub async fn interrupted(&self) -> Result<Vec<String>, StateError> {
        let mut entries = tokio::fs::read_dir(&self.dir)
            .await
            .map_err(io_err("list", &self.dir))?;
        let mut ids = Vec::new();
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(io_err("list", &self.dir))?
        {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(TEMP_PREFIX) || name.ends_with(".notify.json") {
                continue;
            }
            if let Some(id) = name.strip_suffix(".json")
                && self.progress(id).await? == Progress::HookInterrupted
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Start-up recovery: gives every interrupted deployment the failure payload, so it is
    /// signalled failed instead of being run again. Returns the ids it settled.
    pub async fn recover_interrupted(&self) -> Result<Vec<String>, StateError> {
        let ids = self.interrupted().await?;
        for id in &ids {
            tracing::warn!(id = %id, "hook of this deployment was interrupted by an agent restart; reporting it failed");
            self.write_notify(id, &interrupted_payload()).await?;
        }
        Ok(ids)
    }
}

/// Writes `bytes` to `path` atomically and durably: temp file (0600) in the same directory,
/// fsync, rename over `path`, fsync the directory. Runs on the blocking pool.
pub(crate) async fn write_atomic(path: PathBuf, bytes: Vec<u8>) -> Result<(), StateError> {
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || write_atomic_blocking(&path, &bytes))
        .await
        .map_err(|_| StateError::Worker(shown))?
}

fn write_atomic_blocking(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(io_err("create a temp file in", dir))?;
    tmp.write_all(bytes).map_err(io_err("write", tmp.path()))?;
    tmp.as_file()
        .sync_all()
        .map_err(io_err("sync", tmp.path()))?;
    tmp.persist(path)
        .map_err(|err| io_err("rename a temp file to", path)(err.error))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(id: &str) -> Deployment {
        serde_json::from_value(json!({"id": id, "group": "script", "config": "#!/bin/sh\n"}))
            .unwrap()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn record_then_notify_then_signalled() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        assert_eq!(mode(state.path()), 0o700);
        let d = deployment("c1");
        assert_eq!(state.progress("c1").await.unwrap(), Progress::New);

        state.record(&d).await.unwrap();
        assert_eq!(
            state.progress("c1").await.unwrap(),
            Progress::HookInterrupted
        );
        let recorded: Deployment =
            serde_json::from_slice(&std::fs::read(state.path().join("c1.json")).unwrap()).unwrap();
        assert_eq!(recorded, d);
        assert_eq!(mode(&state.path().join("c1.json")), 0o600);

        let payload = SignalPayload::new("out", "", 0);
        state.write_notify("c1", &payload).await.unwrap();
        assert_eq!(
            state.progress("c1").await.unwrap(),
            Progress::AwaitingSignal
        );
        assert_eq!(state.read_notify("c1").await.unwrap(), payload);

        let marker = SignalMarker::Delivered { http_status: 200 };
        state.mark_signalled("c1", &marker).await.unwrap();
        assert_eq!(state.progress("c1").await.unwrap(), Progress::Done);
        assert_eq!(state.read_marker("c1").await.unwrap(), Some(marker));
        assert_eq!(mode(&state.path().join("c1.signalled")), 0o600);
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(state.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| !n.starts_with(TEMP_PREFIX)),
            "{names:?}"
        );
    }

    #[tokio::test]
    async fn restart_turns_an_interrupted_hook_into_a_failure_payload() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        state.record(&deployment("crashed")).await.unwrap();
        state.record(&deployment("pending")).await.unwrap();
        state
            .write_notify("pending", &SignalPayload::new("ok", "", 0))
            .await
            .unwrap();
        std::fs::write(state.path().join(".tmp-leftover"), "x").unwrap();

        // A new agent process opens the same directory.
        let state = StateDir::open(tmp.path()).unwrap();
        assert!(!state.path().join(".tmp-leftover").exists());
        assert_eq!(state.interrupted().await.unwrap(), ["crashed"]);
        assert_eq!(state.recover_interrupted().await.unwrap(), ["crashed"]);

        let failure = state.read_notify("crashed").await.unwrap();
        assert_eq!(
            serde_json::to_value(&failure).unwrap(),
            json!({"deploy_stdout": "", "deploy_stderr": INTERRUPTED_MESSAGE, "deploy_status_code": 1})
        );
        // Both now wait for (re-)delivery; nothing is left to run.
        for id in ["crashed", "pending"] {
            assert_eq!(state.progress(id).await.unwrap(), Progress::AwaitingSignal);
        }
        assert_eq!(
            state.read_notify("pending").await.unwrap(),
            SignalPayload::new("ok", "", 0)
        );
        assert!(state.recover_interrupted().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn unsafe_ids_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path()).unwrap();
        assert!(matches!(
            state.record(&deployment("../x")).await,
            Err(StateError::UnsafeId(_))
        ));
        assert!(matches!(
            state.progress("").await,
            Err(StateError::UnsafeId(_))
        ));
    }
}
