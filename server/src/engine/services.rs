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
}
