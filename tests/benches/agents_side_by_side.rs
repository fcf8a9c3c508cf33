//! The stock Python agent chain and `updraft-agent`, side by side on the same work: one
//! DeployedServer (POLL_TEMP_URL) with N script deployments (TEMP_URL_SIGNAL) on a real
//! `updraft server`; one `--one-time` cycle of each agent runs every deployment and signals
//! it. Prints the wall time of that cycle, the time to CREATE_COMPLETE, and the largest
//! resident set of any process the agent started (getrusage of waited-for children).
//!
//! Run: `cargo build --release --workspace --bins && bash .ci/run`'s install step (for the
//! stock agents), then `cargo bench -p updraft-e2e --bench agents_side_by_side`.

#![allow(clippy::unwrap_used)] // a benchmark binary

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use updraft_e2e::stock_agents::{Guest, StockAgents};
use updraft_e2e::{Api, Server, binary};

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
async fn prepared(api: &Api, name: &str, n: usize) -> (String, Value) {
    let stack = api
        .create_stack(name, &template(n), json!({}))
        .await
        .unwrap();
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

async fn ours(api: &Api, n: usize) -> Figures {
    let (stack, occ) = prepared(api, &format!("ours{n}"), n).await;
    let state = tempfile::tempdir().unwrap();
    let url = occ["request"]["metadata_url"].as_str().unwrap();
    let started = Instant::now();
    let status = tokio::process::Command::new(binary("updraft-agent"))
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
    let (stack, occ) = prepared(api, &format!("stock{n}"), n).await;
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

#[tokio::main]
async fn main() {
    let Some(agents) = StockAgents::find("agents_side_by_side") else {
        return;
    };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let sizes = [1usize, 5, 20];
    // Ours first: the children's peak RSS only grows, so the stock figure comes second.
    let mut rows = Vec::new();
    for n in sizes {
        rows.push(("updraft-agent", n, ours(&api, n).await));
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
    server.stop().await;
}
