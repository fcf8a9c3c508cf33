//! Waiting for a stop request (SIGTERM or Ctrl-C) and for reload requests (SIGHUP).

use tokio::signal::unix::{Signal, SignalKind, signal};

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

/// SIGHUPs received. Installed once at start, so a SIGHUP arriving while the agent is busy
/// (running a hook) is kept and acted on afterwards instead of killing the process.
pub struct Reloads(Option<Signal>);

impl Reloads {
    /// Starts listening for SIGHUP (warns and never yields when that is impossible).
    pub fn listen() -> Self {
        match signal(SignalKind::hangup()) {
            Ok(hup) => Reloads(Some(hup)),
            Err(err) => {
                tracing::warn!("cannot listen for SIGHUP ({err}); reloading is disabled");
                Reloads(None)
            }
        }
    }

    /// Completes at the next SIGHUP.
    pub async fn next(&mut self) {
        match &mut self.0 {
            Some(hup) => {
                if hup.recv().await.is_none() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    }
}
