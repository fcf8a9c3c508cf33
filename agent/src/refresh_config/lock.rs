//! The run lock: one os-refresh-config at a time, as upstream's `flock` on `--lockfile`.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be opened or created.
    #[error("could not open lock file {path}: {source}")]
    Open {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another process holds the lock (or `flock` failed otherwise).
    #[error("could not lock {path}: {errno}")]
    Held {
        /// The lock file.
        path: PathBuf,
        /// `EWOULDBLOCK` when held; upstream exits with this number (11).
        errno: Errno,
    },
}

impl LockError {
    /// The exit status upstream gives: the errno of a failed `flock`, else 1.
    pub fn exit_status(&self) -> u8 {
        match self {
            LockError::Open { .. } => 1,
            LockError::Held { errno, .. } => u8::try_from(*errno as i32).unwrap_or(1),
        }
    }
}

/// An exclusive hold on the lock file, released (and the file emptied) on drop.
#[derive(Debug)]
pub struct RunLock {
    file: Flock<File>,
}

impl RunLock {
    /// Takes the lock without waiting and records who holds it in the file.
    pub fn acquire(path: &Path) -> Result<RunLock, LockError> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| LockError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let file = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
            LockError::Held {
                path: path.to_path_buf(),
                errno,
            }
        })?;
        // The holder note is informational; failing to write it does not matter.
        let _ = file.set_len(0);
        let _ = writeln!(
            &*file,
            "Locked by pid=={} at {}",
            std::process::id(),
            chrono::Local::now().to_rfc3339()
        );
        Ok(RunLock { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Upstream empties the file at exit; the lock itself goes with the descriptor.
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_upstreams_status_and_the_file_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orc.lock");
        let first = RunLock::acquire(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("Locked by pid=={} at ", std::process::id())));
        let err = RunLock::acquire(&path).unwrap_err();
        assert_eq!(err.exit_status(), 11);
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        assert!(RunLock::acquire(&path).is_ok());
    }
}
