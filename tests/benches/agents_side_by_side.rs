//! The stock Python agent chain and `updraft-agent`, side by side on the same work: one
//! DeployedServer (POLL_TEMP_URL) with N script deployments (TEMP_URL_SIGNAL) on a real
//! `updraft server`; one `--one-time` cycle of each agent runs every deployment and signals
//! it. Prints the wall time of that cycle, the time to CREATE_COMPLETE, and the largest
//! resident set of any process the agent started (getrusage of waited-for children).
//!
//! Then each agent runs as the long-lived daemon a guest runs (ours with its long-poll,
//! the stock `os-collect-config` with its configured polling): a stack update adds one
//! deployment at a time, and the bench prints how long after the server's metadata changed
//! (seen by the bench's own long-poll on the same URL) the hook started (the script's
//! first line stamps the time), and the daemon's resident set once idle (VmRSS). Last, the
//! size and dynamic dependencies of the agent binaries that exist (the static one is built
//! by `packaging/build-agent.sh`).
//!
//! Run: `cargo build --release --workspace --bins && bash .ci/run`'s install step (for the
//! stock agents), then `cargo bench -p updraft-e2e --bench agents_side_by_side`.

#![allow(clippy::unwrap_used)] // a benchmark binary

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft_agent::collectors::request::RequestCollector;
use updraft_e2e::stock_agents::{Guest, StockAgents};
use updraft_e2e::{Agent, Api, Server, binary, repo_root};

const SCRIPT: &str = "#!/bin/sh\nprintf '%s' \"done-$num\" > \"$heat_outputs_path.result\"\n";

fn template(n: usize) -> String {
    let mut t = format!(
        "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n    properties: {{software_config_transport: POLL_TEMP_URL}}\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      inputs: [{{name: num}}]\n      outputs: [{{name: result}}]\n      config: {}\n",
        json!(SCRIPT)
    );
    for d in 0..n {
        t.push_str(&format!(
            "  dep{d}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server}}\n      signal_transport: TEMP_URL_SIGNAL\n      input_values: {{num: \"{d}\"}}\n"
        ));
    }
    t
}

/// Largest resident set (MiB) of any waited-for child so far: monotonic over the run.
fn children_max_rss_mib() -> f64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|u| u.max_rss() as f64 / 1024.0)
        .unwrap_or(0.0)
}

/// Creates the stack and waits until all `n` deployments are in the server's metadata;
/// returns the stack path and the server's `os_collect_config` section.
async fn prepared(api: &Api, name: &str, template: &str, n: usize) -> (String, Value) {
    let stack = api.create_stack(name, template, json!({})).await.unwrap();
    loop {
        let (_, md) = api
            .get(&format!("{stack}/resources/server/metadata"))
            .await
            .unwrap();
        if md["metadata"]["deployments"]
            .as_array()
            .is_some_and(|d| d.len() == n)
        {
            return (stack, md["metadata"]["os-collect-config"].clone());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Figures {
    cycle: Duration,
    complete: Duration,
    rss_mib: f64,
}

async fn settle(api: &Api, stack: &str, started: Instant) -> Duration {
    let body = api
        .wait_stack(stack, Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    started.elapsed()
}

/// The static build `packaging/build-agent.sh` makes, relative to the repository.
const STATIC_AGENT: &str = "target/x86_64-unknown-linux-gnu/agent/updraft-agent";

/// The agent builds to measure: the release build, and the static one when it was built.
fn our_builds() -> Vec<(&'static str, std::path::PathBuf)> {
    let mut builds = vec![("updraft-agent", binary("updraft-agent"))];
    let static_agent = repo_root().join(STATIC_AGENT);
    if static_agent.exists() {
        builds.push(("  (static)", static_agent));
    }
    builds
}

async fn ours(api: &Api, program: &std::path::Path, n: usize) -> Figures {
    let (stack, occ) = prepared(api, &format!("ours{n}-{}", api_nonce()), &template(n), n).await;
    let state = tempfile::tempdir().unwrap();
    let url = occ["request"]["metadata_url"].as_str().unwrap();
    let started = Instant::now();
    let status = tokio::process::Command::new(program)
        .args(["run", "--one-time", "--metadata-url", url, "--state-dir"])
        .arg(state.path())
        .env("RUST_LOG", "warn")
        .status()
        .await
        .unwrap();
    let cycle = started.elapsed();
    assert!(status.success(), "updraft-agent --one-time: {status}");
    Figures {
        cycle,
        complete: settle(api, &stack, started).await,
        rss_mib: children_max_rss_mib(),
    }
}

async fn stock(api: &Api, agents: &StockAgents, n: usize) -> Figures {
    let (stack, occ) = prepared(api, &format!("stock{n}"), &template(n), n).await;
    let mut guest = Guest::new(agents, &occ).await.unwrap();
    let started = Instant::now();
    let status = guest.run_once().await.unwrap();
    let cycle = started.elapsed();
    assert!(status.success(), "{}", guest.report());
    Figures {
        cycle,
        complete: settle(api, &stack, started).await,
        rss_mib: children_max_rss_mib(),
    }
}

/// A script that stamps the time it started into `$stamp`.
const STAMP_SCRIPT: &str = "#!/bin/sh\ndate +%s.%N > \"$stamp\"\n";

/// A DeployedServer with `n` deployments of [`STAMP_SCRIPT`], deployment `k` stamping
/// `<dir>/<k>`.
fn stamp_template(n: usize, dir: &std::path::Path) -> String {
    let mut t = format!(
        "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n    properties: {{software_config_transport: POLL_TEMP_URL}}\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      inputs: [{{name: stamp}}]\n      config: {}\n",
        json!(STAMP_SCRIPT)
    );
    for d in 0..n {
        t.push_str(&format!(
            "  dep{d}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server}}\n      signal_transport: TEMP_URL_SIGNAL\n      input_values: {{stamp: {}}}\n",
            json!(dir.join(d.to_string()))
        ));
    }
    t
}

/// Seconds since the epoch, now.
fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The resident set of process `pid` (MiB), from `/proc/<pid>/status`.
fn vm_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Which daemon to run.
enum Daemon<'a> {
    Ours(&'a std::path::Path),
    Stock(&'a StockAgents),
}

/// A suffix making stack names unique across the runs of one bench.
fn api_nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A running daemon of either kind, killed when dropped.
enum Running {
    Ours(Agent),
    Stock(
        #[allow(dead_code)] // kept to keep the guest's files while the daemon runs
        Guest,
        tokio::process::Child,
    ),
}

impl Running {
    fn pid(&self) -> u32 {
        match self {
            Running::Ours(agent) => agent.pid().unwrap(),
            Running::Stock(_, child) => child.id().unwrap(),
        }
    }
}

/// Change-to-hook latencies (s) over `samples` updates, and the idle daemon's RSS (MiB).
async fn daemon_figures(api: &Api, who: Daemon<'_>, samples: usize) -> (Vec<f64>, f64) {
    let stamps = tempfile::tempdir().unwrap();
    let name = match who {
        Daemon::Ours(_) => format!("daemon-ours-{}", api_nonce()),
        Daemon::Stock(_) => "daemon-stock".to_string(),
    };
    let (stack, occ) = prepared(api, &name, &stamp_template(1, stamps.path()), 1).await;
    let state = tempfile::tempdir().unwrap();
    let running = match who {
        Daemon::Ours(program) => Running::Ours(
            Agent::start_binary_for(
                program,
                &occ,
                &state.path().join("agent"),
                &["--poll-interval", "30"],
            )
            .unwrap(),
        ),
        Daemon::Stock(agents) => {
            let guest = Guest::new(agents, &occ).await.unwrap();
            let child = guest.spawn_daemon(&state.path().join("occ.log")).unwrap();
            Running::Stock(guest, child)
        }
    };
    settle(api, &stack, Instant::now()).await;
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let mut watcher = RequestCollector::new(reqwest::Client::new(), &url).unwrap();
    let mut latencies = Vec::new();
    for k in 1..=samples {
        // A steady state first: the stock daemon's sleep has grown to its cap.
        tokio::time::sleep(Duration::from_secs(2)).await;
        watcher.fetch(None).await.unwrap();
        let mut poll = watcher.clone();
        let changed = tokio::spawn(async move {
            poll.fetch(Some(Duration::from_secs(60))).await.unwrap();
            epoch_now()
        });
        api.update_stack(&stack, &stamp_template(k + 1, stamps.path()), json!({}))
            .await
            .unwrap();
        let changed_at = changed.await.unwrap();
        let stamp = stamps.path().join(k.to_string());
        let started = Instant::now();
        let hook_at = loop {
            if let Some(t) = std::fs::read_to_string(&stamp)
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
            {
                break t;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no hook run for update {k}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        latencies.push(hook_at - changed_at);
        let body = api
            .wait_stack(&stack, Duration::from_secs(120))
            .await
            .unwrap();
        assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = vm_rss_mib(running.pid());
    drop(running);
    (latencies, rss)
}

/// Size (MiB) and `ldd`'s verdict for each agent binary that was built.
fn binary_figures() -> Vec<(String, f64, String)> {
    let root = repo_root();
    [
        "target/x86_64-unknown-linux-gnu/agent/updraft-agent",
        "target/release/updraft-agent",
    ]
    .iter()
    .filter_map(|rel| {
        let path = root.join(rel);
        let size = std::fs::metadata(&path).ok()?.len() as f64 / (1024.0 * 1024.0);
        let ldd = std::process::Command::new("ldd")
            .arg(&path)
            .output()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                let libs: Vec<&str> = text
                    .lines()
                    .filter_map(|l| l.split_whitespace().next())
                    .filter(|l| l.contains(".so"))
                    .collect();
                if libs.is_empty() {
                    text.trim().to_string()
                } else {
                    libs.join(" ")
                }
            })
            .unwrap_or_else(|e| format!("ldd: {e}"));
        Some((rel.to_string(), size, ldd))
    })
    .collect()
}

fn summary(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    format!(
        "min {:.3} / median {:.3} / max {:.3}",
        s[0],
        s[s.len() / 2],
        s[s.len() - 1]
    )
}

#[tokio::main]
async fn main() {
    let Some(agents) = StockAgents::find("agents_side_by_side") else {
        return;
    };
    let server = Server::start().await.unwrap();
    let api = server.api();
    // N=1 first warms each side's files, so N=3 is the warm three-deployment cycle.
    let sizes = [1usize, 3, 5, 20];
    // Ours first: the children's peak RSS only grows, so the stock figure comes second.
    let builds = our_builds();
    let mut rows = Vec::new();
    for (who, program) in &builds {
        for n in sizes {
            rows.push((*who, n, ours(&api, program, n).await));
        }
    }
    for n in sizes {
        rows.push(("stock chain", n, stock(&api, &agents, n).await));
    }
    println!(
        "agents side by side: one --one-time cycle, N script deployments, POLL_TEMP_URL + TEMP_URL_SIGNAL"
    );
    println!(
        "{:<14} {:>4} {:>12} {:>18} {:>22}",
        "agent", "N", "cycle (s)", "to COMPLETE (s)", "peak child RSS (MiB)"
    );
    for (who, n, f) in rows {
        println!(
            "{who:<14} {n:>4} {:>12.3} {:>18.3} {:>22.1}",
            f.cycle.as_secs_f64(),
            f.complete.as_secs_f64(),
            f.rss_mib
        );
    }

    let mut daemons = Vec::new();
    for (who, program) in &builds {
        daemons.push((*who, daemon_figures(&api, Daemon::Ours(program), 5).await));
    }
    daemons.push((
        "os-collect-cfg",
        daemon_figures(&api, Daemon::Stock(&agents), 3).await,
    ));
    println!();
    println!("daemons: metadata change -> hook start (s), and idle resident set");
    println!(
        "{:<14} {:<44} {:>14}",
        "agent", "change -> hook start (s)", "idle RSS (MiB)"
    );
    for (who, (latency, rss)) in daemons {
        println!("{who:<14} {:<44} {rss:>14.1}", summary(&latency));
    }
    println!();
    println!("agent binaries (build the static one with packaging/build-agent.sh)");
    for (path, size, ldd) in binary_figures() {
        println!("{path:<54} {size:>6.2} MiB  ldd: {ldd}");
    }
    server.stop().await;
}
