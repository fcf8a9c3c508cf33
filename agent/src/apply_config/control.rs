//! `.oac` control files: a YAML mapping beside a template saying how its output is
//! written (`allow_empty`, `mode`, `owner`, `group`). Scalars resolve as PyYAML's YAML 1.1
//! does (`0640` is octal, `yes`/`no` are booleans), which is what upstream reads.

use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Group, Uid, User};

/// How one output file is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// When false, an empty body deletes the output instead of writing it.
    pub allow_empty: bool,
    /// Permission bits (0..=0o777); `None` keeps the existing file's, else 0644.
    pub mode: Option<u32>,
    /// Owner uid; `None` keeps the existing file's.
    pub owner: Option<u32>,
    /// Group gid; `None` keeps the existing file's.
    pub group: Option<u32>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            allow_empty: true,
            mode: None,
            owner: None,
            group: None,
        }
    }
}

/// Why a control file was refused.
#[derive(Debug, thiserror::Error)]
#[error("control file {path}: {reason}")]
pub struct ControlError {
    /// The `.oac` file.
    pub path: PathBuf,
    /// What is wrong in it.
    pub reason: String,
}

/// A YAML 1.1 scalar as PyYAML resolves it.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Null => f.write_str("None"),
            Scalar::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Str(s) => f.write_str(s),
        }
    }
}

/// The control for the template at `template`: its `<template>.oac` if that is a file,
/// else the defaults.
pub fn for_template(template: &Path) -> Result<Control, ControlError> {
    let mut path = template.as_os_str().to_owned();
    path.push(super::templates::CONTROL_SUFFIX);
    let path = PathBuf::from(path);
    if !path.is_file() {
        return Ok(Control::default());
    }
    let err = |reason: String| ControlError {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    parse(&text).map_err(err)
}

/// Parses a control file's text.
pub fn parse(text: &str) -> Result<Control, String> {
    let mut control = Control::default();
    for (key, value) in mapping(text)? {
        match key.as_str() {
            "allow_empty" => match value {
                Scalar::Bool(b) => control.allow_empty = b,
                other => return Err(format!("allow_empty requires Boolean, got: '{other}'")),
            },
            "mode" => match value {
                Scalar::Int(m) if (0..=0o777).contains(&m) => control.mode = u32::try_from(m).ok(),
                Scalar::Int(m) => return Err(format!("mode '{m:#o}' out of range")),
                other => return Err(format!("mode '{other}' is not numeric")),
            },
            "owner" => control.owner = Some(owner(&value)?),
            "group" => control.group = Some(group(&value)?),
            other => return Err(format!("unrecognised file control key '{other}'")),
        }
    }
    // Upstream tests `obj.mode or mode`: a mode of 0 means "keep the existing mode".
    if control.mode == Some(0) {
        control.mode = None;
    }
    Ok(control)
}

fn owner(value: &Scalar) -> Result<u32, String> {
    account_id(
        value,
        ("owner", "passwd"),
        |id| {
            User::from_uid(Uid::from_raw(id))
                .ok()
                .flatten()
                .map(|u| u.uid.as_raw())
        },
        |name| User::from_name(name).ok().flatten().map(|u| u.uid.as_raw()),
    )
}

fn group(value: &Scalar) -> Result<u32, String> {
    account_id(
        value,
        ("group", "group"),
        |id| {
            Group::from_gid(Gid::from_raw(id))
                .ok()
                .flatten()
                .map(|g| g.gid.as_raw())
        },
        |name| {
            Group::from_name(name)
                .ok()
                .flatten()
                .map(|g| g.gid.as_raw())
        },
    )
}

/// An owner or group given by id or by name, which must exist in `database`.
fn account_id(
    value: &Scalar,
    (what, database): (&str, &str),
    by_id: impl Fn(u32) -> Option<u32>,
    by_name: impl Fn(&str) -> Option<u32>,
) -> Result<u32, String> {
    let found = match value {
        Scalar::Int(id) => u32::try_from(*id).ok().and_then(by_id),
        Scalar::Str(name) => by_name(name),
        other => return Err(format!("{what} '{other}' must be a string or int")),
    };
    found.ok_or_else(|| format!("{what} '{value}' not found in {database} database"))
}

/// The `key: value` pairs of a block mapping (or nothing, for an empty or null document).
fn mapping(text: &str) -> Result<Vec<(String, Scalar)>, String> {
    let mut pairs = Vec::new();
    let lines: Vec<&str> = text
        .lines()
        .map(strip_comment)
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && l.trim() != "---" && l.trim() != "...")
        .collect();
    if let [only] = lines.as_slice() {
        let doc = only.trim();
        // A one-line flow mapping, `{mode: 0600, allow_empty: false}`.
        if let Some(inner) = doc.strip_prefix('{').and_then(|d| d.strip_suffix('}')) {
            let entries: Vec<&str> = inner
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            return entries.into_iter().map(pair).collect();
        }
        if !doc.contains(": ") && !doc.ends_with(':') {
            return match resolve(doc) {
                // PyYAML's `safe_load(...) or {}`: a falsy document is no control at all.
                Scalar::Null | Scalar::Bool(false) | Scalar::Int(0) => Ok(pairs),
                Scalar::Str(s) if s.is_empty() || doc == "{}" => Ok(pairs),
                _ => Err("header is not a dict".into()),
            };
        }
    }
    for line in lines {
        if line.starts_with([' ', '\t']) {
            return Err(format!(
                "nested or indented YAML is not a flat mapping: {line:?}"
            ));
        }
        pairs.push(pair(line)?);
    }
    Ok(pairs)
}

/// One `key: value` entry.
fn pair(entry: &str) -> Result<(String, Scalar), String> {
    let (key, value) = entry
        .split_once(": ")
        .or_else(|| entry.strip_suffix(':').map(|k| (k, "")))
        .ok_or_else(|| "header is not a dict".to_string())?;
    let key = match resolve(key.trim()) {
        Scalar::Str(s) => s,
        other => other.to_string(),
    };
    Ok((key, resolve(value.trim())))
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #") {
        Some(i) if !line[..i].contains(['"', '\'']) => &line[..i],
        _ => line,
    }
}

/// PyYAML's implicit resolvers for the scalar types a control file can hold.
fn resolve(raw: &str) -> Scalar {
    if let Some(inner) = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .or_else(|| raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
    {
        return Scalar::Str(inner.to_string());
    }
    match raw {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" | "y" | "Y" => {
            return Scalar::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Scalar::Bool(false);
        }
        _ => {}
    }
    yaml11_int(raw).map_or_else(|| Scalar::Str(raw.to_string()), Scalar::Int)
}

/// YAML 1.1 integers: `0b…`, `0…` octal, `0x…`, decimal, underscores allowed.
fn yaml11_int(raw: &str) -> Option<i64> {
    let (neg, body) = match raw.as_bytes().first()? {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    let digits = |s: &str, radix: u32| {
        let clean: String = s.chars().filter(|c| *c != '_').collect();
        (!clean.is_empty() && s.chars().all(|c| c == '_' || c.is_digit(radix)))
            .then(|| i64::from_str_radix(&clean, radix).ok())
            .flatten()
    };
    let value = if let Some(b) = body.strip_prefix("0b") {
        digits(b, 2)?
    } else if let Some(h) = body.strip_prefix("0x") {
        digits(h, 16)?
    } else if body == "0" {
        0
    } else if let Some(o) = body.strip_prefix('0') {
        digits(o, 8)?
    } else if body.starts_with(|c: char| c.is_ascii_digit()) {
        digits(body, 10)?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_modes_booleans_and_ids_resolve_as_pyyaml_does() {
        let c = parse("# ctl\nmode: 0640\nallow_empty: no\nowner: 0\ngroup: root\n").unwrap();
        assert_eq!(
            c,
            Control {
                allow_empty: false,
                mode: Some(0o640),
                owner: Some(0),
                group: Some(0)
            }
        );
        assert_eq!(parse("mode: 420").unwrap().mode, Some(0o644));
        assert_eq!(parse("").unwrap(), Control::default());
        assert_eq!(parse("mode: 0").unwrap().mode, None);
        let flow = parse("{mode: 0600, allow_empty: false}").unwrap();
        assert_eq!((flow.mode, flow.allow_empty), (Some(0o600), false));
    }

    #[test]
    fn bad_controls_name_the_problem() {
        assert_eq!(
            parse("mode: 01000").unwrap_err(),
            "mode '0o1000' out of range"
        );
        assert_eq!(
            parse("mode: 0o644").unwrap_err(),
            "mode '0o644' is not numeric"
        );
        assert_eq!(
            parse("colour: red").unwrap_err(),
            "unrecognised file control key 'colour'"
        );
        assert_eq!(
            parse("allow_empty: 1").unwrap_err(),
            "allow_empty requires Boolean, got: '1'"
        );
        assert_eq!(parse("just a string").unwrap_err(), "header is not a dict");
        assert!(
            parse("owner: no-such-user-here")
                .unwrap_err()
                .contains("not found")
        );
    }
}
