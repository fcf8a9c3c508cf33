//! Heat's own functional tests (`heat_integrationtests` from the openstack-heat wheel, run
//! by stestr with tempest's configuration) against a live `updraft server`, logged in by
//! password through our `/v3` as they would log in to Keystone. They drive the server with
//! python-heatclient and check what Heat's users see: stack and resource states, outputs,
//! events, nested stacks, updates, rollbacks, previews, snapshots, abandon/adopt.
//!
//! The tests that need Nova, Neutron or Cinder, and the behaviours Updraft does not have
//! yet, are listed with reasons in `tests/heat_integrationtests/known_failures.txt` and
//! handed to them as `skip_functional_test_list`; every other test must pass.
//! `.ci/run` installs them into `target/heat-integrationtests` (`UPDRAFT_HEAT_INTEGRATIONTESTS`).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use updraft_e2e::openstack::project_user;
use updraft_e2e::{Backend, Server};

/// The modules run; the others need Nova, Swift, Keystone domains, notifications or
/// `heat-manage`.
const MODULES: &[&str] = &[
    "test_abandon_adopt",
    "test_admin_actions",
    "test_cancel_update",
    "test_conditional_exposure",
    "test_conditions",
    "test_create_update",
    "test_default_parameters",
    "test_delete",
    "test_env_merge",
    "test_heat_autoscaling",
    "test_immutable_parameters",
    "test_nested_get_attr",
    "test_preview_update",
    "test_replace_deprecated",
    "test_resource_chain",
    "test_resource_group",
    "test_snapshot_restore",
    "test_software_deployment_group",
    "test_stack_cancel",
    "test_template_resource",
    "test_template_versions",
    "test_translation",
    "test_update_restricted",
    "test_validation",
    "test_versionnegotiation",
];

fn installed() -> Option<PathBuf> {
    let dir = std::env::var_os("UPDRAFT_HEAT_INTEGRATIONTESTS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.join("venv/bin/python3").exists());
    if dir.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "UPDRAFT_HEAT_INTEGRATIONTESTS is not set up; .ci/run installs it"
        );
        eprintln!("skipped: no heat_integrationtests; run .ci/run");
    }
    dir
}

/// The `Class.test_method` names of the known failures file.
fn known_failures() -> Vec<String> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("heat_integrationtests/known_failures.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Runs `stestr ARGS` in `work`, which holds tempest.conf.
fn stestr<S: AsRef<std::ffi::OsStr>>(
    install: &Path,
    work: &Path,
    args: &[S],
) -> std::process::Output {
    let src = install.join("src");
    Command::new(install.join("venv/bin/python3"))
        .args(["-m", "stestr"])
        .arg(format!(
            "--test-path={}",
            src.join("heat_integrationtests/functional").display()
        ))
        .arg(format!("--top-dir={}", src.display()))
        .args(args)
        .current_dir(work)
        .env("TEMPEST_CONFIG_DIR", work)
        .env("TEMPEST_CONFIG", "tempest.conf")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn heats_own_functional_tests_pass() {
    let Some(install) = installed() else {
        return;
    };
    let server = Server::start_with(
        Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    project_user(&server, "heat-it", "heat-it", "admin", "heat-it-pw")
        .await
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let conf = format!(
        "[DEFAULT]\nlog_file = {log}\n\n[heat_plugin]\n\
         username = heat-it\npassword = heat-it-pw\nproject_name = heat-it\n\
         admin_username = heat-it\nadmin_password = heat-it-pw\nadmin_project_name = heat-it\n\
         auth_url = {base}/v3\nauth_version = 3\n\
         user_domain_name = Default\nproject_domain_name = Default\nregion = RegionOne\n\
         build_timeout = 120\nbuild_interval = 1\nconvergence_engine_enabled = true\n\
         skip_functional_test_list = {skip}\n",
        log = work.path().join("tempest.log").display(),
        base = server.base,
        skip = known_failures().join(","),
    );
    std::fs::write(work.path().join("tempest.conf"), conf).unwrap();
    let init = stestr(&install, work.path(), &["init"]);
    assert!(init.status.success(), "{init:?}");
    let mut args: Vec<String> = ["run", "--concurrency", "4"].map(String::from).to_vec();
    args.extend(
        MODULES
            .iter()
            .map(|m| format!("heat_integrationtests.functional.{m}")),
    );
    let run = tokio::task::spawn_blocking({
        let install = install.clone();
        let dir = work.path().to_path_buf();
        move || stestr(&install, &dir, &args)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let failing = stestr(&install, work.path(), &["failing", "--list"]);
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(" - ") || l.starts_with("Ran: "))
        .collect();
    eprintln!("heat_integrationtests: {}", summary.join(" "));
    assert!(
        run.status.success(),
        "Heat's functional tests failed (not in known_failures.txt):\n{}\n{}\n--- server log ---\n{}",
        String::from_utf8_lossy(&failing.stdout),
        tail(&stdout, 200),
        tail(&server.log_text(), 100),
    );
    let passed: usize = summary
        .iter()
        .find_map(|l| l.strip_prefix(" - Passed: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    // Guards against a run that skips everything (a broken login skips nothing, it fails).
    assert!(
        passed >= 100,
        "only {passed} passed:\n{}",
        tail(&stdout, 80)
    );
    server.stop().await;
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
