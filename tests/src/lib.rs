//! Helpers for the end-to-end tests: start the real `updraft` server and `updraft-agent`
//! binaries on 127.0.0.1 with ephemeral ports, and talk to the API over HTTP.
//!
//! The binaries must be built first (`cargo build --workspace --bins`, part of the README
//! test command); they are found next to the test executable's directory.

pub mod fault_proxy;
pub mod openstack;
pub mod stock_agents;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Path of a workspace binary (`updraft`, `updraft-agent`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` before the tests",
        path.display()
    );
    path
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

/// A running `updraft server` with its own SQLite database.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The admin token it was started with.
    pub token: String,
    data: tempfile::TempDir,
    database: std::sync::Arc<Database>,
    extra: Vec<String>,
}

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: SQLite in the server's data directory.
    Sqlite,
    /// A fresh, uniquely named PostgreSQL database on the local server, dropped afterwards.
    Postgres,
}

/// The database behind a test server.
enum Database {
    Sqlite,
    Postgres { name: String, url: String },
}

/// The PostgreSQL server tests use (`UPDRAFT_TEST_POSTGRES`, default the local one).
fn postgres_admin_url() -> String {
    std::env::var("UPDRAFT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn psql(sql: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new("psql")
        .args([&postgres_admin_url(), "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .context("cannot run psql")?;
    if !out.status.success() {
        bail!("psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Whether PostgreSQL tests can run: always when `CI=true` (a missing server is then a
/// failure), otherwise only when the server answers.
pub fn postgres_available() -> bool {
    std::env::var("CI").as_deref() == Ok("true") || psql("SELECT 1").is_ok()
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { name, .. } = self {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

async fn spawn_server(
    data: &Path,
    database: &Database,
    extra: &[String],
    bind: &str,
    token: &str,
) -> anyhow::Result<(Child, String)> {
    let mut cmd = Command::new(binary("updraft"));
    cmd.args([
        "server",
        "--bind",
        bind,
        "--admin-token",
        token,
        "--data-dir",
    ])
    .arg(data)
    .args(extra);
    if let Database::Postgres { url, .. } = database {
        cmd.args(["--database-url", url]);
    }
    // The server's log (info and up) goes to `server.log` in its data directory, appended
    // across restarts, for tests that check what is (not) logged.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("server.log"))
        .context("cannot open the server log")?;
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start updraft server")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.strip_prefix("updraft: listening on ") {
                return Ok::<_, anyhow::Error>(url.trim().to_string());
            }
        }
        bail!("the server exited before listening")
    })
    .await
    .context("the server did not start within 30 s")??;
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, base))
}

impl Server {
    /// Starts a server on an ephemeral port and waits until it listens.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Backend::Sqlite, &[]).await
    }

    /// Starts a server whose capability URLs (metadata, signals) point at `proxy`, and
    /// points `proxy` at it: agents then reach the server only through the proxy.
    pub async fn start_behind(proxy: &fault_proxy::FaultProxy) -> anyhow::Result<Self> {
        // The server announces its public URL, not where it listens: choose the port here.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut server =
            Self::start_on(Backend::Sqlite, &["--public-url", &proxy.url()], &bind).await?;
        server.base = format!("http://{bind}");
        proxy.set_upstream(&server.base)?;
        Ok(server)
    }

    /// Starts a server on `backend` with extra `updraft server` flags.
    pub async fn start_with(backend: Backend, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_on(backend, extra, "127.0.0.1:0").await
    }

    async fn start_on(backend: Backend, extra: &[&str], bind: &str) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let token = format!("test-token-{}", std::process::id());
        let database = match backend {
            Backend::Sqlite => Database::Sqlite,
            Backend::Postgres => {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let name = format!(
                    "updraft_e2e_{}_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
                );
                psql(&format!("CREATE DATABASE {name}"))?;
                let admin = postgres_admin_url();
                let prefix = admin.rsplit_once('/').map(|(p, _)| p).unwrap_or(&admin);
                let url = format!("{prefix}/{name}");
                Database::Postgres { name, url }
            }
        };
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, base) = spawn_server(data.path(), &database, &extra, bind, &token).await?;
        Ok(Server {
            child,
            base,
            token,
            data,
            database: std::sync::Arc::new(database),
            extra,
        })
    }

    /// Starts another node on the same database (meaningful with PostgreSQL), with its own
    /// port and `extra` flags.
    pub async fn start_sharing(&self, extra: &[&str]) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let (child, base) = spawn_server(
            data.path(),
            &self.database,
            &extra,
            "127.0.0.1:0",
            &self.token,
        )
        .await?;
        Ok(Server {
            child,
            base,
            token: self.token.clone(),
            data,
            database: self.database.clone(),
            extra,
        })
    }

    /// Everything the server logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default()
    }

    /// Kills the server with SIGKILL and leaves it dead (a node lost for good).
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Kills the server with SIGKILL (no shutdown of any kind) and starts a new process on
    /// the same port and database, as after a crash.
    pub async fn crash_and_restart(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        let bind = self.base.trim_start_matches("http://").to_string();
        let (child, base) = spawn_server(
            self.data.path(),
            &self.database,
            &self.extra,
            &bind,
            &self.token,
        )
        .await?;
        self.child = child;
        self.base = base;
        Ok(())
    }

    /// Runs `updraft admin <args>` on this server's database (`--data-dir` or, on
    /// PostgreSQL, `--database-url`).
    pub async fn admin(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let mut cmd = Command::new(binary("updraft"));
        cmd.arg("admin");
        match &*self.database {
            Database::Postgres { url, .. } => cmd.args(["--database-url", url]),
            Database::Sqlite => cmd.arg("--data-dir").arg(self.data.path()),
        };
        cmd.args(args)
            .env_remove("UPDRAFT_DATABASE_URL")
            .output()
            .await
            .context("cannot run updraft admin")
    }

    /// An API client for project `demo`.
    pub fn api(&self) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: self.base.clone(),
            token: self.token.clone(),
            project: "demo".into(),
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A native-API client.
#[derive(Clone)]
pub struct Api {
    /// HTTP client (redirects followed).
    pub http: reqwest::Client,
    /// Server base URL.
    pub base: String,
    /// Admin token.
    pub token: String,
    /// Project in paths.
    pub project: String,
}

/// A response: status and JSON body (`null` when the body is not JSON).
pub type Reply = (reqwest::StatusCode, Value);

impl Api {
    /// `<base>/v1/<project><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1/{}{}", self.base, self.project, path)
    }

    /// Sends a request with the token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// GET.
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Creates a stack from template text; returns the canonical stack path.
    pub async fn create_stack(
        &self,
        name: &str,
        template: &str,
        parameters: Value,
    ) -> anyhow::Result<String> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/stacks",
                Some(json!({"stack_name": name, "template": template, "parameters": parameters})),
            )
            .await?;
        if status != reqwest::StatusCode::CREATED {
            bail!("create {name}: {status}: {body}");
        }
        let id = body["stack"]["id"].as_str().context("stack id")?;
        Ok(format!("/stacks/{name}/{id}"))
    }

    /// Replaces the stack's template and parameters (PUT) and waits for the update to end;
    /// returns the stack body.
    pub async fn update_stack(
        &self,
        path: &str,
        template: &str,
        parameters: Value,
    ) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                path,
                Some(json!({"template": template, "parameters": parameters})),
            )
            .await?;
        if status != reqwest::StatusCode::ACCEPTED {
            bail!("update {path}: {status}: {body}");
        }
        self.wait_stack(path, Duration::from_secs(120)).await
    }

    /// Waits until the stack is no longer `*_IN_PROGRESS`; returns the stack body.
    pub async fn wait_stack(&self, path: &str, timeout: Duration) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let (status, body) = self.get(path).await?;
            if status.is_success() {
                let s = body["stack"]["stack_status"].as_str().unwrap_or_default();
                if !s.ends_with("IN_PROGRESS") {
                    return Ok(body["stack"].clone());
                }
            }
            if start.elapsed() > timeout {
                bail!("stack {path} still in progress after {timeout:?}: {body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until resource `name` has status `wanted`; returns the resource.
    pub async fn wait_resource(
        &self,
        stack: &str,
        name: &str,
        wanted: &str,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let start = Instant::now();
        loop {
            let (_, body) = self.get(&format!("{stack}/resources/{name}")).await?;
            if body["resource"]["resource_status"] == wanted {
                return Ok(body["resource"].clone());
            }
            if start.elapsed() > timeout {
                bail!("resource {name} not {wanted} after {timeout:?}: {body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `os-collect-config` section of server resource `name`'s metadata.
    pub async fn collect_config(&self, stack: &str, name: &str) -> anyhow::Result<Value> {
        let (_, md) = self
            .get(&format!("{stack}/resources/{name}/metadata"))
            .await?;
        md.pointer("/metadata/os-collect-config")
            .filter(|v| v.is_object())
            .cloned()
            .with_context(|| format!("no os-collect-config section in {md}"))
    }

    /// The metadata URL an agent for server resource `name` must poll.
    pub async fn metadata_url(&self, stack: &str, name: &str) -> anyhow::Result<String> {
        let (_, md) = self
            .get(&format!("{stack}/resources/{name}/metadata"))
            .await?;
        md.pointer("/metadata/os-collect-config/request/metadata_url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("no metadata_url in {md}"))
    }

    /// Waits for server resource `server` to be created, then starts an agent for it with
    /// state under `state_dir`, configured from the server's `os-collect-config` section
    /// whatever its collector (request, cfn or heat).
    pub async fn start_agent(
        &self,
        stack: &str,
        server: &str,
        state_dir: &Path,
        extra: &[&str],
    ) -> anyhow::Result<Agent> {
        self.wait_resource(stack, server, "CREATE_COMPLETE", Duration::from_secs(60))
            .await?;
        let section = self.collect_config(stack, server).await?;
        Agent::start_for(&section, &state_dir.join(server), extra)
    }

    /// Creates stack `name` from `template` with `params`, waits for its resource `server`
    /// and starts an agent (with `args` and the environment `env`) polling that server's
    /// metadata URL, with state in `state_dir`; the stack's path and the agent.
    pub async fn create_with_agent(
        &self,
        name: &str,
        template: &str,
        params: Value,
        state_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<(String, Agent)> {
        let stack = self.create_stack(name, template, params).await?;
        self.wait_resource(&stack, "server", "CREATE_COMPLETE", Duration::from_secs(60))
            .await?;
        let url = self.metadata_url(&stack, "server").await?;
        let agent = Agent::start_env(&url, state_dir, args, env)?;
        Ok((stack, agent))
    }

    /// The value of output `key` of a stack body.
    pub fn output(stack: &Value, key: &str) -> Value {
        stack["outputs"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["output_key"] == key))
            .map(|o| o["output_value"].clone())
            .unwrap_or(Value::Null)
    }
}

/// A running `updraft-agent run` process, logging to a file.
pub struct Agent {
    child: Child,
    /// Its log file (stderr).
    pub log: PathBuf,
}

impl Agent {
    /// Starts an agent for `metadata_url` with `state_dir`; polls every second unless
    /// `extra` sets `--poll-interval`.
    pub fn start(metadata_url: &str, state_dir: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        let args = ["--metadata-url".to_string(), metadata_url.to_string()];
        Self::spawn(&binary("updraft-agent"), &args, &[], state_dir, extra)
    }

    /// As [`Agent::start`], with extra environment variables (e.g. `NOTIFY_SOCKET`).
    pub fn start_env(
        metadata_url: &str,
        state_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let args = ["--metadata-url".to_string(), metadata_url.to_string()];
        let env: Vec<_> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::spawn(&binary("updraft-agent"), &args, &env, state_dir, extra)
    }

    /// Starts an agent configured as an `os-collect-config` section (a DeployedServer's
    /// `os_collect_config` attribute) says: its first request/cfn/heat collector, secrets
    /// passed in the environment.
    pub fn start_for(section: &Value, state_dir: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_binary_for(&binary("updraft-agent"), section, state_dir, extra)
    }

    /// [`Agent::start_for`] with another build of the agent (`program`), e.g. the static
    /// one a benchmark measures.
    pub fn start_binary_for(
        program: &Path,
        section: &Value,
        state_dir: &Path,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let settings = updraft_agent::collectors::CollectorSettings::from_section(section)?
            .with_context(|| format!("no collector this agent runs in {section}"))?;
        let line = settings.command_line();
        Self::spawn(program, &line.args, &line.env, state_dir, extra)
    }

    fn spawn(
        program: &Path,
        args: &[String],
        env: &[(String, String)],
        state_dir: &Path,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(state_dir)?;
        let log = state_dir.with_extension(format!(
            "log-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos()
        ));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(program)
            .arg("run")
            .args(args)
            .args(if extra.contains(&"--poll-interval") {
                &[][..]
            } else {
                &["--poll-interval", "1"][..]
            })
            .arg("--state-dir")
            .arg(state_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            // After the default, so a caller's RUST_LOG wins.
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(file.try_clone()?)
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start updraft-agent")?;
        Ok(Agent { child, log })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit; its status, or `None` if still running.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Kills the agent (SIGKILL) and waits for it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `timeout` for `what` to appear in the log; panics with the log if not.
    /// (Some lines follow the event a test waits for, e.g. a collector switch is logged
    /// after the deployment's signal went out.)
    pub async fn wait_log(&self, what: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.log_text().contains(what) {
            assert!(
                start.elapsed() < timeout,
                "no {what:?} in the agent log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A stack of one POLL_TEMP_URL DeployedServer `server` and one TEMP_URL_SIGNAL
/// deployment `deployment` of a config of `group` whose `config` text is given.
pub fn one_deployment_template(group: &str, config: &str) -> String {
    format!(
        r#"heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {{software_config_transport: POLL_TEMP_URL}}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: {group}
      config: {config}
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {{get_resource: config}}
      server: {{get_resource: server}}
      signal_transport: TEMP_URL_SIGNAL
"#,
        config = json!(config)
    )
}

/// The collector settings an agent saved in `state_dir` (`collector.json`), if any.
pub fn saved_collector(state_dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(state_dir.join("collector.json")).ok()?;
    serde_json::from_str::<Value>(&text)
        .ok()?
        .get("settings")
        .cloned()
}
