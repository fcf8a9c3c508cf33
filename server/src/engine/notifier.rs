//! Wake-ups: a signal wakes the deployment waiting for it, and a metadata change wakes
//! agents long-polling that server's metadata — in this process, and (with a bus attached,
//! `engine/bus.rs`) on the other nodes sharing the PostgreSQL database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

/// Wake-up channels keyed by deployment id and server id.
#[derive(Clone, Default)]
pub struct Notifier {
    deployments: Arc<Mutex<HashMap<String, Arc<Notify>>>>,
    metadata: Arc<Mutex<HashMap<String, watch::Sender<i64>>>>,
    publish_locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    bus: Arc<OnceLock<mpsc::UnboundedSender<String>>>,
}

impl Notifier {
    fn deployment(&self, id: &str) -> Arc<Notify> {
        let mut map = self.deployments.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }

    /// Sends this node's wake-ups to the other nodes too (`d <id>`, `m <version> <server>`).
    pub fn attach_bus(&self, tx: mpsc::UnboundedSender<String>) {
        let _ = self.bus.set(tx);
    }

    fn publish(&self, message: String) {
        if let Some(tx) = self.bus.get() {
            let _ = tx.send(message);
        }
    }

    /// A wake-up that another node published: acted on here only.
    pub fn deliver(&self, message: &str) {
        match message.split_once(' ') {
            Some(("d", id)) => self.deployment(id).notify_one(),
            Some(("m", rest)) => {
                if let Some((version, server)) = rest.split_once(' ')
                    && let Ok(version) = version.parse()
                {
                    self.metadata_sender(server).send_replace(version);
                }
            }
            _ => tracing::debug!(message, "ignoring an unknown wake-up"),
        }
    }

    /// Wakes the task waiting for deployment `id` (or the next one to wait).
    pub fn deployment_signalled(&self, id: &str) {
        self.deployment(id).notify_one();
        self.publish(format!("d {id}"));
    }

    /// Waits for a signal to deployment `id`, at most `timeout`.
    pub async fn wait_deployment(&self, id: &str, timeout: Duration) {
        let notify = self.deployment(id);
        let _ = tokio::time::timeout(timeout, notify.notified()).await;
    }

    fn metadata_sender(&self, server_id: &str) -> watch::Sender<i64> {
        let mut map = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(server_id.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    /// Announces a new metadata version (`-1`: the server is gone).
    pub fn metadata_changed(&self, server_id: &str, version: i64) {
        self.metadata_sender(server_id).send_replace(version);
        self.publish(format!("m {version} {server_id}"));
    }

    /// A receiver that changes when the server's metadata does.
    pub fn watch_metadata(&self, server_id: &str) -> watch::Receiver<i64> {
        self.metadata_sender(server_id).subscribe()
    }

    /// A lock serialising metadata rebuilds of one server, so concurrent deployments
    /// never publish a document that misses one of them.
    pub fn publish_lock(&self, server_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.publish_locks.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(server_id.to_string()).or_default().clone()
    }
}
