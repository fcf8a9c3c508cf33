//! `updraft up TEMPLATE`: the embedded default. Starts an in-process server on a
//! temporary SQLite database, creates the stack over the real API, starts one agent
//! process per `OS::Heat::DeployedServer`, shows events as they arrive, prints the
//! outputs, and tears everything down (unless `--keep`).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use updraft_server::app::{ServerConfig, start};
use updraft_server::auth::admin_token;
use updraft_server::store::Store;

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

const PROJECT: &str = "local";

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/v1/{PROJECT}{path}", self.base)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("request to {path} failed"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, value) = self.send(reqwest::Method::GET, path, None).await?;
        if !status.is_success() {
            bail!("GET {path}: {status}: {}", error_message(&value));
        }
        Ok(value)
    }
}

fn error_message(value: &Value) -> String {
    value
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

fn parse_parameters(items: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .with_context(|| format!("parameter \"{item}\" must look like NAME=VALUE"))?;
        out.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(out)
}

fn merge_environments(files: &[PathBuf]) -> anyhow::Result<Value> {
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

struct Agent {
    name: String,
    child: Child,
    log: PathBuf,
}

fn start_agent(name: &str, metadata_url: &str, work: &Path) -> anyhow::Result<Agent> {
    let exe = std::env::current_exe().context("cannot find the updraft executable")?;
    let state = work.join("agents").join(name);
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    let log = work.join(format!("agent-{name}.log"));
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let child = Command::new(exe)
        .args([
            "agent",
            "run",
            "--metadata-url",
            metadata_url,
            "--poll-interval",
            "1",
        ])
        .arg("--state-dir")
        .arg(&state)
        .stdin(std::process::Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the agent")?;
    Ok(Agent {
        name: name.to_string(),
        child,
        log,
    })
}

fn print_event(e: &Value) {
    println!(
        "{} [{}]: {}  {}",
        e["event_time"].as_str().unwrap_or_default(),
        e["resource_name"].as_str().unwrap_or_default(),
        e["resource_status"].as_str().unwrap_or_default(),
        e["resource_status_reason"].as_str().unwrap_or_default(),
    );
}

/// Prints new events, oldest first; returns them.
async fn show_new_events(
    client: &Client,
    stack_path: &str,
    seen: &mut HashSet<String>,
) -> anyhow::Result<Vec<Value>> {
    let events = client
        .get(&format!("{stack_path}/events?sort_dir=asc"))
        .await?;
    let mut fresh = Vec::new();
    for e in events["events"].as_array().cloned().unwrap_or_default() {
        let id = e["id"].as_str().unwrap_or_default().to_string();
        if seen.insert(id) {
            print_event(&e);
            fresh.push(e);
        }
    }
    Ok(fresh)
}

/// Starts an agent for every DeployedServer that has come up and has none yet.
async fn start_new_agents(
    client: &Client,
    stack_path: &str,
    work: &Path,
    agents: &mut HashMap<String, Agent>,
) -> anyhow::Result<()> {
    let resources = client.get(&format!("{stack_path}/resources")).await?;
    for r in resources["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let name = r["resource_name"].as_str().unwrap_or_default().to_string();
        let ready = r["resource_type"] == "OS::Heat::DeployedServer"
            && r["resource_status"] == "CREATE_COMPLETE";
        if !ready || agents.contains_key(&name) {
            continue;
        }
        let md = client
            .get(&format!("{stack_path}/resources/{name}/metadata"))
            .await?;
        let Some(url) = md
            .pointer("/metadata/os-collect-config/request/metadata_url")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let agent = start_agent(&name, url, work)?;
        println!(
            "updraft: started agent for server {name} (log: {})",
            agent.log.display()
        );
        agents.insert(name, agent);
    }
    Ok(())
}

async fn wait_for_stack(
    client: &Client,
    stack_path: &str,
    work: &Path,
    agents: &mut HashMap<String, Agent>,
    seen: &mut HashSet<String>,
) -> anyhow::Result<Value> {
    loop {
        show_new_events(client, stack_path, seen).await?;
        start_new_agents(client, stack_path, work, agents).await?;
        let stack = client.get(stack_path).await?;
        let status = stack["stack"]["stack_status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !status.ends_with("IN_PROGRESS") {
            show_new_events(client, stack_path, seen).await?;
            return Ok(stack["stack"].clone());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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

fn agent_log_tail(agents: &HashMap<String, Agent>) {
    for agent in agents.values() {
        if let Ok(text) = std::fs::read_to_string(&agent.log) {
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(10)..];
            if !tail.is_empty() {
                eprintln!("--- last lines of the agent log for {} ---", agent.name);
                for l in tail {
                    eprintln!("{l}");
                }
            }
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
    let work = tempfile::Builder::new()
        .prefix("updraft-up-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let token = admin_token::generate();
    let shutdown = CancellationToken::new();
    let server = start(
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Store::sqlite_url(work.path()),
            public_url: None,
            admin_token: token.clone(),
        },
        shutdown.clone(),
    )
    .await?;
    let client = Client {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?,
        base: server.base_url.clone(),
        token,
    };
    let body = json!({
        "stack_name": name, "template": template, "parameters": parameters, "environment": environment,
    });
    let (status, created) = client
        .send(reqwest::Method::POST, "/stacks", Some(body))
        .await?;
    if status != reqwest::StatusCode::CREATED {
        bail!("the stack was not created: {}", error_message(&created));
    }
    let id = created["stack"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stack_path = format!("/stacks/{name}/{id}");
    let mut agents = HashMap::new();
    let mut seen = HashSet::new();
    let outcome = tokio::time::timeout(
        Duration::from_secs(args.timeout),
        wait_for_stack(&client, &stack_path, work.path(), &mut agents, &mut seen),
    )
    .await;
    let stack = match outcome {
        Ok(r) => r?,
        Err(_) => {
            agent_log_tail(&agents);
            bail!("the stack did not finish within {} s", args.timeout);
        }
    };
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
        agent_log_tail(&agents);
    }
    if args.keep {
        println!(
            "updraft: server at {}/v1/{PROJECT} (X-Auth-Token: {}); Ctrl-C to stop",
            server.base_url, client.token
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    // Tear down while the agents still run, so DELETE deployments can complete.
    let (status, _) = client
        .send(reqwest::Method::DELETE, &stack_path, None)
        .await?;
    if status.is_success() {
        for _ in 0..240 {
            let s = client.get(&stack_path).await?;
            if !s["stack"]["stack_status"]
                .as_str()
                .unwrap_or_default()
                .ends_with("IN_PROGRESS")
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    for agent in agents.values_mut() {
        let _ = agent.child.kill().await;
    }
    shutdown.cancel();
    let _ = server.task.await;
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
