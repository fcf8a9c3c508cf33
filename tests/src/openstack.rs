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

/// A template with one `value` parameter, given back as output `value` (through an
/// `OS::Heat::Value`): the smallest stack the clients create and the provider template the
/// openstack CLI tests nest.
pub const VALUE_TEMPLATE: &str = "heat_template_version: 2018-08-31
parameters:
  value: {type: string}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: value}}}
outputs:
  value: {value: {get_attr: [v, value]}}
";

/// Makes user `user` (`role`, `password`) in project `project` of `server` with
/// `updraft admin`, creating the project unless it exists; returns the project's id.
pub async fn project_user(
    server: &crate::Server,
    project: &str,
    user: &str,
    role: &str,
    password: &str,
) -> anyhow::Result<String> {
    let listed = server.admin(&["project", "list"]).await?;
    if !String::from_utf8_lossy(&listed.stdout).contains(&format!("| {project} ")) {
        let out = server.admin(&["project", "create", project]).await?;
        anyhow::ensure!(
            out.status.success(),
            "project create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = server
        .admin(&[
            "user",
            "create",
            user,
            "--project",
            project,
            "--role",
            role,
            "--password",
            password,
        ])
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A `Field | Value` table.
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    table
        .lines()
        .find_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() >= 3 && cells[1] == "project_id").then(|| cells[2].to_string())
        })
        .ok_or_else(|| anyhow::anyhow!("no project_id in {table}"))
}
