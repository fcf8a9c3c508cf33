//! Writing rendered files: atomically (temp file in the target directory, then rename),
//! with the control file's mode/owner/group, else the replaced file's, else 0644.

use std::fs::Permissions;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid, chown};

use super::control::Control;

/// Why an output file was not written.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {path}: {source}")]
pub struct WriteError {
    /// What was being done.
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: io::Error,
}

/// What [`write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file was (re)written.
    Written,
    /// The body was empty and empty files are not allowed: the old file was removed.
    Deleted,
    /// The body was empty, empty files are not allowed and there was no file.
    Skipped,
}

/// Writes `body` to `path` as `control` says.
pub fn write(path: &Path, body: &[u8], control: &Control) -> Result<Outcome, WriteError> {
    let err = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError {
            action,
            path,
            source,
        }
    };
    if !control.allow_empty && body.is_empty() {
        if path.exists() {
            tracing::info!(path = %path.display(), "deleting");
            std::fs::remove_file(path).map_err(err("delete", path))?;
            return Ok(Outcome::Deleted);
        }
        tracing::info!(path = %path.display(), "not creating empty file");
        return Ok(Outcome::Skipped);
    }
    tracing::info!(path = %path.display(), "writing");
    let existing = std::fs::metadata(path).ok();
    // Set-id and sticky bits of the replaced file are kept too.
    let mode = control
        .mode
        .or(existing.as_ref().map(|m| m.mode() & 0o7777))
        .unwrap_or(0o644);
    let uid = control.owner.or(existing.as_ref().map(MetadataExt::uid));
    let gid = control.group.or(existing.as_ref().map(MetadataExt::gid));
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err("create directory", dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".oac-")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(err("create a temp file in", dir))?;
    tmp.write_all(body).map_err(err("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(err("sync", tmp.path()))?;
    if uid.is_some() || gid.is_some() {
        chown(tmp.path(), uid.map(Uid::from_raw), gid.map(Gid::from_raw))
            .map_err(|e| err("change the owner of", tmp.path())(io::Error::from(e)))?;
    }
    // chmod after chown: chown clears set-id bits, which upstream (chmod first) loses.
    std::fs::set_permissions(tmp.path(), Permissions::from_mode(mode))
        .map_err(err("set the mode of", tmp.path()))?;
    tmp.persist(path)
        .map_err(|e| err("rename a temp file to", path)(e.error))?;
    Ok(Outcome::Written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_comes_from_control_then_the_old_file_then_0644() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/f");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(
            write(&path, b"1", &Control::default()).unwrap(),
            Outcome::Written
        );
        assert_eq!(mode(&path), 0o644);
        std::fs::set_permissions(&path, Permissions::from_mode(0o4750)).unwrap();
        write(&path, b"2", &Control::default()).unwrap();
        assert_eq!(
            (mode(&path), std::fs::read(&path).unwrap()),
            (0o4750, b"2".to_vec())
        );
        let ctl = Control {
            mode: Some(0o600),
            ..Control::default()
        };
        write(&path, b"3", &ctl).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn empty_bodies_delete_when_not_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let ctl = Control {
            allow_empty: false,
            ..Control::default()
        };
        assert_eq!(write(&path, b"", &ctl).unwrap(), Outcome::Skipped);
        std::fs::write(&path, "old").unwrap();
        assert_eq!(write(&path, b"", &ctl).unwrap(), Outcome::Deleted);
        assert!(!path.exists());
        assert_eq!(
            write(&path, b"", &Control::default()).unwrap(),
            Outcome::Written
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"");
    }
}
