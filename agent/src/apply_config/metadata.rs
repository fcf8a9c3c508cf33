//! The metadata os-apply-config renders against: which files, read and deep-merged in
//! order (later wins; maps merge, everything else is replaced).

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// Where os-collect-config lists the files it wrote, unless `OS_CONFIG_FILES_PATH` says.
pub const OS_CONFIG_FILES_PATH: &str = "/var/lib/os-collect-config/os_config_files.json";
/// The list's deprecated location, read when the current one lists nothing.
pub const OS_CONFIG_FILES_PATH_OLD: &str = "/var/run/os-collect-config/os_config_files.json";
/// Files merged first (lowest precedence) unless `--fallback-metadata` replaces them.
pub const FALLBACK_METADATA: [&str; 3] = [
    "/var/cache/heat-cfntools/last_metadata",
    "/var/lib/heat-cfntools/cfn-init-data",
    "/var/lib/cloud/data/cfn-init-data",
];

/// Why the metadata could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// A metadata file exists but could not be read.
    #[error("could not open {path} for reading: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A metadata file is not JSON.
    #[error("could not parse metadata file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// The os_config_files list is not a JSON list of paths.
    #[error("no list of paths in {path}: {reason}")]
    FileList {
        /// The list file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// The metadata files to merge when `-m` gives none: `OS_CONFIG_FILES` split on `:`, else
/// the list in `list_path` (and the deprecated list when that is empty and
/// `list_path` is the default).
pub fn default_files(list_path: &Path) -> Result<Vec<PathBuf>, MetadataError> {
    if let Some(files) = std::env::var_os("OS_CONFIG_FILES") {
        return Ok(std::env::split_paths(&files).collect());
    }
    let files = read_file_list(list_path)?;
    if files.is_empty() && list_path == Path::new(&default_list_path()) {
        tracing::warn!("DEPRECATED: falling back to {OS_CONFIG_FILES_PATH_OLD}");
        return read_file_list(Path::new(OS_CONFIG_FILES_PATH_OLD));
    }
    Ok(files)
}

/// `OS_CONFIG_FILES_PATH`, else [`OS_CONFIG_FILES_PATH`].
pub fn default_list_path() -> PathBuf {
    std::env::var_os("OS_CONFIG_FILES_PATH")
        .map_or_else(|| OS_CONFIG_FILES_PATH.into(), PathBuf::from)
}

fn read_file_list(path: &Path) -> Result<Vec<PathBuf>, MetadataError> {
    let list_err = |reason: String| MetadataError::FileList {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(list_err(e.to_string())),
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| list_err(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(list_err("not a JSON list".into()));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(PathBuf::from(s)),
            other => Err(list_err(format!("{other} is not a path"))),
        })
        .collect()
}

/// Reads `files` in order (empty names and missing files skipped), ignores documents
/// that are not non-empty maps, and deep-merges the rest.
pub fn collect(files: &[PathBuf]) -> Result<Value, MetadataError> {
    let mut merged = Map::new();
    for path in files.iter().filter(|p| !p.as_os_str().is_empty()) {
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|source| MetadataError::Read {
            path: path.clone(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|source| MetadataError::Parse {
            path: path.clone(),
            source,
        })?;
        if let Value::Object(map) = doc {
            merge_into(&mut merged, map);
        }
    }
    Ok(Value::Object(merged))
}

/// Merges `from` into `into`: a key holding a map in both merges recursively, anything
/// else is replaced (keeping the key's first position, as a Python dict does).
pub fn merge_into(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => merge_into(old, new),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The value at dotted `key`: map keys, and list indices (negative counting from the
/// end, as Python's do). `None` when a step is missing or the value is `null`.
pub fn extract<'a>(config: &'a Value, key: &str) -> Option<&'a Value> {
    let mut value = config;
    for part in key.split('.') {
        value = match value {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => {
                let index: i64 = part.trim().replace('_', "").parse().ok()?;
                let index = if index < 0 {
                    i64::try_from(items.len()).ok()? + index
                } else {
                    index
                };
                items.get(usize::try_from(index).ok()?)?
            }
            _ => return None,
        };
        if value.is_null() {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_files_win_and_maps_merge() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.json");
        std::fs::write(&a, r#"{"a": {"b": "x", "n": 5}, "l": [1, 2]}"#).unwrap();
        std::fs::write(&b, r#"{"a": {"b": "y"}, "l": [3]}"#).unwrap();
        let list = dir.path().join("list.json");
        std::fs::write(&list, "[1]").unwrap();
        let got = collect(&[a, "".into(), dir.path().join("missing"), b]).unwrap();
        assert_eq!(got, json!({"a": {"b": "y", "n": 5}, "l": [3]}));
        assert!(matches!(
            read_file_list(&list),
            Err(MetadataError::FileList { .. })
        ));
    }

    #[test]
    fn extract_walks_maps_and_list_indices() {
        let c = json!({"a": {"l": [{"c": 1}, {"c": null}, 7]}});
        assert_eq!(extract(&c, "a.l.0.c"), Some(&json!(1)));
        assert_eq!(extract(&c, "a.l.-1"), Some(&json!(7)));
        assert_eq!(extract(&c, "a.l.1.c"), None);
        assert_eq!(extract(&c, "a.l.9"), None);
        assert_eq!(extract(&c, "a.x"), None);
    }
}
