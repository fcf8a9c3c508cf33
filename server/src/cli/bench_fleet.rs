//! `updraft bench fleet`: many servers, many deployments, simulated agents. An in-process
//! server (SQLite in a temporary directory) gets one stack of `--servers` DeployedServers
//! (POLL_TEMP_URL) and `--deployments` script deployments spread over them (CFN_SIGNAL,
//! the default). One simulated agent per server, a task of this process, long-polls its
//! metadata URL (`If-None-Match` + `Prefer: wait`) and signals every new deployment at
//! once, as a hook that takes no time would.
//!
//! Figures: the wall time from the create request to `CREATE_COMPLETE`; the time from each
//! metadata change (seen on the server's own notifier, in-process) to the agent holding the
//! new document (p50, p99, max over every change an agent received); the peak RSS of this
//! process, which is the server plus the load generator.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use updraft_server::app::{ServerConfig, start};
use updraft_server::auth::admin_token;
use updraft_server::engine::services::{Limits, Services};
use updraft_server::store::Store;

/// Options of `updraft bench fleet`.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// DeployedServers, each with one simulated agent.
    #[arg(long, default_value_t = 100)]
    servers: usize,
    /// Deployments, spread evenly over the servers.
    #[arg(long, default_value_t = 1000)]
    deployments: usize,
}

fn template(servers: usize, deployments: usize) -> String {
    let mut t = String::from(
        "heat_template_version: 2018-08-31\nresources:\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      inputs: [{name: num}]\n      outputs: [{name: result}]\n      config: \"#!/bin/sh\\necho $num\\n\"\n",
    );
    for s in 0..servers {
        let _ = writeln!(t, "  server{s}:\n    type: OS::Heat::DeployedServer");
    }
    for d in 0..deployments {
        let _ = writeln!(
            t,
            "  dep{d}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server{}}}\n      input_values: {{num: \"{d}\"}}",
            d % servers.max(1)
        );
    }
    t
}

/// When each metadata version of one server was published (seen on the notifier).
type Published = Arc<Mutex<HashMap<i64, Instant>>>;

/// Records the instant of every version the server publishes for `server_id`.
fn watch_publications(services: &Services, server_id: &str, stop: CancellationToken) -> Published {
    let published: Published = Arc::default();
    let mut rx = services.notifier.watch_metadata(server_id);
    let sink = published.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let version = *rx.borrow_and_update();
                    if let Ok(mut m) = sink.lock() {
                        m.entry(version).or_insert_with(Instant::now);
                    }
                }
            }
        }
    });
    published
}

/// The version in our ETag (`"<version>-<id>"`).
fn etag_version(etag: &str) -> Option<i64> {
    etag.trim_matches('"').split('-').next()?.parse().ok()
}

/// One simulated agent: long-polls, signals each new deployment once, and returns the
/// notification latencies it saw.
async fn simulated_agent(
    http: reqwest::Client,
    url: String,
    published: Published,
    stop: CancellationToken,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut etag: Option<String> = None;
    let mut signalled: HashSet<String> = HashSet::new();
    while !stop.is_cancelled() {
        let mut req = http.get(&url).header("Prefer", "wait=20");
        if let Some(t) = &etag {
            req = req.header("If-None-Match", t);
        }
        let response = tokio::select! {
            _ = stop.cancelled() => break,
            r = req.send() => r,
        };
        let Ok(response) = response else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let received = Instant::now();
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            continue;
        }
        let tag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(version) = tag.as_deref().and_then(etag_version)
            && let Some(at) = published.lock().ok().and_then(|m| m.get(&version).copied())
        {
            latencies.push(received.saturating_duration_since(at));
        }
        etag = tag;
        let Ok(document) = response.json::<Value>().await else {
            continue;
        };
        let mut signals = Vec::new();
        for d in document["deployments"].as_array().into_iter().flatten() {
            let id = d["id"].as_str().unwrap_or_default().to_string();
            if !signalled.insert(id) {
                continue;
            }
            let input = |name: &str| {
                d["inputs"]
                    .as_array()
                    .and_then(|i| i.iter().find(|i| i["name"] == name))
                    .and_then(|i| i["value"].as_str())
                    .map(str::to_string)
            };
            let (Some(signal_url), verb) = (input("deploy_signal_id"), input("deploy_signal_verb"))
            else {
                continue;
            };
            let method = if verb.as_deref() == Some("PUT") {
                reqwest::Method::PUT
            } else {
                reqwest::Method::POST
            };
            let body = json!({"deploy_stdout": "", "deploy_stderr": "", "deploy_status_code": 0, "result": input("num")});
            signals.push(http.request(method, signal_url).json(&body).send());
        }
        for r in futures::future::join_all(signals).await {
            if let Err(e) = r {
                tracing::warn!(error = %e, "a simulated agent's signal failed");
            }
        }
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Runs the fleet benchmark and prints its figures.
pub async fn run(args: &FleetArgs) -> anyhow::Result<()> {
    if args.servers == 0 {
        bail!("--servers must be at least 1");
    }
    let work = tempfile::Builder::new()
        .prefix("updraft-bench-fleet-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let token = admin_token::generate();
    let shutdown = CancellationToken::new();
    let server = start(
        ServerConfig {
            bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Store::sqlite_url(work.path()),
            public_url: None,
            admin_token: token.clone(),
            limits: Limits {
                max_resources_per_stack: -1,
                ..Default::default()
            },
            node_id: None,
            lease: Duration::from_secs(30),
            identity: Default::default(),
            transports: Default::default(),
        },
        shutdown.clone(),
    )
    .await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.servers * 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let api = format!("{}/v1/bench", server.base_url);
    let started = Instant::now();
    let created = http
        .post(format!("{api}/stacks"))
        .header("X-Auth-Token", &token)
        .json(&json!({"stack_name": "fleet", "template": template(args.servers, args.deployments)}))
        .send()
        .await?;
    if created.status() != reqwest::StatusCode::CREATED {
        bail!("the stack was not created: {}", created.text().await?);
    }
    let id = created.json::<Value>().await?["stack"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stack = format!("{api}/stacks/fleet/{id}");
    let stop = CancellationToken::new();
    let mut agents = Vec::new();
    let mut waiting: Vec<usize> = (0..args.servers).collect();
    // Agents start as their servers come up, as booting machines would.
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for s in waiting {
            let md: Value = http
                .get(format!("{stack}/resources/server{s}/metadata"))
                .header("X-Auth-Token", &token)
                .send()
                .await?
                .json()
                .await?;
            let Some(url) = md
                .pointer("/metadata/os-collect-config/request/metadata_url")
                .and_then(Value::as_str)
            else {
                still.push(s);
                continue;
            };
            let server_id = url
                .rsplit('/')
                .next()
                .and_then(|tail| tail.split('?').next())
                .unwrap_or_default()
                .to_string();
            let published = watch_publications(&server.services, &server_id, stop.clone());
            agents.push(tokio::spawn(simulated_agent(
                http.clone(),
                url.to_string(),
                published,
                stop.clone(),
            )));
        }
        waiting = still;
        if !waiting.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("servers did not come up within 300 s");
        }
    }
    let body = loop {
        let body: Value = http
            .get(&stack)
            .header("X-Auth-Token", &token)
            .send()
            .await?
            .json()
            .await?;
        let status = body["stack"]["stack_status"].as_str().unwrap_or_default();
        if !status.ends_with("IN_PROGRESS") {
            break body;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the stack is still {status} after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    stop.cancel();
    let mut latencies = Vec::new();
    for a in agents {
        latencies.extend(a.await.unwrap_or_default());
    }
    latencies.sort();
    shutdown.cancel();
    if body["stack"]["stack_status"] != "CREATE_COMPLETE" {
        bail!(
            "the benchmark stack ended {} ({})",
            body["stack"]["stack_status"],
            body["stack"]["stack_status_reason"]
        );
    }
    println!(
        "fleet: {} servers, {} deployments (simulated agents, long-poll, CFN_SIGNAL)",
        args.servers, args.deployments
    );
    println!(
        "  create → CREATE_COMPLETE: {:.2} s ({:.0} deployments/s)",
        elapsed.as_secs_f64(),
        args.deployments as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  metadata change → agent notified over {} changes: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    if let Some(rss) = peak_rss_mib() {
        println!("  peak RSS (server + load generator, one process): {rss:.1} MiB");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_etags() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&d, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&[], 99.0), Duration::ZERO);
        assert_eq!(etag_version("\"17-abcdef12\""), Some(17));
        assert_eq!(etag_version("W/x"), None);
    }
}
