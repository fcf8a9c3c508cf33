//! The stock `openstack` CLI (python-openstackclient from PyPI, in the venv `.ci/run`
//! makes beside `$UPDRAFT_PYTHON`), for tests that drive the server with it.

use std::path::{Path, PathBuf};

use crate::Api;

/// The venv's `bin/`, or `None` (the caller skips) outside CI when it is not installed;
/// with `CI=true` a missing CLI fails the test.
pub fn venv_bin() -> Option<PathBuf> {
    let python = std::env::var_os("UPDRAFT_PYTHON").filter(|p| !p.is_empty());
    let bin = python.and_then(|p| Path::new(&p).parent().map(Path::to_path_buf));
    match bin.filter(|b| b.join("openstack").exists()) {
        Some(b) => Some(b),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "the openstack CLI is required when CI=true: run .ci/run"
            );
            eprintln!("skipped: no openstack CLI in the venv of UPDRAFT_PYTHON; run .ci/run");
            None
        }
    }
}

/// The `openstack` executable, or `None` as [`venv_bin`].
pub fn openstack_cli() -> Option<PathBuf> {
    venv_bin().map(|b| b.join("openstack"))
}

/// Runs `openstack <args>` against the server with the admin-token auth form (reference
/// §5.1); success, stdout, stderr.
pub async fn openstack(cli: &Path, api: &Api, args: &[&str]) -> (bool, String, String) {
    let endpoint = format!("{}/v1/{}", api.base, api.project);
    let out = tokio::process::Command::new(cli)
        .args([
            "--os-auth-type",
            "admin_token",
            "--os-token",
            &api.token,
            "--os-endpoint",
            &endpoint,
        ])
        .args(args)
        .output()
        .await;
    match out {
        Ok(out) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Err(e) => (
            false,
            String::new(),
            format!("cannot run {}: {e}", cli.display()),
        ),
    }
}
