//! Test support: running the Python reference implementations (PyYAML, yaql) that the
//! differential tests compare against.
//!
//! Python is `$UPDRAFT_PYTHON`, else `target/venv/bin/python3` under the workspace root (what
//! `.ci/run` creates), else `python3`. When a module is missing the test is skipped with a
//! message, unless `CI=true`, where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The workspace root (the parent of the server crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("UPDRAFT_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join("target/venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// A Python that can import `module`, or `None` (test skipped) outside CI.
pub fn python_with(module: &str, test: &str) -> Option<PathBuf> {
    let python = python();
    let ok = Command::new(&python)
        // yaql 3 uses `collections.abc` without importing it; Heat has it imported already.
        .args(["-c", &format!("import collections.abc; import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    let message = format!(
        "{test}: {} cannot import {module}; set UPDRAFT_PYTHON or run .ci/run to create target/venv",
        python.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipped {message}");
    None
}

/// Runs `python script args…` with `stdin`, and parses its standard output as JSON.
pub fn run_json(python: &Path, script: &Path, args: &[PathBuf], stdin: &str) -> Value {
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write to python");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// Equality that also compares the order of object keys.
pub fn same_ordered(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && same_ordered(va, vb))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_ordered(a, b))
        }
        _ => a == b,
    }
}
