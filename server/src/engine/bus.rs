//! The wake-up bus between nodes sharing a PostgreSQL database: a node's notifier
//! wake-ups (a deployment signalled, a server's metadata changed) are sent with
//! `pg_notify` and delivered to the other nodes' notifiers by a `LISTEN`ing connection, so
//! a deployment waiting on one node wakes when its signal lands on another, and an agent
//! long-polling one node hears of a change published by another at once.
//!
//! Without the bus (SQLite: one node) the notifier is in-process only. Missing a message
//! only delays: deployments re-read their state every 2 s and long-polls end at their wait.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::services::Services;

const CHANNEL: &str = "updraft_wakeups";

/// Starts the bus when `database_url` is PostgreSQL; a no-op otherwise.
pub fn start(services: &Arc<Services>, database_url: &str, shutdown: CancellationToken) {
    if !database_url.starts_with("postgres") {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    services.notifier.attach_bus(tx);
    let me = services.node.engine_id.clone();

    let publisher = services.clone();
    let sender = me.clone();
    tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let payload = format!("{sender} {message}");
            if let Err(e) = publisher.store.notify(CHANNEL, &payload).await {
                tracing::warn!(error = %e, "could not publish a wake-up to the other nodes");
            }
        }
    });

    let listener = services.clone();
    let url = database_url.to_string();
    tokio::spawn(async move {
        loop {
            match listen(&listener, &url, &me, &shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "wake-up listener lost its connection; reconnecting");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    });
}

/// Delivers other nodes' wake-ups until `shutdown` (Ok) or a connection error (Err).
async fn listen(
    services: &Services,
    url: &str,
    me: &str,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let notification = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = listener.recv() => n?,
        };
        if let Some((sender, message)) = notification.payload().split_once(' ')
            && sender != me
        {
            services.notifier.deliver(message);
        }
    }
}
