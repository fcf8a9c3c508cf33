//! Recording state changes: every resource and stack transition is persisted together with
//! its event, in one transaction, so a crash never leaves one without the other.

use crate::engine::services::Services;
use crate::store::{EventRow, ResourceRow, StoreError, now_timestamp};

/// Events kept per stack (Heat's `max_events_per_stack`); older ones are purged when a
/// stack action ends.
pub const MAX_EVENTS_PER_STACK: i64 = 1000;

/// The resource type recorded on stack-level events.
pub const STACK_EVENT_TYPE: &str = "OS::Heat::Stack";

/// An event row for a resource (or the stack, with the stack's name and id).
pub fn event_row(
    stack_id: &str,
    name: &str,
    resource_type: &str,
    physical_id: &str,
    action: &str,
    status: &str,
    reason: &str,
) -> EventRow {
    EventRow {
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
    }
}

/// Persists a resource's new state and records the event, atomically.
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
    let e = event_row(
        stack_id,
        name,
        resource_type,
        physical_id,
        action,
        status,
        reason,
    );
    services
        .store
        .set_resource_state_logged(stack_id, name, action, status, reason, Some(e))
        .await
}

/// Stores a whole resource row with the event for its state, atomically.
pub async fn put_resource(services: &Services, row: &ResourceRow) -> Result<(), StoreError> {
    let e = event_row(
        &row.stack_id,
        &row.name,
        &row.resource_type,
        &row.physical_id,
        &row.action,
        &row.status,
        &row.status_reason,
    );
    services.store.put_resource_logged(row, Some(e)).await
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
    let e = event_row(
        stack_id,
        name,
        resource_type,
        physical_id,
        action,
        status,
        reason,
    );
    services.store.add_event(e).await.map(|_| ())
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
    let e = event_row(
        stack_id,
        stack_name,
        STACK_EVENT_TYPE,
        stack_id,
        action,
        status,
        reason,
    );
    services
        .store
        .set_stack_state_logged(stack_id, action, status, reason, e)
        .await?;
    if status != "IN_PROGRESS" {
        services
            .store
            .purge_events(stack_id, MAX_EVENTS_PER_STACK)
            .await?;
    }
    Ok(())
}

/// The reason of a `SIGNAL` event: `Signal: <result>` when the type returned one, otherwise
/// Heat's description of the signal's details (an Aodh/Ceilometer alarm's
/// `alarm state changed from <previous> to <current> (<reason>)`, a string as it is, else
/// `Unknown`; `No signal details provided` without details).
pub fn signal_reason(result: &str, details: &serde_json::Value) -> String {
    use serde_json::Value;
    if !result.is_empty() {
        return format!("Signal: {result}");
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match details {
        Value::Null => "No signal details provided".into(),
        Value::String(s) => s.clone(),
        Value::Object(m) => match (m.get("previous"), m.get("current"), m.get("reason")) {
            (Some(previous), Some(current), Some(reason)) => format!(
                "alarm state changed from {} to {} ({})",
                text(previous),
                text(current),
                text(reason)
            ),
            _ => "Unknown".into(),
        },
        _ => "Unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signal_reasons_as_heat() {
        assert_eq!(signal_reason("done", &json!({})), "Signal: done");
        assert_eq!(
            signal_reason(
                "",
                &json!({"previous": "ok", "current": "alarm", "reason": "cpu high"})
            ),
            "alarm state changed from ok to alarm (cpu high)"
        );
        assert_eq!(signal_reason("", &json!({"x": 1})), "Unknown");
        assert_eq!(
            signal_reason("", &json!(null)),
            "No signal details provided"
        );
    }
}
