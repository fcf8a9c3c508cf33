//! Recording state changes: every resource and stack transition is persisted with an event.

use crate::engine::services::Services;
use crate::store::{EventRow, StoreError, now_timestamp};

/// The resource type recorded on stack-level events.
pub const STACK_EVENT_TYPE: &str = "OS::Heat::Stack";

/// Persists a resource's new state and records the event.
#[allow(clippy::too_many_arguments)]
pub async fn resource_state(
    services: &Services,
    stack_id: &str,
    name: &str,
    resource_type: &str,
    physical_id: &str,
    action: &str,
    status: &str,
    reason: &str,
) -> Result<(), StoreError> {
    services
        .store
        .set_resource_state(stack_id, name, action, status, reason)
        .await?;
    event(
        services,
        stack_id,
        name,
        resource_type,
        physical_id,
        action,
        status,
        reason,
    )
    .await
}

/// Records an event without changing state (also used for `SIGNAL_*` events).
#[allow(clippy::too_many_arguments)]
pub async fn event(
    services: &Services,
    stack_id: &str,
    name: &str,
    resource_type: &str,
    physical_id: &str,
    action: &str,
    status: &str,
    reason: &str,
) -> Result<(), StoreError> {
    services
        .store
        .add_event(EventRow {
            id: String::new(),
            seq: 0,
            stack_id: stack_id.to_string(),
            resource_name: name.to_string(),
            physical_resource_id: physical_id.to_string(),
            resource_type: resource_type.to_string(),
            resource_action: action.to_string(),
            resource_status: status.to_string(),
            resource_status_reason: reason.to_string(),
            created_at: now_timestamp(),
        })
        .await
        .map(|_| ())
}

/// Persists the stack's new state and records the stack event.
pub async fn stack_state(
    services: &Services,
    stack_id: &str,
    stack_name: &str,
    action: &str,
    status: &str,
    reason: &str,
) -> Result<(), StoreError> {
    services
        .store
        .set_stack_state(stack_id, action, status, reason)
        .await?;
    event(
        services,
        stack_id,
        stack_name,
        STACK_EVENT_TYPE,
        stack_id,
        action,
        status,
        reason,
    )
    .await
}
