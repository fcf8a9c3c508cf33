//! Waiting for a stop request (SIGTERM or Ctrl-C).

use tokio::signal::unix::{SignalKind, signal};

/// Completes when the process receives SIGTERM or SIGINT.
pub async fn requested() {
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received; stopping"),
                _ = interrupt() => tracing::info!("interrupt received; stopping"),
            }
        }
        Err(err) => {
            tracing::warn!("cannot listen for SIGTERM ({err}); only Ctrl-C stops the agent");
            interrupt().await;
            tracing::info!("interrupt received; stopping");
        }
    }
}

/// Completes on Ctrl-C; never, when Ctrl-C cannot be listened for.
async fn interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
