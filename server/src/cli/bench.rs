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
    /// A single scenario with its own options (`engine`).
    #[command(subcommand)]
    scenario: Option<BenchScenario>,
    /// Servers in the parallel scenario.
    #[arg(long, default_value_t = 4)]
    servers: usize,
    /// Deployments per server in the parallel scenario.
    #[arg(long, default_value_t = 25)]
    deployments: usize,
    /// Length of the sequential chain.
    #[arg(long, default_value_t = 20)]
    chain: usize,
    /// Resources in the template-language scenario.
    #[arg(long, default_value_t = 1000)]
    resources: usize,
    /// Run only one scenario: `deployments` or `template`.
    #[arg(long)]
    only: Option<String>,
}

/// Scenarios with their own options.
#[derive(Debug, Clone, clap::Subcommand)]
enum BenchScenario {
    /// The engine alone at scale: ResourceGroups, chains and trees of resources.
    Engine(super::bench_engine::EngineArgs),
    /// Many servers and deployments with simulated agents: create time, notification
    /// latency, memory.
    Fleet(super::bench_fleet::FleetArgs),
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
    match &args.scenario {
        Some(BenchScenario::Engine(engine)) => {
            super::bench_engine::run(engine).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(BenchScenario::Fleet(fleet)) => {
            super::bench_fleet::run(fleet).await?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    match args.only.as_deref() {
        None => {
            deployments(&args).await?;
            template_language(args.resources).await?;
        }
        Some("deployments") => deployments(&args).await?,
        Some("template") => template_language(args.resources).await?,
        Some(other) => bail!("unknown scenario {other}; use deployments or template"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A template of `n` `OS::Heat::Value` resources using parameters, `str_replace`,
/// `list_join` and `get_attr` chains (every resource reads the previous one).
fn value_template(n: usize) -> String {
    let mut t = String::from(
        "heat_template_version: 2018-08-31\nparameters:\n  prefix: {type: string, default: p}\n  items: {type: comma_delimited_list, default: \"a,b,c\"}\nresources:\n",
    );
    for i in 0..n {
        let previous = if i == 0 {
            "{get_param: prefix}".to_string()
        } else {
            format!("{{get_attr: [r{}, value, name]}}", i - 1)
        };
        let _ = writeln!(
            t,
            "  r{i}:\n    type: OS::Heat::Value\n    properties:\n      value:\n        name: {{str_replace: {{template: \"PREV-{i}\", params: {{PREV: {previous}}}}}}}\n        joined: {{list_join: [\",\", {{get_param: items}}, [\"{i}\"]]}}"
        );
    }
    let _ = writeln!(
        t,
        "outputs:\n  last: {{value: {{get_attr: [r{}, value, name]}}}}",
        n.saturating_sub(1)
    );
    t
}

/// Parse + validate + resolve of a large template in-process, then a full stack create.
async fn template_language(n: usize) -> anyhow::Result<()> {
    use updraft_server::engine::graph;
    use updraft_server::template::{Template, TypeLookup as _};
    let text = value_template(n);
    let registry = updraft_server::resources::Registry::builtin();
    let rounds = 10;
    let (mut load, mut parse, mut validate, mut resolve) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for _ in 0..rounds {
        let t0 = Instant::now();
        let doc = updraft_server::template::loader::load_document(&text)
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let t1 = Instant::now();
        let template = Template::parse(&doc)?;
        let t2 = Instant::now();
        template.validate(&registry)?;
        graph::check_acyclic(&graph::dependencies(&template))?;
        let t3 = Instant::now();
        let mut ctx = BenchContext::default();
        for (name, def) in &template.resources {
            let v = updraft_server::template::functions::resolve(
                &def.properties,
                template.version,
                &ctx,
                name,
            )?;
            ctx.values
                .insert(name.clone(), v.get("value").cloned().unwrap_or(Value::Null));
        }
        let t4 = Instant::now();
        load += t1 - t0;
        parse += t2 - t1;
        validate += t3 - t2;
        resolve += t4 - t3;
        let _ = registry.type_exists("OS::Heat::Value");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / rounds as f64;
    println!(
        "updraft bench: template language, {n} resources ({} KiB of YAML), mean of {rounds}",
        text.len() / 1024
    );
    println!(
        "  load YAML {:>8.2} ms   parse {:>8.2} ms   validate+graph {:>8.2} ms   resolve all {:>8.2} ms",
        ms(load),
        ms(parse),
        ms(validate),
        ms(resolve)
    );

    files_map(&registry)?;

    let mut local = LocalRun::start().await?;
    let started = Instant::now();
    let stack = local
        .create("values", &text, json!({}), Value::Null)
        .await?;
    let done = local
        .follow(&stack, false, Duration::from_secs(600))
        .await?;
    expect_status(&done, "CREATE_COMPLETE")?;
    let create = started.elapsed();
    println!(
        "  stack create of {n} resources through the API: {:.2} s ({:.0} resources/s)",
        create.as_secs_f64(),
        n as f64 / create.as_secs_f64().max(f64::EPSILON)
    );
    local.teardown(&stack).await?;
    Ok(())
}

/// A 5 MB files map (500 files of 10 KiB) read by `get_file` from 500 resources: parse,
/// validate and resolve in-process (the API's 1 MiB body limit keeps such maps out of
/// requests, as in Heat).
fn files_map(registry: &updraft_server::resources::Registry) -> anyhow::Result<()> {
    use updraft_server::template::Template;
    let count = 500;
    let mut ctx = BenchContext::default();
    let mut text = String::from("heat_template_version: 2018-08-31\nresources:\n");
    for i in 0..count {
        let key = format!("file:///srv/config/{i}.conf");
        ctx.files.insert(key.clone(), "x".repeat(10 * 1024));
        let _ = writeln!(
            text,
            "  f{i}:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      group: script\n      config: {{get_file: \"{key}\"}}"
        );
    }
    let total: usize = ctx.files.values().map(String::len).sum();
    let started = Instant::now();
    let template = Template::parse_text(&text)?;
    template.validate(registry)?;
    let mut bytes = 0;
    for (name, def) in &template.resources {
        let v = updraft_server::template::functions::resolve(
            &def.properties,
            template.version,
            &ctx,
            name,
        )?;
        bytes += v["config"].as_str().map_or(0, str::len);
    }
    let elapsed = started.elapsed();
    println!(
        "  files map of {:.1} MB read by get_file from {count} resources: {:.2} ms ({bytes} bytes resolved)",
        total as f64 / 1e6,
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}

#[derive(Default)]
struct BenchContext {
    values: std::collections::HashMap<String, Value>,
    files: std::collections::HashMap<String, String>,
}

impl updraft_server::template::functions::EvalContext for BenchContext {
    fn param(&self, name: &str) -> Option<Value> {
        match name {
            "prefix" => Some(json!("p")),
            "items" => Some(json!(["a", "b", "c"])),
            _ => None,
        }
    }
    fn resource_reference(&self, name: &str) -> Option<String> {
        Some(name.to_string())
    }
    fn resource_attribute(&self, name: &str, attribute: &str) -> Value {
        match attribute {
            "value" => self.values.get(name).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }
    fn resource_attributes(&self, _: &str) -> Value {
        Value::Null
    }
    fn file(&self, key: &str) -> Option<String> {
        self.files.get(key).cloned()
    }
}

/// The deployment scenarios.
async fn deployments(args: &BenchArgs) -> anyhow::Result<()> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_templates_parse_and_validate() {
        let registry = updraft_server::resources::Registry::builtin();
        for text in [
            parallel_template(2, 3),
            chain_template(3),
            value_template(5),
        ] {
            let t = updraft_server::template::Template::parse_text(&text).unwrap();
            t.validate(&registry).unwrap();
        }
    }
}
