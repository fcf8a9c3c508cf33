//! `updraft bench engine`: the engine alone at scale. A real `updraft server` process per
//! run (SQLite in a temporary directory, or `--database-url`), no tree resource limit; the
//! wall time from the create request to `CREATE_COMPLETE`, the delete time, and the
//! server's peak RSS, for each size asked.
//!
//! Shapes: `group` (one ResourceGroup of N RandomString), `chain` (N Values, each reading
//! the previous one's attribute), `tree` (a ResourceGroup of √N ResourceGroups of
//! RandomString).

use std::fmt::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::local_run::Client;

/// Options of `updraft bench engine`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// `group`, `chain` or `tree`.
    #[arg(long, default_value = "group")]
    shape: String,
    /// Stack sizes to measure (resources, nested ones included), comma separated.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1000, 10000])]
    resources: Vec<usize>,
    /// Database URL for the server (default: SQLite in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
}

/// The template of `shape` with about `n` resources.
pub fn template(shape: &str, n: usize) -> anyhow::Result<String> {
    let random = "{type: OS::Heat::RandomString, properties: {length: 32}}";
    Ok(match shape {
        "group" => format!(
            "heat_template_version: 2018-08-31\nresources:\n  group:\n    type: OS::Heat::ResourceGroup\n    properties:\n      count: {n}\n      resource_def: {random}\n"
        ),
        "tree" => {
            let width = (n as f64).sqrt().ceil().max(1.0) as usize;
            let leaves = n.div_ceil(width);
            format!(
                "heat_template_version: 2018-08-31\nresources:\n  tree:\n    type: OS::Heat::ResourceGroup\n    properties:\n      count: {width}\n      resource_def:\n        type: OS::Heat::ResourceGroup\n        properties:\n          count: {leaves}\n          resource_def: {random}\n"
            )
        }
        "chain" => {
            let mut t = String::from("heat_template_version: 2018-08-31\nresources:\n");
            for i in 0..n {
                let value = if i == 0 {
                    "start".to_string()
                } else {
                    format!("{{get_attr: [r{}, value]}}", i - 1)
                };
                let _ = writeln!(
                    t,
                    "  r{i}:\n    type: OS::Heat::Value\n    properties:\n      value: {value}"
                );
            }
            t
        }
        other => bail!("unknown shape {other}; use group, chain or tree"),
    })
}

/// A server process for one measurement.
struct ServerProcess {
    child: tokio::process::Child,
    client: Client,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    async fn start(database_url: Option<&str>) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("updraft-bench-")
            .tempdir()?;
        let token = updraft_server::auth::admin_token::generate();
        let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
        cmd.args(["server", "--bind", "127.0.0.1:0", "--admin-token", &token])
            .args(["--max-resources-per-stack", "-1", "--data-dir"])
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            cmd.args(["--database-url", url]);
        }
        let mut child = cmd.spawn().context("cannot start updraft server")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            match lines.next_line().await? {
                Some(line) => {
                    if let Some(url) = line.strip_prefix("updraft: listening on ") {
                        break url.trim().to_string();
                    }
                }
                None => bail!("the server exited before listening"),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerProcess {
            child,
            client: Client::new(&base, &token)?,
            _data: data,
        })
    }

    fn peak_rss_mib(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
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

    /// Polls the stack until it leaves `*_IN_PROGRESS`.
    async fn wait(&self, path: &str) -> anyhow::Result<Value> {
        loop {
            let (status, body) = self.client.send(reqwest::Method::GET, path, None).await?;
            if status.is_success() {
                let s = body["stack"]["stack_status"].as_str().unwrap_or_default();
                if !s.ends_with("IN_PROGRESS") {
                    return Ok(body["stack"].clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// One measurement.
struct Figures {
    create: Duration,
    delete: Duration,
    peak_rss_mib: Option<f64>,
}

async fn measure(args: &EngineArgs, n: usize, round: usize) -> anyhow::Result<Figures> {
    let text = template(&args.shape, n)?;
    let server = ServerProcess::start(args.database_url.as_deref()).await?;
    let name = format!("bench-{}-{n}-{round}-{}", args.shape, std::process::id());
    let started = Instant::now();
    let (status, created) = server
        .client
        .send(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": name, "template": text})),
        )
        .await?;
    if status != reqwest::StatusCode::CREATED {
        bail!("create: {status}: {created}");
    }
    let id = created["stack"]["id"].as_str().unwrap_or_default();
    let path = format!("/stacks/{name}/{id}");
    let done = server.wait(&path).await?;
    let create = started.elapsed();
    if done["stack_status"] != "CREATE_COMPLETE" {
        bail!(
            "create ended {}: {}",
            done["stack_status"],
            done["stack_status_reason"]
        );
    }
    let started = Instant::now();
    server
        .client
        .send(reqwest::Method::DELETE, &path, None)
        .await?;
    let done = server.wait(&path).await?;
    let delete = started.elapsed();
    if done["stack_status"] != "DELETE_COMPLETE" {
        bail!(
            "delete ended {}: {}",
            done["stack_status"],
            done["stack_status_reason"]
        );
    }
    Ok(Figures {
        create,
        delete,
        peak_rss_mib: server.peak_rss_mib(),
    })
}

/// Runs every size and prints a line each.
pub async fn run(args: &EngineArgs) -> anyhow::Result<()> {
    let backend = match &args.database_url {
        Some(url) if url.starts_with("postgres") => "PostgreSQL",
        Some(_) => "the given database",
        None => "SQLite",
    };
    println!("updraft bench engine: shape {}, on {backend}", args.shape);
    for (round, &n) in args.resources.iter().enumerate() {
        let f = measure(args, n, round).await?;
        println!(
            "  {n:>6} resources: create {:>7.2} s ({:>6.0}/s)   delete {:>7.2} s   server peak RSS {}",
            f.create.as_secs_f64(),
            n as f64 / f.create.as_secs_f64().max(f64::EPSILON),
            f.delete.as_secs_f64(),
            f.peak_rss_mib
                .map(|m| format!("{m:.1} MiB"))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_and_validate() {
        let registry = updraft_server::resources::Registry::builtin();
        for shape in ["group", "chain", "tree"] {
            let text = template(shape, 9).unwrap();
            let doc = updraft_server::template::loader::load_document(&text).unwrap();
            let t = updraft_server::template::Template::parse(&doc).unwrap();
            t.validate(&registry).unwrap();
        }
        assert!(template("star", 1).is_err());
    }
}
