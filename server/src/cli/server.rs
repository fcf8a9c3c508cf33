//! `updraft server`: run the API and engine until stopped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;
use updraft_server::app::{ServerConfig, start};
use updraft_server::auth::admin_token;
use updraft_server::auth::users::IdentitySettings;
use updraft_server::engine::services::{Limits, TransportDefaults};
use updraft_server::store::Store;

/// Options of `updraft server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8004")]
    bind: SocketAddr,
    /// Directory for the embedded SQLite database.
    #[arg(long, default_value = "updraft-data")]
    data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); overrides --data-dir.
    #[arg(long, env = "UPDRAFT_DATABASE_URL")]
    database_url: Option<String>,
    /// Base URL that agents use to reach this server (default: http://<bind>).
    #[arg(long, env = "UPDRAFT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Admin token for the native API; generated and printed once when not given.
    #[arg(long, env = "UPDRAFT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Resources allowed in a stack and everything nested in it (Heat's
    /// `max_resources_per_stack`); -1 for no limit.
    #[arg(long, default_value_t = 1000, allow_negative_numbers = true)]
    max_resources_per_stack: i64,
    /// Deepest nesting of stacks (Heat's `max_nested_stack_depth`).
    #[arg(long, default_value_t = 5)]
    max_nested_stack_depth: i64,
    /// Serve `DELETE /stacks/{name}/{id}/abandon` and `GET …/export` (Heat's
    /// `enable_stack_abandon`): the stack is forgotten, its physical resources kept.
    #[arg(long)]
    enable_stack_abandon: bool,
    /// Accept `adopt_stack_data` in `POST /stacks` (Heat's `enable_stack_adopt`).
    #[arg(long)]
    enable_stack_adopt: bool,
    /// This node's id in stack leases when several nodes share a PostgreSQL database
    /// (default `<hostname>:<port>`, stable across restarts).
    #[arg(long, env = "UPDRAFT_NODE_ID")]
    node_id: Option<String>,
    /// Seconds a node's stack lease lasts unrenewed; after that another node resumes the
    /// stack's action.
    #[arg(long, default_value_t = 30)]
    lease_seconds: u64,
    /// How servers get their metadata when a template does not say (Heat's
    /// `default_software_config_transport`): POLL_TEMP_URL, POLL_SERVER_CFN or
    /// POLL_SERVER_HEAT.
    #[arg(long, default_value = "POLL_TEMP_URL", value_parser = ["POLL_TEMP_URL", "POLL_SERVER_CFN", "POLL_SERVER_HEAT"])]
    default_software_config_transport: String,
    /// How deployments signal when a template does not say (Heat's
    /// `default_deployment_signal_transport`): CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL or
    /// NO_SIGNAL.
    #[arg(long, default_value = "CFN_SIGNAL", value_parser = ["CFN_SIGNAL", "TEMP_URL_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL"])]
    default_deployment_signal_transport: String,
    /// Seconds a project user's token from `/v3/auth/tokens` stays valid.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Failed password attempts for one user name allowed within --lockout-seconds; after
    /// that authentication answers 429 until the window passes (0: no limit).
    #[arg(long, default_value_t = 10)]
    lockout_failures: usize,
    /// The window of --lockout-failures, in seconds.
    #[arg(long, default_value_t = 300)]
    lockout_seconds: u64,
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let database_url = match args.database_url {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!("cannot create data directory {}", args.data_dir.display())
            })?;
            Store::sqlite_url(&args.data_dir)
        }
    };
    let admin_token = match args.admin_token {
        Some(t) if !t.is_empty() => t,
        _ => {
            let t = admin_token::generate();
            println!("updraft: generated admin token (pass it as X-Auth-Token): {t}");
            t
        }
    };
    let shutdown = CancellationToken::new();
    let server = start(
        ServerConfig {
            bind: args.bind,
            database_url,
            public_url: args.public_url,
            admin_token,
            limits: Limits {
                max_nested_depth: args.max_nested_stack_depth,
                max_resources_per_stack: args.max_resources_per_stack,
                enable_stack_abandon: args.enable_stack_abandon,
                enable_stack_adopt: args.enable_stack_adopt,
            },
            node_id: args.node_id,
            lease: std::time::Duration::from_secs(args.lease_seconds.max(1)),
            transports: TransportDefaults {
                software_config: args.default_software_config_transport,
                deployment_signal: args.default_deployment_signal_transport,
            },
            identity: IdentitySettings {
                token_lifetime: std::time::Duration::from_secs(args.token_lifetime.max(1)),
                lockout_failures: args.lockout_failures,
                lockout_window: std::time::Duration::from_secs(args.lockout_seconds),
            },
        },
        shutdown.clone(),
    )
    .await?;
    println!("updraft: listening on {}", server.base_url);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        stop.cancel();
    });
    server
        .task
        .await
        .context("server task failed")?
        .context("server stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
