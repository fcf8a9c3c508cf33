//! Writing JSON data files as heat-agents' hooks write them: `json.dumps(data, indent=4,
//! sort_keys=True, separators=(',', ': '))`, parents created 0700, each file replaced
//! atomically (a temp file in the same directory, fsync, rename) so a reader never sees
//! half a file.

use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::python_json::{self, Layout};

/// heat-agents' layout for data files.
const DATA_FILE: Layout = Layout {
    indent: Some(4),
    sort_keys: true,
};

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct WriteError {
    /// What was being done.
    pub action: &'static str,
    /// The path.
    pub path: PathBuf,
    /// Why.
    pub source: io::Error,
}

/// Creates `dir` and its missing parents with mode 0700 (existing ones are left alone).
pub fn prepare_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| WriteError {
            action: "create directory",
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes `data` to `path` as heat-agents' data files, with `mode`, replacing any old file
/// atomically. The parent directory is created (0700) when missing.
pub fn write_json_file(path: &Path, data: &Value, mode: u32) -> Result<(), WriteError> {
    write_text_file(path, &python_json::dumps_with(data, DATA_FILE), mode)
}

/// Writes `text` to `path` with `mode`, atomically, creating the parent (0700).
pub fn write_text_file(path: &Path, text: &str, mode: u32) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    prepare_dir(parent)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = parent.join(format!(".{name}.updraft-tmp"));
    let err = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| WriteError {
            action,
            path: p,
            source,
        }
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temp)
        .map_err(err("create", &temp))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(err("write", &temp))?;
    std::fs::rename(&temp, path).map_err(err("replace", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_are_written_as_heat_agents_writes_them() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/c.json");
        write_json_file(&path, &json!({"z": [1, {}], "a": "é"}), 0o600).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n    \"a\": \"\\u00e9\",\n    \"z\": [\n        1,\n        {}\n    ]\n}"
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        // Replaced, not appended to.
        write_json_file(&path, &json!(1), 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1");
    }
}
