//! `OS::Heat::WaitCondition`: waits until its handle has `count` SUCCESS signals; any
//! other status fails it with the reasons, and `timeout` seconds without enough signals
//! fail it with Heat's `WaitConditionTimeout` text. Its `data` attribute is the JSON text
//! of `{id: data}` over the handle's signals.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::wait_condition_handle::{SIGNALS_KEY, wake_key};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;

/// `OS::Heat::WaitCondition`.
pub struct WaitCondition;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("handle", PropType::String).required(),
    PropertySchema::new("timeout", PropType::Number)
        .required()
        .range(Some(1), Some(43200))
        .update_allowed(),
    PropertySchema::new("count", PropType::Integer)
        .default("1")
        .range(Some(1), None)
        .update_allowed(),
];

/// The handle named by the `handle` property (its reference id, or its name).
async fn handle_row(ctx: &ResourceContext<'_>, handle: &str) -> Result<ResourceRow, ResourceError> {
    let store = &ctx.services.store;
    if let Some(row) = store.resource(&ctx.stack.id, handle).await? {
        return Ok(row);
    }
    match store.resource_by_physical_id(handle).await? {
        Some(row) if row.stack_id == ctx.stack.id => Ok(row),
        _ => Err(ResourceError::Failed(format!(
            "{handle} is not a valid wait condition handle."
        ))),
    }
}

fn signals(row: &ResourceRow) -> Map<String, Value> {
    row.data
        .get(SIGNALS_KEY)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn reasons(signals: &Map<String, Value>, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    signals
        .values()
        .filter(|s| wanted(s["status"].as_str().unwrap_or_default()))
        .map(|s| match &s["reason"] {
            Value::String(r) => r.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Waits until handle `handle` (a resource name of this stack) has `count` SUCCESS
/// signals and returns `{id: data}`; fails on any other status, or after `timeout` seconds.
pub async fn wait_for_signals(
    ctx: &ResourceContext<'_>,
    handle: &str,
    count: usize,
    timeout: f64,
) -> Result<Map<String, Value>, ResourceError> {
    let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
    loop {
        let row = handle_row(ctx, handle).await?;
        let no_signal = row
            .properties
            .get("signal_transport")
            .and_then(Value::as_str)
            == Some("NO_SIGNAL");
        let received = signals(&row);
        let failures = reasons(&received, |s| s != "SUCCESS");
        if !failures.is_empty() {
            return Err(ResourceError::Raised {
                heat_type: "WaitConditionFailure",
                message: failures.join(";"),
            });
        }
        if no_signal || received.len() >= count {
            return Ok(received
                .iter()
                .map(|(id, s)| (id.clone(), s["data"].clone()))
                .collect());
        }
        let now = Instant::now();
        if now >= deadline {
            let ok = reasons(&received, |s| s == "SUCCESS");
            let message = if ok.is_empty() {
                format!("{} of {count} received", ok.len())
            } else {
                format!("{} of {count} received - {}", ok.len(), ok.join(";"))
            };
            return Err(ResourceError::Raised {
                heat_type: "WaitConditionTimeout",
                message,
            });
        }
        // Woken by a signal to the handle; re-read at least every 2 s (another node).
        let left = (deadline - now).min(Duration::from_secs(2));
        crate::engine::scheduler::idle_while(
            ctx.services
                .notifier
                .wait_deployment(&wake_key(&ctx.stack.id, &row.name), left),
        )
        .await;
    }
}

/// Clears the signals of handle `handle` (a wait condition's delete, as Heat).
pub async fn clear_signals(ctx: &ResourceContext<'_>, handle: &str) -> Result<(), ResourceError> {
    if let Ok(row) = handle_row(ctx, handle).await {
        let mut data = row.data.clone();
        if data.remove(SIGNALS_KEY).is_some() {
            ctx.services
                .store
                .set_resource_data(&ctx.stack.id, &row.name, &data)
                .await?;
        }
    }
    Ok(())
}

async fn wait(
    ctx: &ResourceContext<'_>,
    props: &Map<String, Value>,
) -> Result<ResourceOutcome, ResourceError> {
    let handle = props
        .get("handle")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let count = props.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
    let timeout = props.get("timeout").and_then(Value::as_f64).unwrap_or(1.0);
    let data = wait_for_signals(ctx, handle, count, timeout).await?;
    let mut attributes = Map::new();
    attributes.insert("data".into(), json!(Value::Object(data).to_string()));
    Ok(ResourceOutcome {
        physical_id: ctx.physical_name(),
        attributes,
        ..Default::default()
    })
}

#[async_trait]
impl ResourceType for WaitCondition {
    fn type_name(&self) -> &'static str {
        "OS::Heat::WaitCondition"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["data"]
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        wait(ctx, props).await
    }
    /// An update waits again with the new count and a fresh timer (old signals count).
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut outcome = wait(ctx, props).await?;
        outcome.physical_id = current.physical_id.clone();
        Ok(outcome)
    }
    /// Clears the handle's signals, as Heat.
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let handle = current
            .properties
            .get("handle")
            .and_then(Value::as_str)
            .unwrap_or_default();
        clear_signals(ctx, handle).await
    }
}
