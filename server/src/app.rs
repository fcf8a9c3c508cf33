//! Starting a server: open the store, build the engine and API, bind, serve.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiState, router};
use crate::auth::temp_url::TempUrls;
use crate::engine::Engine;
use crate::engine::notifier::Notifier;
use crate::engine::services::{Node, Services};
use crate::resources::Registry;
use crate::store::{Store, StoreError};

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Listen address (`127.0.0.1:0` for an ephemeral port).
    pub bind: SocketAddr,
    /// sqlx database URL.
    pub database_url: String,
    /// Base URL agents reach us at; defaults to `http://<bound address>`.
    pub public_url: Option<String>,
    /// The admin token for the native API.
    pub admin_token: String,
    /// Limits on stack trees.
    pub limits: crate::engine::services::Limits,
    /// This node's id in stack leases (default `<hostname>:<port>`).
    pub node_id: Option<String>,
    /// How long a stack lease lasts unrenewed.
    pub lease: std::time::Duration,
    /// Transports used when a template names none.
    pub transports: crate::engine::services::TransportDefaults,
    /// Token lifetime and password lockout of project users.
    pub identity: crate::auth::users::IdentitySettings,
}

/// `<hostname>:<port>`: stable across restarts of a node on the same address.
fn default_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{port}")
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// A started server.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its base URL.
    pub base_url: String,
    /// Finishes when the server stops.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Its services (in-process callers: benchmarks watch its notifier).
    pub services: Arc<Services>,
}

/// Opens the store, binds and starts serving until `shutdown` is cancelled.
pub async fn start(
    config: ServerConfig,
    shutdown: CancellationToken,
) -> Result<RunningServer, StartError> {
    let store = Store::connect(&config.database_url).await?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let base_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let key = store
        .setting_or_insert("temp_url_key", &crate::auth::admin_token::generate())
        .await?;
    let services = Arc::new(Services {
        store,
        temp_urls: TempUrls::new(&base_url, key.into_bytes()),
        notifier: Notifier::default(),
        registry: Registry::builtin(),
        limits: config.limits,
        node: Node::new(
            config
                .node_id
                .clone()
                .unwrap_or_else(|| default_node_id(addr.port())),
            config.lease,
        ),
        transports: config.transports.clone(),
    });
    crate::engine::bus::start(&services, &config.database_url, shutdown.clone());
    let engine = Engine::new(services.clone());
    match engine.resume_interrupted().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(stacks = n, "resumed interrupted stack actions"),
        Err(e) => tracing::error!(error = %e, "could not resume interrupted stack actions"),
    }
    engine.run_leases(shutdown.clone());
    let state = ApiState {
        engine,
        admin_token: Arc::new(config.admin_token),
        identity: Arc::new(crate::auth::users::Identity::new(config.identity)),
    };
    let app = router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
    tracing::info!(%addr, "updraft server listening");
    Ok(RunningServer {
        addr,
        base_url,
        task,
        services,
    })
}
