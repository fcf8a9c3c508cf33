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
}

/// Limits on stack trees (Heat's `max_nested_stack_depth`, `max_resources_per_stack`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting below a top-level stack.
    pub max_nested_depth: i64,
    /// Resources in a whole tree; negative means no limit.
    pub max_resources_per_stack: i64,
}

impl Default for Limits {
    /// Heat's defaults: depth 5, 1000 resources.
    fn default() -> Self {
        Limits {
            max_nested_depth: 5,
            max_resources_per_stack: 1000,
        }
    }
}
