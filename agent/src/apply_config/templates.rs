//! The template tree: every file under the root except `*.oac` is a template for the
//! same path under the output root. Executable templates print their file (the config
//! as JSON on stdin); the rest are [`mustache`](super::mustache).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::unistd::{AccessFlags, access};
use serde_json::Value;

use super::control::{self, Control, ControlError};
use super::mustache::{self, MustacheError};
use updraft_hooks::python_json as pyjson;

/// Suffix of control files, which are not templates themselves.
pub const CONTROL_SUFFIX: &str = ".oac";

/// A rendered template, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The template it came from.
    pub template: PathBuf,
    /// Its path relative to the template root (and so to the output root).
    pub relative: PathBuf,
    /// The file's content.
    pub body: Vec<u8>,
    /// How to write it.
    pub control: Control,
}

/// Why a template did not render.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The tree could not be listed.
    #[error("could not list template directory {dir}: {source}")]
    List {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A template could not be read, or is not UTF-8.
    #[error("could not read template {template}: {reason}")]
    Read {
        /// The template.
        template: PathBuf,
        /// Why.
        reason: String,
    },
    /// A mustache template did not parse.
    #[error("could not render moustache template {template}: {source}")]
    Mustache {
        /// The template.
        template: PathBuf,
        /// The parse error.
        source: MustacheError,
    },
    /// An executable template could not run, or exited non-zero.
    #[error("config script failed: {template}: {reason}")]
    Script {
        /// The template.
        template: PathBuf,
        /// The exit status and its output.
        reason: String,
    },
    /// The template's control file is refused.
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// The templates under `root` as (path, path relative to root), in byte order per
/// directory, parents before children. A missing root has no templates. Symlinked
/// directories are not entered, as `os.walk` does not.
pub fn list(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, TemplateError> {
    let mut found = Vec::new();
    if root.is_dir() {
        walk(root, Path::new(""), &mut found)?;
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    relative: &Path,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), TemplateError> {
    let list_err = |source| TemplateError::List {
        dir: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(list_err)?
        .collect::<Result<_, _>>()
        .map_err(list_err)?;
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !entry.file_type().is_ok_and(|t| t.is_symlink()) {
                subdirs.push((path, relative.join(&name)));
            }
        } else if !name.as_encoded_bytes().ends_with(CONTROL_SUFFIX.as_bytes()) {
            found.push((path, relative.join(&name)));
        }
    }
    for (path, rel) in subdirs {
        walk(&path, &rel, found)?;
    }
    Ok(())
}

/// Renders every template under `root` against `config`, all before anything is written
/// so one bad template leaves every output untouched.
pub fn render_tree(root: &Path, config: &Value) -> Result<Vec<Rendered>, TemplateError> {
    list(root)?
        .into_iter()
        .map(|(template, relative)| {
            let body = render(&template, config)?;
            let control = control::for_template(&template)?;
            Ok(Rendered {
                template,
                relative,
                body,
                control,
            })
        })
        .collect()
}

/// Renders one template.
pub fn render(template: &Path, config: &Value) -> Result<Vec<u8>, TemplateError> {
    if template.is_file() && access(template, AccessFlags::X_OK).is_ok() {
        return run_executable(template, config);
    }
    let read_err = |reason: String| TemplateError::Read {
        template: template.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(template).map_err(|e| read_err(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| read_err(e.to_string()))?;
    // Python's text-mode read turns \r\n and lone \r into \n before pystache sees them.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    mustache::render(&text, config)
        .map(String::into_bytes)
        .map_err(|source| TemplateError::Mustache {
            template: template.to_path_buf(),
            source,
        })
}

fn run_executable(template: &Path, config: &Value) -> Result<Vec<u8>, TemplateError> {
    let script_err = |reason: String| TemplateError::Script {
        template: template.to_path_buf(),
        reason,
    };
    let mut child = Command::new(template)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| script_err(e.to_string()))?;
    let input = pyjson::dumps(config).into_bytes();
    let stdin = child.stdin.take();
    // Written from its own thread so a script that prints before reading cannot deadlock.
    let writer = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            // A script that ignores its input may close stdin early; that is its business.
            let _ = stdin.write_all(&input);
        }
    });
    let output = child
        .wait_with_output()
        .map_err(|e| script_err(e.to_string()))?;
    let _ = writer.join();
    if !output.status.success() {
        return Err(script_err(format!(
            "{}\n\nwith output:\n\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    // Upstream decodes the output as UTF-8 and fails on anything else.
    String::from_utf8(output.stdout)
        .map(String::into_bytes)
        .map_err(|e| script_err(format!("output is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn tree_skips_control_files_and_executables_get_the_config_on_stdin() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/sub")).unwrap();
        std::fs::write(root.path().join("etc/a.conf"), "x={{x}}\r\n").unwrap();
        std::fs::write(root.path().join("etc/a.conf.oac"), "mode: 0600\n").unwrap();
        let script = root.path().join("etc/sub/gen");
        std::fs::write(&script, "#!/bin/sh\ncat\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = render_tree(root.path(), &json!({"x": "é"})).unwrap();
        let rel: Vec<_> = out
            .iter()
            .map(|r| r.relative.to_string_lossy().into_owned())
            .collect();
        assert_eq!(rel, ["etc/a.conf", "etc/sub/gen"]);
        assert_eq!(out[0].body, "x=é\n".as_bytes());
        assert_eq!(out[0].control.mode, Some(0o600));
        assert_eq!(out[1].body, br#"{"x": "\u00e9"}"#);
    }

    #[test]
    fn a_failing_script_names_itself_and_its_output() {
        let root = tempfile::tempdir().unwrap();
        let script = root.path().join("bad");
        std::fs::write(&script, "#!/bin/sh\necho oops >&2\nexit 3\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = render_tree(root.path(), &json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad") && err.contains("oops"), "{err}");
    }
}
