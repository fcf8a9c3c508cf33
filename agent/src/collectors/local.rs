//! os-collect-config's `local` collector (reference heat-agents.md §1.5): every regular,
//! non-dot file of each `[local] path` directory, parsed as JSON, one key per file named
//! by its file name (extension included: `foo.json` is the key `foo.json`), sorted by
//! name in byte order (upstream's C-locale `strxfrm`, without its locale crash, §1.7 Q2).
//!
//! A missing directory is skipped. A directory owned by another user or world-writable, a
//! world-writable file, or a file that is not JSON makes the whole collector unavailable.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde_json::Value;

use crate::occ::source::{Collected, SourceError};

/// Reads the directories in `paths` as the current user (`uid`).
pub fn collect(paths: &[PathBuf], uid: u32) -> Result<Vec<Collected>, SourceError> {
    if paths.is_empty() {
        return Err(SourceError::NotAvailable(
            "no [local] path configured".into(),
        ));
    }
    let mut found: Vec<Collected> = Vec::new();
    for dir in paths {
        let Ok(meta) = std::fs::metadata(dir) else {
            tracing::warn!(path = %dir.display(), "not found; skipping");
            continue;
        };
        if meta.uid() != uid {
            tracing::error!(path = %dir.display(), "owned by another user; this is a security risk");
            return Err(SourceError::NotAvailable(format!(
                "{} is owned by another user",
                dir.display()
            )));
        }
        if meta.mode() & 0o002 != 0 {
            tracing::error!(path = %dir.display(), "world writable; this is a security risk");
            return Err(SourceError::NotAvailable(format!(
                "{} is world writable",
                dir.display()
            )));
        }
        let entries = std::fs::read_dir(dir).map_err(|e| {
            SourceError::NotAvailable(format!("cannot list {}: {e}", dir.display()))
        })?;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // Follows symlinks, as upstream's stat.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                continue;
            }
            if meta.mode() & 0o002 != 0 {
                tracing::error!(path = %path.display(), "world writable; this is a security risk");
                return Err(SourceError::NotAvailable(format!(
                    "{} is world writable",
                    path.display()
                )));
            }
            let bytes = std::fs::read(&path).map_err(|e| {
                SourceError::NotAvailable(format!("cannot read {}: {e}", path.display()))
            })?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                tracing::error!(path = %path.display(), line = e.line(), column = e.column(), "not valid JSON");
                SourceError::NotAvailable(format!("{} is not valid JSON", path.display()))
            })?;
            found.push((name, value));
        }
    }
    if found.is_empty() {
        tracing::info!("no local metadata found");
    }
    // Stable, as Python's sort: equal names keep their directory order.
    found.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    fn uid() -> u32 {
        std::fs::metadata(tempfile::tempdir().unwrap().path())
            .unwrap()
            .uid()
    }

    #[test]
    fn files_are_keys_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.json"), "{\"b\": 1}").unwrap();
        std::fs::write(dir.path().join("A"), "[1]").unwrap();
        std::fs::write(dir.path().join(".hidden"), "not json").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let missing = dir.path().join("missing");
        let out = collect(&[missing, dir.path().to_path_buf()], uid()).unwrap();
        assert_eq!(
            out,
            vec![("A".into(), json!([1])), ("b.json".into(), json!({"b": 1}))]
        );
    }

    #[test]
    fn insecure_or_invalid_input_makes_the_collector_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [dir.path().to_path_buf()];
        std::fs::write(dir.path().join("bad"), "{").unwrap();
        assert!(
            matches!(collect(&paths, uid()), Err(SourceError::NotAvailable(m)) if m.ends_with("bad is not valid JSON"))
        );
        std::fs::write(dir.path().join("bad"), "{}").unwrap();
        std::fs::set_permissions(
            dir.path().join("bad"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        assert!(
            matches!(collect(&paths, uid()), Err(SourceError::NotAvailable(m)) if m.ends_with("world writable"))
        );
        std::fs::set_permissions(
            dir.path().join("bad"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(collect(&paths, uid()).is_ok());
        assert!(
            matches!(collect(&paths, uid() + 1), Err(SourceError::NotAvailable(m)) if m.contains("another user"))
        );
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(collect(&paths, uid()).is_err());
    }
}
