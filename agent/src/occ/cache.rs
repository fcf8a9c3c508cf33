//! The cache directory (reference heat-agents.md §1.3): `<key>.json` (the current value),
//! `<key>.json.orig` (the first value ever), `<key>.json.last` (the value the command last
//! succeeded with) and `os_config_files.json` (the paths of this pass's keys). Values are
//! written as Python's `json.dumps(indent=1)` so the files are byte-compatible, always
//! through a temporary file that is synced and renamed, mode 0600 (they hold credentials).
//!
//! A change is a key seen for the first time, or whose value differs (as JSON, not as
//! bytes) from its `.last`. Deviation: a `.last` that does not parse counts as a change
//! and is logged (upstream raises and dies); a key that would name a file outside the
//! cache (`/`, `..`, empty) is refused (upstream writes wherever it points).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use updraft_hooks::python_json as pyjson;

/// os-collect-config writes its cache with `json.dumps(…, indent=1)`.
pub const INDENT_1: pyjson::Layout = pyjson::Layout {
    indent: Some(1),
    sort_keys: false,
};

/// The file listing the paths of the keys of the last pass with a change.
pub const META_LIST: &str = "os_config_files";

/// A cache operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A file operation.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A key that is not a plain file name.
    #[error("refusing key {0:?}: not usable as a file name in the cache directory")]
    BadKey(String),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CacheError {
    let path = path.to_path_buf();
    move |source| CacheError::Io {
        action,
        path,
        source,
    }
}

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `dir` (created on first store).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<key>.json`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    fn checked_path(&self, key: &str) -> Result<PathBuf, CacheError> {
        if key.is_empty() || key.contains('/') || key == "." || key == ".." || key.contains('\0') {
            return Err(CacheError::BadKey(key.to_string()));
        }
        Ok(self.path(key))
    }

    /// Stores `value` under `key`; returns whether it is a change and the path.
    pub fn store(&self, key: &str, value: &Value) -> Result<(bool, PathBuf), CacheError> {
        let dest = self.checked_path(key)?;
        fs::create_dir_all(&self.dir).map_err(io("create", &self.dir))?;
        let text = pyjson::dumps_with(value, INDENT_1);
        let orig = with_suffix(&dest, ".orig");
        let mut changed = false;
        if !orig.exists() {
            write_atomic(&orig, text.as_bytes())?;
            changed = true;
        }
        write_atomic(&dest, text.as_bytes())?;
        if !changed {
            let last = with_suffix(&dest, ".last");
            changed = match fs::read(&last) {
                Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(then) => then != *value,
                    Err(err) => {
                        tracing::warn!(path = %last.display(), line = err.line(), column = err.column(), "cached last value is not JSON; treating the key as changed");
                        true
                    }
                },
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
                Err(err) => return Err(io("read", &last)(err)),
            };
        }
        Ok((changed, dest))
    }

    /// The command succeeded with `key`'s current value: it becomes `.last`.
    pub fn commit(&self, key: &str) -> Result<(), CacheError> {
        let dest = self.checked_path(key)?;
        match fs::read(&dest) {
            Ok(bytes) => write_atomic(&with_suffix(&dest, ".last"), &bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io("read", &dest)(err)),
        }
    }

    /// Writes `os_config_files.json`: the paths of `keys`, in order.
    pub fn store_meta_list(&self, keys: &[String]) -> Result<PathBuf, CacheError> {
        let list = Value::Array(
            keys.iter()
                .map(|k| Value::String(self.path(k).to_string_lossy().into_owned()))
                .collect(),
        );
        let dest = self.path(META_LIST);
        write_atomic(&dest, pyjson::dumps(&list).as_bytes())?;
        Ok(dest)
    }

    /// The current value of `key`, if cached and valid JSON (`None` otherwise, logged).
    pub fn load(&self, key: &str) -> Option<Value> {
        let path = self.checked_path(key).ok()?;
        let bytes = fs::read(&path).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::warn!(path = %path.display(), line = err.line(), column = err.column(), "cached value is not JSON; ignoring it");
                None
            }
        }
    }

    /// Replaces `backup` with a copy of the cache directory.
    pub fn backup_to(&self, backup: &Path) -> Result<(), CacheError> {
        match fs::remove_dir_all(backup) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io("remove", backup)(err)),
        }
        if self.dir.exists() {
            copy_tree(&self.dir, backup)?;
        }
        Ok(())
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// Writes `bytes` to `path` through a synced 0600 temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io("create a file in", dir))?;
    file.write_all(bytes).map_err(io("write", file.path()))?;
    file.as_file().sync_all().map_err(io("sync", file.path()))?;
    file.persist(path).map_err(|e| CacheError::Io {
        action: "rename into",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), CacheError> {
    fs::create_dir_all(to).map_err(io("create", to))?;
    for entry in fs::read_dir(from).map_err(io("list", from))? {
        let entry = entry.map_err(io("list", from))?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(io("stat", &entry.path()))?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).map_err(io("copy", &entry.path()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn first_sight_and_differences_from_last_are_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let (changed, path) = cache.store("heat_local", &json!({"a": 1})).unwrap();
        assert!(changed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n \"a\": 1\n}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let orig = dir.path().join("c/heat_local.json.orig");
        assert_eq!(std::fs::read_to_string(&orig).unwrap(), "{\n \"a\": 1\n}");
        // No .last yet: still a change.
        assert!(cache.store("heat_local", &json!({"a": 1})).unwrap().0);
        cache.commit("heat_local").unwrap();
        assert!(!cache.store("heat_local", &json!({"a": 1})).unwrap().0);
        assert!(cache.store("heat_local", &json!({"a": 2})).unwrap().0);
        // .orig keeps the first value.
        assert_eq!(std::fs::read_to_string(&orig).unwrap(), "{\n \"a\": 1\n}");
    }

    #[test]
    fn corrupt_last_is_a_change_and_bad_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        cache.store("k", &json!(1)).unwrap();
        std::fs::write(dir.path().join("k.json.last"), "{oops").unwrap();
        assert!(cache.store("k", &json!(1)).unwrap().0);
        assert!(matches!(
            cache.store("../x", &json!(1)),
            Err(CacheError::BadKey(_))
        ));
        assert!(matches!(
            cache.store("", &json!(1)),
            Err(CacheError::BadKey(_))
        ));
        std::fs::write(dir.path().join("bad.json"), "nope").unwrap();
        assert_eq!(cache.load("bad"), None);
    }

    #[test]
    fn meta_list_and_backup() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        cache.store("a", &json!({})).unwrap();
        let meta = cache.store_meta_list(&["a".into(), "b".into()]).unwrap();
        let c = dir.path().join("c");
        assert_eq!(
            std::fs::read_to_string(meta).unwrap(),
            format!("[\"{0}/a.json\", \"{0}/b.json\"]", c.display())
        );
        let backup = dir.path().join("backup");
        std::fs::create_dir(&backup).unwrap();
        std::fs::write(backup.join("stale"), "x").unwrap();
        cache.backup_to(&backup).unwrap();
        assert!(!backup.join("stale").exists());
        assert!(backup.join("a.json.orig").exists());
    }
}
