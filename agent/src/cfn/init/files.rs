//! `files`: `{path: {content | source, owner, group, mode}}`.
//!
//! `content` is written as given when it is a string, and as JSON (exactly as Python's
//! `json.dumps(indent=4)`) when it is anything else: upstream crashes there on
//! Python 3 and leaves an empty file. `source` is downloaded. Parents are created; the
//! file is written through a temporary file and a rename, with its mode and owner set
//! before it appears. `mode` is an octal string (`"000644"`); `owner`/`group` are names
//! that must exist (upstream silently ignores unknown ones).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Context, InitError, kind};

/// `mode` as permission bits.
pub fn parse_mode(mode: &Value, at: &str) -> Result<u32, InitError> {
    let text = match mode {
        Value::String(s) => s.as_str(),
        other => {
            return Err(InitError::invalid(
                at,
                format!(
                    "mode must be an octal string such as \"000644\", not {}",
                    kind(other)
                ),
            ));
        }
    };
    let bits = (!text.is_empty() && text.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        .then(|| u32::from_str_radix(text, 8).ok())
        .flatten()
        .filter(|b| *b <= 0o7777)
        .ok_or_else(|| InitError::invalid(at, format!("mode {text:?} is not an octal string")))?;
    Ok(bits)
}

/// The bytes `content` stands for: a string as is, anything else as Python's
/// `json.dumps(content, indent=4)` writes it.
pub fn content_bytes(content: &Value) -> Vec<u8> {
    match content {
        Value::String(s) => s.clone().into_bytes(),
        other => updraft_hooks::python_json::dumps_with(
            other,
            updraft_hooks::python_json::Layout {
                indent: Some(4),
                sort_keys: false,
            },
        )
        .into_bytes(),
    }
}

fn user_id(name: &str, at: &str) -> Result<nix::unistd::Uid, InitError> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| u.uid)
        .ok_or_else(|| InitError::invalid(&format!("{at}.owner"), format!("no user {name:?}")))
}

fn group_id(name: &str, at: &str) -> Result<nix::unistd::Gid, InitError> {
    nix::unistd::Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid)
        .ok_or_else(|| InitError::invalid(&format!("{at}.group"), format!("no group {name:?}")))
}

fn name_of<'a>(
    meta: &'a Map<String, Value>,
    key: &str,
    at: &str,
) -> Result<Option<&'a str>, InitError> {
    match meta.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(InitError::invalid(
            &format!("{at}.{key}"),
            format!("must be a string, not {}", kind(other)),
        )),
    }
}

/// Writes every file.
pub fn apply(files: &Map<String, Value>, at: &str, ctx: &mut Context<'_>) -> Result<(), InitError> {
    for (path, meta) in files {
        let here = format!("{at}.{path}");
        let meta = match meta {
            Value::Object(m) => m,
            other => {
                return Err(InitError::invalid(
                    &here,
                    format!("must be a map, not {}", kind(other)),
                ));
            }
        };
        if path.is_empty() || path.ends_with('/') {
            return Err(InitError::invalid(&here, "is not a file path"));
        }
        // Checked before anything is written.
        let mode = meta.get("mode").map(|m| parse_mode(m, &here)).transpose()?;
        let uid = name_of(meta, "owner", &here)?
            .map(|n| user_id(n, &here))
            .transpose()?;
        let gid = name_of(meta, "group", &here)?
            .map(|n| group_id(n, &here))
            .transpose()?;
        let dest = ctx.rooted(path);
        let io = |p: &Path| {
            let p: PathBuf = p.to_path_buf();
            let here = here.clone();
            move |source| InitError::Io {
                at: here,
                path: p,
                source,
            }
        };
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&parent).map_err(io(&parent))?;
        if let Some(content) = meta.get("content") {
            tmp.write_all(&content_bytes(content)).map_err(io(&dest))?;
        } else if let Some(source) = meta.get("source") {
            let Value::String(url) = source else {
                return Err(InitError::invalid(
                    &format!("{here}.source"),
                    format!("must be a URL string, not {}", kind(source)),
                ));
            };
            ctx.fetcher
                .fetch(url, tmp.path())
                .map_err(|reason| InitError::Download {
                    at: here.clone(),
                    url: url.clone(),
                    reason,
                })?;
        } else {
            return Err(InitError::invalid(&here, "has neither content nor source"));
        }
        // Without a mode, an existing file keeps its own (as upstream's rewrite in place)
        // and a new one gets 0644 (the temporary file is 0600).
        let bits = mode
            .or_else(|| {
                std::fs::metadata(&dest)
                    .ok()
                    .map(|m| m.permissions().mode() & 0o7777)
            })
            .unwrap_or(0o644);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(bits))
            .map_err(io(&dest))?;
        if uid.is_some() || gid.is_some() {
            nix::unistd::chown(tmp.path(), uid, gid)
                .map_err(|e| io(&dest)(std::io::Error::from(e)))?;
        }
        tmp.persist(&dest).map_err(|e| io(&dest)(e.error))?;
        tracing::info!(at = %here, path = %dest.display(), "file written");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::init::test_support::FakeFetcher;
    use crate::cfn::run::FakeRunner;
    use serde_json::json;

    #[test]
    fn modes_are_octal_strings() {
        assert_eq!(parse_mode(&json!("000644"), "F").unwrap(), 0o644);
        assert_eq!(parse_mode(&json!("4755"), "F").unwrap(), 0o4755);
        let e = parse_mode(&json!("abc"), "I.config.files./etc/x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "I.config.files./etc/x: mode \"abc\" is not an octal string"
        );
        assert!(parse_mode(&json!("0999"), "F").is_err());
        assert!(parse_mode(&json!("77777"), "F").is_err());
        assert!(parse_mode(&json!(644), "F").is_err());
    }

    #[test]
    fn json_content_is_written_as_json() {
        assert_eq!(
            String::from_utf8(content_bytes(&json!({"a": [1, "b"]}))).unwrap(),
            "{\n    \"a\": [\n        1,\n        \"b\"\n    ]\n}"
        );
        assert_eq!(content_bytes(&json!("x\n")), b"x\n");
    }

    #[test]
    fn files_are_written_under_the_root_with_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let mut runner = FakeRunner::default();
        let mut fetcher = FakeFetcher(vec![("http://h/f".into(), b"fetched".to_vec())]);
        let mut ctx = Context {
            runner: &mut runner,
            fetcher: &mut fetcher,
            root: Some(dir.path().to_path_buf()),
        };
        let files = json!({
            "/etc/app/a.conf": {"content": "a=1\n", "mode": "000600"},
            "/etc/app/b.json": {"content": {"k": "v"}},
            "/etc/app/c": {"source": "http://h/f"},
        });
        apply(files.as_object().unwrap(), "F", &mut ctx).unwrap();
        let a = dir.path().join("etc/app/a.conf");
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "a=1\n");
        assert_eq!(
            std::fs::metadata(&a).unwrap().permissions().mode() & 0o7777,
            0o600
        );
        let b: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("etc/app/b.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(b, json!({"k": "v"}));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("etc/app/c")).unwrap(),
            "fetched"
        );
        let e = apply(
            json!({"/x": {"mode": "644"}}).as_object().unwrap(),
            "F",
            &mut ctx,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "F./x: has neither content nor source");
        let e = apply(
            json!({"/x": {"content": "", "owner": "no-such-user-here"}})
                .as_object()
                .unwrap(),
            "F",
            &mut ctx,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "F./x.owner: no user \"no-such-user-here\"");
    }
}
