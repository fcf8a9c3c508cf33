//! The collector settings in effect, kept in `<state-dir>/collector.json` (0600, written
//! atomically) whenever they change, so that a restarted agent polls where the last
//! document told it to, not where its (possibly stale) command line says.
//!
//! The file also records a fingerprint of the command-line settings it was derived from:
//! when the operator starts the agent with *different* collector options, those win (and
//! replace the file); with the same options (a plain restart) or none, the file wins.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CollectorSettings;
use crate::state::{StateError, write_atomic};

/// File name under the state directory.
pub const FILE: &str = "collector.json";

/// Content of [`FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// SHA-256 (hex) of the command-line settings in force when this was written, if any.
    pub configured: Option<String>,
    /// The settings in effect.
    pub settings: CollectorSettings,
}

/// Path of [`FILE`] in `state_dir`.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The fingerprint of command-line settings (no secret can be read back from it).
pub fn fingerprint(settings: &CollectorSettings) -> String {
    let bytes = serde_json::to_vec(settings).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The saved settings, if the file exists.
pub async fn load(state_dir: &Path) -> Result<Option<Saved>, StateError> {
    let path = path(state_dir);
    match tokio::fs::read(&path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| StateError::Corrupt {
                path,
                reason: format!("line {} column {}", err.line(), err.column()),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Io {
            action: "read",
            path,
            source,
        }),
    }
}

/// Writes `saved`.
pub async fn store(state_dir: &Path, saved: &Saved) -> Result<(), StateError> {
    let path = path(state_dir);
    let bytes = serde_json::to_vec_pretty(saved).map_err(|err| StateError::Corrupt {
        path: path.clone(),
        reason: err.to_string(),
    })?;
    write_atomic(path, bytes).await
}

/// Which settings to start with: the saved ones unless the command line names different
/// ones; `None` when there are neither.
pub fn choose(cli: Option<&CollectorSettings>, saved: Option<Saved>) -> Option<Saved> {
    let Some(cli) = cli else {
        return saved;
    };
    let configured = Some(fingerprint(cli));
    match saved {
        Some(saved) if saved.configured == configured => Some(saved),
        _ => Some(Saved {
            configured,
            settings: cli.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::RequestSettings;
    use crate::secret::Secret;
    use std::os::unix::fs::PermissionsExt;

    fn request(url: &str) -> CollectorSettings {
        CollectorSettings::Request(RequestSettings {
            metadata_url: Secret::new(url),
        })
    }

    #[test]
    fn the_saved_settings_win_unless_the_command_line_changed() {
        let cli = request("http://a/");
        let switched = Saved {
            configured: Some(fingerprint(&cli)),
            settings: request("http://b/"),
        };
        assert_eq!(
            choose(Some(&cli), Some(switched.clone())),
            Some(switched.clone())
        );
        assert_eq!(choose(None, Some(switched.clone())), Some(switched.clone()));
        let other = request("http://c/");
        assert_eq!(
            choose(Some(&other), Some(switched)).map(|s| s.settings),
            Some(other)
        );
        assert_eq!(choose(None, None), None);
    }

    #[tokio::test]
    async fn stored_settings_are_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).await.unwrap(), None);
        let saved = Saved {
            configured: None,
            settings: request("http://x/?sig=1"),
        };
        store(dir.path(), &saved).await.unwrap();
        assert_eq!(load(dir.path()).await.unwrap(), Some(saved));
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
