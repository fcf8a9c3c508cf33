//! heat-agents' own black-box hook tests (reference heat-agents.md §4.7), run against our
//! built-in hooks: a copy of the heat-agents 13.0.0 sdist's `tests/` whose hook files
//! (`heat-config-<group>/install.d/hook-<group>.py`) are links to `updraft-agent`, which
//! answers as that hook by the link's name. The tests drive each hook as a subprocess with
//! their own fake tool (`config-tool-fake.py`) and check its command lines, environment,
//! files and reply.
//!
//! Every upstream test either passes or is listed in [`DEVIATIONS`] with the reason, and
//! the run must match that list exactly (a newly passing deviation fails the test too,
//! so the list stays true).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use updraft_e2e::{binary, repo_root};

/// The upstream test modules run, and the files each drives, linked to `updraft-agent`
/// (the file name says which tool it acts as).
#[rustfmt::skip]
const MODULES: &[(&str, &[&str])] = &[
    ("test_hook_script", &["heat-config-script/install.d/hook-script.py"]),
    ("test_hook_puppet", &["heat-config-puppet/install.d/hook-puppet.py"]),
    ("test_hook_ansible", &["heat-config-ansible/install.d/hook-ansible.py"]),
    ("test_hook_hiera", &["heat-config-hiera/install.d/hook-hiera.py"]),
    ("test_hook_json_file", &["heat-config-json-file/install.d/hook-json-file.py"]),
    ("test_hook_cfn_init", &["heat-config-cfn-init/install.d/hook-cfn-init.py"]),
    ("test_hook_apply_config", &["heat-config-apply-config/install.d/hook-apply-config.py"]),
    ("test_heat_config", &["heat-config/os-refresh-config/configure.d/55-heat-config"]),
    (
        "test_hook_docker_cmd",
        &[
            "heat-config-docker-cmd/install.d/hook-docker-cmd.py",
            "heat-config-docker-cmd/os-refresh-config/configure.d/50-heat-config-docker-cmd",
        ],
    ),
    ("test_hook_docker_compose", &["heat-config-docker-compose/install.d/hook-docker-compose.py"]),
    (
        "test_heat_config_docker_compose",
        &["heat-config-docker-compose/os-refresh-config/configure.d/50-heat-config-docker-compose"],
    ),
];

/// Upstream tests that fail on purpose, with why.
const DEVIATIONS: &[(&str, &str)] = &[];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The unpacked sdist (`target/stock-agents/src`), and the venv's Python with testtools;
/// `None` (skipped, with a message) outside CI when `.ci/run` has not installed them.
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let sdist = std::env::var_os("UPDRAFT_STOCK_AGENTS")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/stock-agents"))
        .join("src");
    let python = std::env::var_os("UPDRAFT_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/venv/bin/python3"));
    let has_testtools = std::process::Command::new(&python)
        .args(["-c", "import testtools, fixtures, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if sdist.join("tests/common.py").exists() && has_testtools {
        return Some((sdist, python));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "heat-agents' tests and testtools are required when CI=true: run .ci/run"
    );
    eprintln!("skipped: heat-agents' tests or testtools are not installed; run .ci/run");
    None
}

#[test]
fn heat_agents_tests_pass_against_updraft_agent() {
    let Some((sdist, python)) = prerequisites() else {
        return;
    };
    let tree = tempfile::tempdir().unwrap();
    copy_dir(&sdist.join("tests"), &tree.path().join("tests"));
    for path in MODULES.iter().flat_map(|(_, paths)| paths.iter()) {
        let link = tree.path().join(path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(binary("updraft-agent"), &link).unwrap();
    }
    let out = std::process::Command::new(&python)
        .current_dir(tree.path())
        .args(["-m", "unittest", "-v"])
        .args(MODULES.iter().map(|(m, _)| format!("tests.{m}")))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut passed = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for line in report.lines() {
        // `test_x (tests.test_hook_y.Class.test_x) ... ok`
        let Some((head, verdict)) = line.rsplit_once(" ... ") else {
            continue;
        };
        let name = head.split_whitespace().next().unwrap_or_default();
        let module = head
            .split('(')
            .nth(1)
            .and_then(|q| q.split('.').nth(1))
            .unwrap_or_default();
        let id = format!("{module}.{name}");
        match verdict.trim() {
            "ok" => passed.insert(id),
            _ => failed.insert(id),
        };
    }
    let expected: BTreeSet<String> = DEVIATIONS.iter().map(|(t, _)| t.to_string()).collect();
    println!(
        "heat-agents hook tests against updraft-agent: {} passed, {} failed ({} documented deviations)",
        passed.len(),
        failed.len(),
        expected.len()
    );
    assert!(
        passed.len() + failed.len() >= 10,
        "too few tests ran:\n{report}"
    );
    assert_eq!(failed, expected, "unexpected results:\n{report}");
}
