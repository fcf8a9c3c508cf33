//! A local run: an in-process server on a temporary SQLite database, a client for its API,
//! and one agent process per `OS::Heat::DeployedServer` of the stack. Used by `updraft up`
//! and `updraft bench`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;
use updraft_agent::collectors::CollectorSettings;
use updraft_server::app::{RunningServer, ServerConfig, start};
use updraft_server::auth::admin_token;
use updraft_server::store::Store;

/// The project local runs use.
pub const PROJECT: &str = "local";

/// A client for the local server's native API.
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The admin token.
    pub token: String,
}

impl Client {
    /// A client for the server at `base` with `token`.
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        Ok(Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            base: base.to_string(),
            token: token.to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{PROJECT}{path}", self.base)
    }

    /// Sends a request; returns status and JSON body (`null` if not JSON).
    pub async fn send(
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
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// GET, failing on a non-2xx answer.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, value) = self.send(reqwest::Method::GET, path, None).await?;
        if !status.is_success() {
            bail!("GET {path}: {status}: {}", error_message(&value));
        }
        Ok(value)
    }
}

/// Heat's `error.message`, or the whole body.
pub fn error_message(value: &Value) -> String {
    value
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// An agent process started for one server.
pub struct AgentProcess {
    /// The server resource's name.
    pub name: String,
    child: Child,
    /// Its log file.
    pub log: PathBuf,
}

impl AgentProcess {
    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// Starts `updraft agent run` for server `name` with the collector `settings` name (secrets
/// in its environment).
fn start_agent(
    name: &str,
    settings: &CollectorSettings,
    work: &Path,
) -> anyhow::Result<AgentProcess> {
    let exe = std::env::current_exe().context("cannot find the updraft executable")?;
    let state = work.join("agents").join(name);
    std::fs::create_dir_all(&state)
        .with_context(|| format!("cannot create {}", state.display()))?;
    let log = work.join(format!("agent-{name}.log"));
    let log_file =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let line = settings.command_line();
    let child = Command::new(exe)
        .args(["agent", "run"])
        .args(&line.args)
        .envs(line.env.iter().map(|(k, v)| (k, v)))
        .args(["--poll-interval", "1"])
        .arg("--state-dir")
        .arg(&state)
        .stdin(std::process::Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the agent")?;
    Ok(AgentProcess {
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

/// A server, its client, the stack's agents and the temporary directory holding them.
pub struct LocalRun {
    server: RunningServer,
    shutdown: CancellationToken,
    /// The API client.
    pub client: Client,
    /// Agents by server resource name.
    pub agents: HashMap<String, AgentProcess>,
    seen_events: HashSet<String>,
    work: tempfile::TempDir,
}

impl LocalRun {
    /// Starts the in-process server.
    pub async fn start() -> anyhow::Result<Self> {
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
                limits: Default::default(),
                node_id: None,
                lease: Duration::from_secs(30),
                identity: Default::default(),
                transports: Default::default(),
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
        Ok(LocalRun {
            server,
            shutdown,
            client,
            agents: HashMap::new(),
            seen_events: HashSet::new(),
            work,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    /// Creates a stack; returns its canonical path.
    pub async fn create(
        &self,
        name: &str,
        template: &str,
        parameters: Value,
        environment: Value,
    ) -> anyhow::Result<String> {
        let body = json!({
            "stack_name": name, "template": template, "parameters": parameters, "environment": environment,
        });
        let (status, created) = self
            .client
            .send(reqwest::Method::POST, "/stacks", Some(body))
            .await?;
        if status != reqwest::StatusCode::CREATED {
            bail!("the stack was not created: {}", error_message(&created));
        }
        let id = created["stack"]["id"].as_str().unwrap_or_default();
        Ok(format!("/stacks/{name}/{id}"))
    }

    /// Prints events not shown yet, oldest first.
    async fn show_new_events(&mut self, stack_path: &str) -> anyhow::Result<()> {
        let events = self
            .client
            .get(&format!("{stack_path}/events?sort_dir=asc"))
            .await?;
        for e in events["events"].as_array().cloned().unwrap_or_default() {
            let id = e["id"].as_str().unwrap_or_default().to_string();
            if self.seen_events.insert(id) {
                print_event(&e);
            }
        }
        Ok(())
    }

    /// Starts an agent for every DeployedServer that has come up and has none yet.
    async fn start_new_agents(&mut self, stack_path: &str, verbose: bool) -> anyhow::Result<()> {
        let resources = self.client.get(&format!("{stack_path}/resources")).await?;
        for r in resources["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let name = r["resource_name"].as_str().unwrap_or_default().to_string();
            let ready = r["resource_type"] == "OS::Heat::DeployedServer"
                && r["resource_status"] == "CREATE_COMPLETE";
            if !ready || self.agents.contains_key(&name) {
                continue;
            }
            let md = self
                .client
                .get(&format!("{stack_path}/resources/{name}/metadata"))
                .await?;
            let section = md
                .pointer("/metadata/os-collect-config")
                .cloned()
                .unwrap_or(Value::Null);
            let settings = match CollectorSettings::from_section(&section) {
                Ok(Some(settings)) => settings,
                Ok(None) => continue,
                Err(err) => bail!("server {name}: cannot start its agent: {err}"),
            };
            let agent = start_agent(&name, &settings, self.work.path())?;
            if verbose {
                println!(
                    "updraft: started agent for server {name} (log: {})",
                    agent.log.display()
                );
            }
            self.agents.insert(name, agent);
        }
        Ok(())
    }

    /// Follows the stack until it is no longer in progress, starting agents as servers come
    /// up; with `verbose`, prints events. Returns the stack body.
    pub async fn follow(
        &mut self,
        stack_path: &str,
        verbose: bool,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if verbose {
                self.show_new_events(stack_path).await?;
            }
            self.start_new_agents(stack_path, verbose).await?;
            let stack = self.client.get(stack_path).await?;
            let status = stack["stack"]["stack_status"].as_str().unwrap_or_default();
            if !status.ends_with("IN_PROGRESS") {
                if verbose {
                    self.show_new_events(stack_path).await?;
                }
                return Ok(stack["stack"].clone());
            }
            if tokio::time::Instant::now() > deadline {
                self.print_agent_logs();
                bail!("the stack did not finish within {} s", timeout.as_secs());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Prints the last lines of every agent log to stderr.
    pub fn print_agent_logs(&self) {
        for agent in self.agents.values() {
            let Ok(text) = std::fs::read_to_string(&agent.log) else {
                continue;
            };
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

    /// Deletes the stack (while the agents still run, so DELETE deployments can complete),
    /// stops the agents and the server.
    pub async fn teardown(mut self, stack_path: &str) -> anyhow::Result<()> {
        let (status, _) = self
            .client
            .send(reqwest::Method::DELETE, stack_path, None)
            .await?;
        if status.is_success() {
            let _ = self
                .follow(stack_path, false, Duration::from_secs(60))
                .await;
        }
        for agent in self.agents.values_mut() {
            let _ = agent.child.kill().await;
        }
        self.shutdown.cancel();
        let _ = self.server.task.await;
        Ok(())
    }
}
