//! What the engine, resource types and API share: store, URLs, notifications, types.

use crate::auth::temp_url::TempUrls;
use crate::engine::notifier::Notifier;
use crate::resources::Registry;
use crate::store::Store;

/// Shared services, cheap to clone behind an `Arc`.
#[derive(Clone)]
pub struct Services {
    /// The database.
    pub store: Store,
    /// Capability URL issuer/verifier.
    pub temp_urls: TempUrls,
    /// In-process wake-ups for signals and metadata changes.
    pub notifier: Notifier,
    /// Resource types.
    pub registry: Registry,
    /// Heat's per-tree limits.
    pub limits: Limits,
    /// This server node, for stack leases.
    pub node: Node,
    /// Transports used when a template names none.
    pub transports: TransportDefaults,
}

/// Heat's `default_software_config_transport` and `default_deployment_signal_transport`.
#[derive(Debug, Clone)]
pub struct TransportDefaults {
    /// For servers (`software_config_transport`).
    pub software_config: String,
    /// For deployments (`signal_transport`).
    pub deployment_signal: String,
}

impl Default for TransportDefaults {
    /// Heat's CFN_SIGNAL for deployments. For servers POLL_TEMP_URL rather than Heat's
    /// POLL_SERVER_CFN: `updraft-agent` polls metadata URLs (with long-poll) but has no
    /// `cfn` collector yet, and the default must work with our own agent.
    fn default() -> Self {
        TransportDefaults {
            software_config: "POLL_TEMP_URL".into(),
            deployment_signal: "CFN_SIGNAL".into(),
        }
    }
}

/// This server node: its id in stack leases and how long a lease lasts unrenewed.
#[derive(Debug, Clone)]
pub struct Node {
    /// Stable across restarts of the same node (`<host>:<port>` unless configured), so a
    /// restarted node takes its own stacks back at once.
    pub id: String,
    /// Lease length; renewed every third of it.
    pub lease: std::time::Duration,
    /// This process: `<id>#<uuid>`. A lease names the process holding it, so a restarted
    /// node knows its predecessor's stacks (same id, other process) from its own.
    pub engine_id: String,
}

impl Node {
    /// A node `id` whose leases last `lease`, for this process.
    pub fn new(id: String, lease: std::time::Duration) -> Self {
        let engine_id = format!("{id}#{}", uuid::Uuid::new_v4().simple());
        Node {
            id,
            lease,
            engine_id,
        }
    }

    /// Whether `engine_id` is this node in an earlier process.
    pub fn is_predecessor(&self, engine_id: &str) -> bool {
        engine_id != self.engine_id
            && engine_id
                .split_once('#')
                .is_some_and(|(node, _)| node == self.id)
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new("local".into(), std::time::Duration::from_secs(30))
    }
}

/// Limits on stack trees (Heat's `max_nested_stack_depth`, `max_resources_per_stack`) and
/// the switches of optional stack operations (Heat's `enable_stack_abandon`,
/// `enable_stack_adopt`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting below a top-level stack.
    pub max_nested_depth: i64,
    /// Resources in a whole tree; negative means no limit.
    pub max_resources_per_stack: i64,
    /// Whether `DELETE …/abandon` and `GET …/export` are served.
    pub enable_stack_abandon: bool,
    /// Whether `POST /stacks` takes `adopt_stack_data`.
    pub enable_stack_adopt: bool,
}

impl Default for Limits {
    /// Heat's defaults: depth 5, 1000 resources, no abandon or adopt.
    fn default() -> Self {
        Limits {
            max_nested_depth: 5,
            max_resources_per_stack: 1000,
            enable_stack_abandon: false,
            enable_stack_adopt: false,
        }
    }
}
