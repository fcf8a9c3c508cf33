//! heat-agents' Python hooks and `updraft-agent`'s built-in ones, side by side on the same
//! deployment documents: each hook is run as its executable (stock: the sdist's
//! `hook-<group>.py` with the venv's Python; ours: `updraft-agent` linked as that file), the
//! deployment on stdin, as 55-heat-config runs it. Prints, per hook, the median and p90
//! wall time of a run and the largest resident set of any run, and checks both answers
//! agree on `deploy_status_code`.
//!
//! Hooks: `script` (a one-line shell script), `json-file` (three files), `hiera`
//! (hierarchy and two data files; its legacy check runs each side's own os-apply-config:
//! the stock one from the venv, ours as `updraft-agent` linked first on `PATH`),
//! `cfn-init` (the hook alone: `HEAT_CFN_INIT_CMD=/bin/true` on both sides).
//!
//! Run: `cargo build --release --workspace --bins`, `.ci/run`'s install step (for the venv and
//! the heat-agents sdist), then `cargo bench -p updraft-e2e --bench hooks_side_by_side`.

#![allow(clippy::unwrap_used)] // a benchmark binary

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};
use updraft_e2e::{binary, repo_root};

const RUNS: usize = 25;

struct Side {
    name: &'static str,
    program: PathBuf,
    args: Vec<PathBuf>,
    /// `PATH` for the run: each side finds its own os-apply-config (hiera's legacy check).
    path: String,
}

fn deployment(group: &str, dir: &Path) -> Value {
    let d = dir.display();
    let config = match group {
        "script" => json!("#!/bin/sh\necho \"hello $name\"\n"),
        "json-file" => json!({
            format!("{d}/out/a.json"): {"listen": "0.0.0.0:8080", "workers": 4},
            format!("{d}/out/b.json"): ["x", "y"],
            format!("{d}/out/c.json"): {"nested": {"k": [1, 2.5, null, true]}},
        }),
        "hiera" => json!({
            "hierarchy": ["%{::fqdn}", "common"],
            "datafiles": {"common": {"ntp::servers": ["0.pool.ntp.org"]}, "node": {"role": "web"}},
        }),
        _ => json!({"config": {"files": {"/tmp/x": {"content": "y"}}}}),
    };
    json!({
        "id": format!("bench-{group}"), "name": "bench", "group": group,
        "inputs": [{"name": "name", "value": "world", "type": "String"}],
        "outputs": [], "options": {}, "config": config,
    })
}

/// Environment both sides get: every directory under `dir`.
fn env(dir: &Path) -> Vec<(&'static str, String)> {
    let under = |p: &str| dir.join(p).display().to_string();
    vec![
        ("HEAT_SCRIPT_WORKING", under("script-work")),
        ("HEAT_SCRIPT_OUTPUTS", under("script-out")),
        ("HEAT_HIERA_CONFIG", under("hiera.yaml")),
        ("HEAT_PUPPET_HIERA_DATADIR", under("hieradata")),
        ("HEAT_CFN_INIT_LAST_METADATA_DIR", under("cfn-cache")),
        ("HEAT_CFN_INIT_CMD", "/bin/true".into()),
        ("OS_CONFIG_FILES", under("empty.json")),
    ]
}

/// Child mode (`HOOK_BENCH_INPUT` set): runs argv[1..] [`RUNS`] times with that file on
/// stdin, then prints `{"ms": [...], "rss_kib": N, "stdout": last}`. A process of its own,
/// so `RUSAGE_CHILDREN`'s max RSS is that command's alone.
fn child_mode(input: &Path) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ms = Vec::new();
    let mut stdout = String::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = std::process::Command::new(&args[0])
            .args(&args[1..])
            .stdin(std::fs::File::open(input).unwrap())
            .stderr(std::process::Stdio::null())
            .output()
            .unwrap();
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
        stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    }
    let rss = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss())
        .unwrap_or(0);
    println!("{}", json!({"ms": ms, "rss_kib": rss, "stdout": stdout}));
}

/// Runs `side` [`RUNS`] times in a measuring child: sorted wall times (ms), max RSS (KiB)
/// and the last run's stdout.
fn measure(side: &Side, input: &[u8], dir: &Path) -> (Vec<f64>, i64, String) {
    let input_file = dir.join("deployment.json");
    std::fs::write(&input_file, input).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg(&side.program)
        .args(&side.args)
        .envs(env(dir))
        .env("PATH", &side.path)
        .env("HOOK_BENCH_INPUT", &input_file)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ms: Vec<f64> = report["ms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    ms.sort_by(f64::total_cmp);
    let stdout = report["stdout"].as_str().unwrap_or_default().to_string();
    (ms, report["rss_kib"].as_i64().unwrap_or(0), stdout)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if let Some(input) = std::env::var_os("HOOK_BENCH_INPUT") {
        return child_mode(Path::new(&input));
    }
    let venv = std::env::var_os("UPDRAFT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/venv/bin/python3"));
    let sdist = std::env::var_os("UPDRAFT_STOCK_AGENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/stock-agents"))
        .join("src");
    if !venv.exists() || !sdist.join("heat-config-script").exists() {
        eprintln!("needs the venv and the heat-agents sdist: run .ci/run's install step");
        return;
    }
    let agent = std::env::var_os("UPDRAFT_AGENT_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| binary("updraft-agent"));
    let bin_dir = venv.parent().unwrap().display().to_string();
    let path_env = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let links = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&agent, links.path().join("os-apply-config")).unwrap();
    let our_path = format!("{}:{path_env}", links.path().display());
    println!(
        "hook runs, {RUNS} each: median / p90 wall ms, max RSS MiB ({})",
        agent.display()
    );
    for group in ["script", "json-file", "hiera", "cfn-init"] {
        let file = format!("hook-{group}.py");
        let link = links.path().join(&file);
        std::os::unix::fs::symlink(&agent, &link).unwrap();
        let sides = [
            Side {
                name: "stock",
                program: venv.clone(),
                args: vec![sdist.join(format!("heat-config-{group}/install.d/{file}"))],
                path: path_env.clone(),
            },
            Side {
                name: "updraft",
                program: link,
                args: vec![],
                path: our_path.clone(),
            },
        ];
        let mut codes = Vec::new();
        for side in &sides {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("empty.json"), "{}").unwrap();
            let input = serde_json::to_vec(&deployment(group, dir.path())).unwrap();
            let (times, rss, last) = measure(side, &input, dir.path());
            let reply: Value = serde_json::from_str(last.trim()).unwrap_or(Value::Null);
            codes.push(reply["deploy_status_code"].clone());
            println!(
                "  {group:<10} {:<8} {:>7.1} / {:>7.1} ms  {:>6.1} MiB",
                side.name,
                percentile(&times, 0.5),
                percentile(&times, 0.9),
                rss as f64 / 1024.0
            );
        }
        if codes[0] != codes[1] {
            println!("  {group}: the two sides disagree: {codes:?}");
        }
    }
}
