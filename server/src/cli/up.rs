//! `updraft up TEMPLATE`: the embedded default. Starts an in-process server on a
//! temporary SQLite database, creates the stack over the real API, starts one agent
//! process per `OS::Heat::DeployedServer`, shows events as they arrive, prints the
//! outputs, and tears everything down (unless `--keep`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use super::local_run::{LocalRun, PROJECT};

/// Options of `updraft up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// The HOT template to run.
    template: PathBuf,
    /// A parameter value `name=value` (repeatable).
    #[arg(short = 'P', long = "parameter", value_name = "NAME=VALUE")]
    parameters: Vec<String>,
    /// An environment file (repeatable; later files win).
    #[arg(short = 'e', long = "environment", value_name = "FILE")]
    environments: Vec<PathBuf>,
    /// Stack name (default: the template's file stem).
    #[arg(long)]
    name: Option<String>,
    /// Keep the server and agents running after the stack is up (until Ctrl-C).
    #[arg(long)]
    keep: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

pub(super) fn parse_parameters(items: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .with_context(|| format!("parameter \"{item}\" must look like NAME=VALUE"))?;
        out.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(out)
}

pub(super) fn merge_environments(files: &[PathBuf]) -> anyhow::Result<Value> {
    let mut merged = Map::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read environment file {}", file.display()))?;
        let doc = updraft_server::template::loader::load_document(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message))?;
        let Value::Object(sections) = doc else {
            bail!("{}: an environment must be a mapping", file.display());
        };
        for (section, value) in sections {
            match (merged.get_mut(&section), value) {
                (Some(Value::Object(into)), Value::Object(from)) => into.extend(from),
                (_, value) => {
                    merged.insert(section, value);
                }
            }
        }
    }
    Ok(Value::Object(merged))
}

fn print_outputs(stack: &Value) {
    for o in stack["outputs"].as_array().cloned().unwrap_or_default() {
        let key = o["output_key"].as_str().unwrap_or_default();
        if let Some(err) = o.get("output_error").and_then(Value::as_str) {
            println!("{key}: (error) {err}");
            continue;
        }
        match &o["output_value"] {
            Value::String(s) => println!("{key}: {s}"),
            other => println!("{key}: {other}"),
        }
    }
}

/// Runs `updraft up`.
pub async fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    let template = std::fs::read_to_string(&args.template)
        .with_context(|| format!("cannot read template {}", args.template.display()))?;
    let parameters = parse_parameters(&args.parameters)?;
    let environment = merge_environments(&args.environments)?;
    let name = match args.name.clone() {
        Some(n) => n,
        None => args
            .template
            .file_stem()
            .and_then(|s| s.to_str())
            .map(|s| {
                s.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect()
            })
            .unwrap_or_else(|| "stack".into()),
    };
    let mut local = LocalRun::start().await?;
    let stack_path = local
        .create(&name, &template, Value::Object(parameters), environment)
        .await?;
    let stack = local
        .follow(&stack_path, true, Duration::from_secs(args.timeout))
        .await?;
    let status = stack["stack_status"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!("{name}: {status}");
    let succeeded = status.ends_with("_COMPLETE");
    if succeeded {
        print_outputs(&stack);
    } else {
        eprintln!(
            "updraft: {}",
            stack["stack_status_reason"].as_str().unwrap_or_default()
        );
        local.print_agent_logs();
    }
    if args.keep {
        println!(
            "updraft: server at {}/v1/{PROJECT} (X-Auth-Token: {}); Ctrl-C to stop",
            local.base_url(),
            local.client.token
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    local.teardown(&stack_path).await?;
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
