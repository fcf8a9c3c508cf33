//! os-refresh-config, black-box: the real binary linked as `os-refresh-config`, against
//! the stock Python tool and its bash dib-run-parts (`UPDRAFT_PYTHON`) for the run-parts
//! naming and ordering rules, plus the lock, the timeout and the printing flags.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn script(path: &Path, body: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn echo(base: &Path, rel: &str) {
    script(
        &base.join(rel),
        &format!("#!/bin/sh\necho \"{rel} v=${{V:-unset}}\"\n"),
        0o755,
    );
}

/// A base directory exercising the file-name rules, the order and environment.d.
fn rules_tree(base: &Path) {
    for name in [
        "zz", "5_q", "20-y", "20-a", "100-x", "010-lead", "-3-neg", "A-upper", "a_lower",
    ] {
        echo(base, &format!("configure.d/{name}"));
    }
    // Skipped: dots, dotfiles, not executable, directories.
    echo(base, "configure.d/20.sh");
    echo(base, "configure.d/.hidden");
    script(
        &base.join("configure.d/30-noexec"),
        "#!/bin/sh\necho noexec\n",
        0o644,
    );
    std::fs::create_dir_all(base.join("configure.d/40-dir")).unwrap();
    // A symlink to an executable runs; one to a directory does not.
    echo(base, "targets/linked");
    std::os::unix::fs::symlink(
        base.join("targets/linked"),
        base.join("configure.d/15-link"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        base.join("configure.d/40-dir"),
        base.join("configure.d/16-dirlink"),
    )
    .unwrap();
    for phase in ["pre-configure", "post-configure", "migration"] {
        echo(base, &format!("{phase}.d/50-{phase}"));
    }
    // environment.d: byte order, so 9-second (sourced last) wins over 10-first.
    std::fs::create_dir_all(base.join("environment.d")).unwrap();
    std::fs::write(base.join("environment.d/9-second"), "export V=nine\n").unwrap();
    std::fs::write(
        base.join("environment.d/10-first"),
        "export V=ten\necho sourced-10 >&2\n",
    )
    .unwrap();
}

/// A base directory whose configure phase fails half way, with an error.d.
fn failing_tree(base: &Path) {
    echo(base, "configure.d/10-ok");
    script(
        &base.join("configure.d/20-fail"),
        "#!/bin/sh\necho failing\nexit 3\n",
        0o755,
    );
    echo(base, "configure.d/30-never");
    echo(base, "post-configure.d/10-never");
    echo(base, "error.d/10-handler");
}

/// Fills a base directory.
type TreeBuilder = fn(&Path);

/// Extra environment for one run.
type Env = &'static [(&'static str, &'static str)];

const DOTTED: Env = &[("RUN_PARTS_REGEX", "^[0-9A-Za-z_.-]+$")];

fn ours() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("os-refresh-config");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_updraft-agent"), &link).unwrap();
    (dir, link)
}

fn run(bin: &Path, base: &Path, lock: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin);
    command
        .env("OS_REFRESH_CONFIG_BASE_DIR", base)
        .env_remove("RUN_PARTS_REGEX")
        .env("RUST_LOG", "warn")
        .arg("--lockfile")
        .arg(lock)
        .args(extra);
    command.envs(env.iter().copied());
    command.output().unwrap()
}

fn stock() -> Option<(PathBuf, String)> {
    let Some(python) = std::env::var_os("UPDRAFT_PYTHON").map(PathBuf::from) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("UPDRAFT_PYTHON must point at a Python with os-refresh-config 14.1.0 in CI");
        }
        eprintln!("skipping: set UPDRAFT_PYTHON to a Python with os-refresh-config 14.1.0");
        return None;
    };
    let bin_dir = python.parent().unwrap().to_path_buf();
    // Stock os-refresh-config finds dib-run-parts on PATH.
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Some((bin_dir.join("os-refresh-config"), path))
}

#[test]
fn run_parts_rules_match_stock_os_refresh_config() {
    let Some((stock_bin, path)) = stock() else {
        return;
    };
    let (_d, our_bin) = ours();
    // The default name rule, a failing phase, and a custom RUN_PARTS_REGEX that lets
    // dotted names (and so `sort -n` on `20.sh`) in.
    let runs: [(TreeBuilder, Env, i32); 3] = [
        (rules_tree, &[], 0),
        (failing_tree, &[], 1),
        (rules_tree, DOTTED, 0),
    ];
    for (tree, env, want_exit) in runs {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("base");
        tree(&base);
        let mut stock_env = vec![("PATH", path.as_str())];
        stock_env.extend_from_slice(env);
        let stock = run(
            &stock_bin,
            &base,
            &root.path().join("stock.lock"),
            &[],
            &stock_env,
        );
        let mine = run(&our_bin, &base, &root.path().join("our.lock"), &[], env);
        let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
        assert_eq!(
            stock.status.code(),
            Some(want_exit),
            "stock: {}",
            String::from_utf8_lossy(&stock.stderr)
        );
        assert_eq!(
            mine.status.code(),
            stock.status.code(),
            "{}",
            String::from_utf8_lossy(&mine.stderr)
        );
        assert_eq!(text(&mine), text(&stock));
        assert!(!text(&stock).is_empty());
        assert_eq!(text(&stock).contains("configure.d/20.sh"), !env.is_empty());
    }
}

#[test]
fn phases_run_in_order_with_environment_and_stop_at_the_first_failure() {
    let (_d, bin) = ours();
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("base");
    rules_tree(&base);
    let out = run(&bin, &base, &root.path().join("lock"), &[], &[]);
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    let want: Vec<String> = [
        "pre-configure.d/50-pre-configure",
        "configure.d/-3-neg",
        "configure.d/A-upper",
        "configure.d/a_lower",
        "configure.d/zz",
        "configure.d/5_q",
        "configure.d/010-lead",
        "targets/linked",
        "configure.d/20-a",
        "configure.d/20-y",
        "configure.d/100-x",
        "post-configure.d/50-post-configure",
        "migration.d/50-migration",
    ]
    .iter()
    .map(|s| format!("{s} v=nine"))
    .collect();
    assert_eq!(lines, want);

    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("base");
    failing_tree(&base);
    let out = run(&bin, &base, &root.path().join("lock"), &[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "configure.d/10-ok v=unset\nfailing\nerror.d/10-handler v=unset\n"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("20-fail"),
        "the failing script is named"
    );
}

#[test]
fn a_held_lock_exits_11_and_no_phase_runs() {
    let (_d, bin) = ours();
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("base");
    let marker = root.path().join("ran");
    script(
        &base.join("configure.d/10-touch"),
        &format!("#!/bin/sh\ntouch {}\n", marker.display()),
        0o755,
    );
    let lock = root.path().join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&lock)
        .unwrap();
    let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let out = run(&bin, &base, &lock, &[], &[]);
    assert_eq!(out.status.code(), Some(11));
    assert!(!marker.exists());
    drop(held);
    let out = run(&bin, &base, &lock, &[], &[]);
    assert!(out.status.success());
    assert!(marker.exists());
    assert_eq!(
        std::fs::read_to_string(&lock).unwrap(),
        "",
        "the lock file is emptied at exit"
    );
}

#[test]
fn timeout_kills_the_whole_process_group_then_runs_error_handlers() {
    let (_d, bin) = ours();
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("base");
    let late = root.path().join("late");
    // The grandchild would leave a marker after 3 s unless the group is killed.
    script(
        &base.join("configure.d/10-stall"),
        &format!(
            "#!/bin/sh\n(sleep 3; touch {}) &\nsleep 30\n",
            late.display()
        ),
        0o755,
    );
    echo(&base, "error.d/10-handler");
    let started = Instant::now();
    let out = run(
        &bin,
        &base,
        &root.path().join("lock"),
        &["--timeout", "1"],
        &[],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "error.d/10-handler v=unset\n"
    );
    std::thread::sleep(Duration::from_millis(3500));
    assert!(
        !late.exists(),
        "the background grandchild survived the timeout"
    );
}

#[test]
fn printing_flags_and_an_empty_base() {
    let (_d, bin) = ours();
    let root = tempfile::tempdir().unwrap();
    let lock = root.path().join("lock");
    let out = run(&bin, root.path(), &lock, &["--print-base"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", root.path().display())
    );
    let out = run(&bin, root.path(), &lock, &["--print-phases"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pre-configure\tconfigure\tpost-configure\tmigration\n"
    );
    let out = run(&bin, root.path(), &lock, &[], &[]);
    assert!(out.status.success() && out.stdout.is_empty());
    let out = run(&bin, root.path(), &lock, &["--bogus"], &[]);
    assert_eq!(out.status.code(), Some(2));
}
