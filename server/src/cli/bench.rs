//! `updraft bench`: measures the whole deployment path on this machine — in-process server,
//! real agent processes, real script hooks — and prints the figures.
//!
//! Scenarios: N servers × M independent deployments created, then all updated (each runs
//! again with `deploy_action: UPDATE`), then a chain of K deployments on one server (each
//! waits for the previous one's output: the latency of one signal → metadata → agent turn).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use super::local_run::LocalRun;

/// Options of `updraft bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Servers in the parallel scenario.
    #[arg(long, default_value_t = 4)]
    servers: usize,
    /// Deployments per server in the parallel scenario.
    #[arg(long, default_value_t = 25)]
    deployments: usize,
    /// Length of the sequential chain.
    #[arg(long, default_value_t = 20)]
    chain: usize,
}

const SCRIPT: &str =
    "#!/bin/sh\nprintf '%s' \"$num-$deploy_action\" > \"$heat_outputs_path.result\"\n";

fn parallel_template(servers: usize, deployments: usize) -> String {
    let mut t = String::from(
        "heat_template_version: 2018-08-31\nparameters:\n  round: {type: string, default: one}\nresources:\n",
    );
    let _ = writeln!(
        t,
        "  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      inputs: [{{name: num}}, {{name: round}}]\n      outputs: [{{name: result}}]\n      config: {}",
        json!(SCRIPT)
    );
    for s in 0..servers {
        let _ = writeln!(t, "  server{s}:\n    type: OS::Heat::DeployedServer");
        for d in 0..deployments {
            let _ = writeln!(
                t,
                "  dep{s}x{d}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server{s}}}\n      input_values: {{num: \"{s}.{d}\", round: {{get_param: round}}}}"
            );
        }
    }
    t
}

fn chain_template(length: usize) -> String {
    let mut t = String::from(
        "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n",
    );
    let _ = writeln!(
        t,
        "  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      inputs: [{{name: num}}, {{name: previous}}]\n      outputs: [{{name: result}}]\n      config: {}",
        json!(SCRIPT)
    );
    for i in 0..length {
        let previous = if i == 0 {
            "\"\"".to_string()
        } else {
            format!("{{get_attr: [step{}, result]}}", i - 1)
        };
        let _ = writeln!(
            t,
            "  step{i}:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server}}\n      input_values: {{num: \"{i}\", previous: {previous}}}"
        );
    }
    t
}

/// Peak resident set size of a process, from /proc (Linux), in KiB.
fn peak_rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn expect_status(stack: &Value, wanted: &str) -> anyhow::Result<()> {
    if stack["stack_status"] != wanted {
        bail!(
            "the benchmark stack ended {} ({})",
            stack["stack_status"],
            stack["stack_status_reason"]
        );
    }
    Ok(())
}

/// Runs the benchmark and prints the figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let total = args.servers * args.deployments;
    let timeout = Duration::from_secs(600);
    println!(
        "updraft bench: {} servers x {} deployments, chain of {}",
        args.servers, args.deployments, args.chain
    );

    let mut local = LocalRun::start().await?;
    let template = parallel_template(args.servers, args.deployments);
    let started = Instant::now();
    let stack = local
        .create("bench", &template, json!({}), Value::Null)
        .await?;
    expect_status(
        &local.follow(&stack, false, timeout).await?,
        "CREATE_COMPLETE",
    )?;
    let create = started.elapsed();

    let started = Instant::now();
    let (status, body) = local
        .client
        .send(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template, "parameters": {"round": "two"}})),
        )
        .await?;
    if !status.is_success() {
        bail!("update refused: {body}");
    }
    expect_status(
        &local.follow(&stack, false, timeout).await?,
        "UPDATE_COMPLETE",
    )?;
    let update = started.elapsed();

    let agent_rss = local
        .agents
        .values()
        .filter_map(|a| a.pid())
        .filter_map(|pid| peak_rss_kib(&pid.to_string()))
        .max();
    local.teardown(&stack).await?;

    let mut local = LocalRun::start().await?;
    let started = Instant::now();
    let chain = local
        .create("chain", &chain_template(args.chain), json!({}), Value::Null)
        .await?;
    expect_status(
        &local.follow(&chain, false, timeout).await?,
        "CREATE_COMPLETE",
    )?;
    let chained = started.elapsed();
    local.teardown(&chain).await?;
    let server_rss = peak_rss_kib("self");

    let per_second = |n: usize, d: Duration| n as f64 / d.as_secs_f64().max(f64::EPSILON);
    println!(
        "  create  {total:>5} deployments  {:>8.2} s  {:>8.1} deployments/s",
        create.as_secs_f64(),
        per_second(total, create)
    );
    println!(
        "  update  {total:>5} deployments  {:>8.2} s  {:>8.1} deployments/s",
        update.as_secs_f64(),
        per_second(total, update)
    );
    println!(
        "  chain   {:>5} deployments  {:>8.2} s  {:>8.1} ms per step",
        args.chain,
        chained.as_secs_f64(),
        chained.as_secs_f64() * 1000.0 / args.chain.max(1) as f64
    );
    if let Some(kib) = agent_rss {
        println!(
            "  agent peak RSS (largest of {}): {:.1} MiB",
            args.servers,
            kib as f64 / 1024.0
        );
    }
    if let Some(kib) = server_rss {
        println!(
            "  server (in-process, with the CLI) peak RSS: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_templates_parse_and_validate() {
        let registry = updraft_server::resources::Registry::builtin();
        for text in [parallel_template(2, 3), chain_template(3)] {
            let t = updraft_server::template::Template::parse_text(&text).unwrap();
            t.validate(&registry).unwrap();
        }
    }
}
