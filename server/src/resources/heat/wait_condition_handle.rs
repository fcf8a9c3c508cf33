//! `OS::Heat::WaitConditionHandle`: where a post-boot script signals that something is
//! done. `TOKEN_SIGNAL` (the default) gives a per-resource token, the native signal
//! `endpoint` and a ready `curl_cli` line; `NO_SIGNAL` counts as signalled at once. The
//! other transports describe themselves in the `signal` attribute (a JSON string, as Heat):
//! `CFN_SIGNAL` a pre-signed `PUT /v1/waitcondition/<ARN>` URL, `TEMP_URL_SIGNAL` a signed
//! PUT URL, `HEAT_SIGNAL` a stack user and the native signal URL.
//!
//! Signals are `{"status", "reason", "data", "id"}`, all optional (defaults: SUCCESS,
//! `Signal N received`, null, N), kept in the handle's data by id; other keys or another
//! status are refused with Heat's `Metadata format invalid` (logged, not stored).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::auth::resource_credentials;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::WaitConditionHandle`.
pub struct WaitConditionHandle;

/// The data key holding the signals received, by id.
pub const SIGNALS_KEY: &str = "signals";

const SCHEMA: &[PropertySchema] = &[PropertySchema::new("signal_transport", PropType::String)
    .default("\"TOKEN_SIGNAL\"")
    .allowed(&[
        "CFN_SIGNAL",
        "TEMP_URL_SIGNAL",
        "HEAT_SIGNAL",
        "NO_SIGNAL",
        "ZAQAR_SIGNAL",
        "TOKEN_SIGNAL",
    ])];

fn transport(props: &Map<String, Value>) -> &str {
    props
        .get("signal_transport")
        .and_then(Value::as_str)
        .unwrap_or("TOKEN_SIGNAL")
}

/// The wake-up key a wait condition waits on for this handle.
pub fn wake_key(stack_id: &str, handle: &str) -> String {
    format!("wait:{stack_id}/{handle}")
}

/// A signal in Heat's normal form, or why it is refused.
fn normalise(body: &Value, received: usize) -> Result<(String, Value), &'static str> {
    let n = received + 1;
    let mut signal = match body {
        Value::Null => Map::new(),
        Value::Object(m) => m.clone(),
        _ => return Err("Metadata format invalid"),
    };
    signal
        .entry("reason")
        .or_insert_with(|| json!(format!("Signal {n} received")));
    signal.entry("data").or_insert(Value::Null);
    signal.entry("id").or_insert_with(|| json!(n));
    signal.entry("status").or_insert_with(|| json!("SUCCESS"));
    let known = ["reason", "data", "id", "status"];
    let status_ok = matches!(
        signal.get("status").and_then(Value::as_str),
        Some("SUCCESS" | "FAILURE")
    );
    if signal.len() != known.len()
        || !signal.keys().all(|k| known.contains(&k.as_str()))
        || !status_ok
    {
        return Err("Metadata format invalid");
    }
    let id = match signal.remove("id") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => n.to_string(),
    };
    Ok((id, Value::Object(signal)))
}

#[async_trait]
impl ResourceType for WaitConditionHandle {
    fn type_name(&self) -> &'static str {
        "OS::Heat::WaitConditionHandle"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["token", "endpoint", "curl_cli", "signal"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        match transport(props) {
            "ZAQAR_SIGNAL" => Err(TemplateError::at(
                format!("{path}.signal_transport"),
                "ZAQAR_SIGNAL needs Zaqar, which Updraft does not provide; use TOKEN_SIGNAL, CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL or NO_SIGNAL",
            )),
            _ => Ok(()),
        }
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = Map::new();
        if transport(props) == "NO_SIGNAL" {
            for k in ["token", "endpoint", "curl_cli"] {
                attributes.insert(k.into(), Value::Null);
            }
            attributes.insert("signal".into(), json!("{}"));
            return Ok(ResourceOutcome {
                physical_id: ctx.physical_name(),
                attributes,
                ..Default::default()
            });
        }
        let store = &ctx.services.store;
        // A resumed create issues fresh credentials; those an interrupted attempt made go.
        store.revoke_credentials(&ctx.stack.id, ctx.name).await?;
        let physical_id = ctx.physical_name();
        let mut data = Map::new();
        let endpoint = format!(
            "{}/v1/{}/stacks/{}/{}/resources/{}/signal",
            ctx.services.temp_urls.base(),
            ctx.stack.project,
            ctx.stack.name,
            ctx.stack.id,
            ctx.name
        );
        let signal = match transport(props) {
            "CFN_SIGNAL" => Some(json!({"alarm_url": crate::auth::cfn_urls::presigned_url(
                store,
                &ctx.services.temp_urls,
                crate::auth::cfn_urls::CfnEndpoint::WaitCondition,
                &ctx.stack.project,
                &ctx.stack.name,
                &ctx.stack.id,
                ctx.name,
            )
            .await?})),
            "TEMP_URL_SIGNAL" => {
                Some(json!({"alarm_url": ctx.services.temp_urls.put_signal_url(&physical_id)}))
            }
            "HEAT_SIGNAL" => {
                // Fresh on every (resumed) create: the old credentials were revoked above.
                let user = ctx.stack_user(&mut data).await?;
                Some(json!({
                    "auth_url": format!("{}/v3/", ctx.services.temp_urls.base()),
                    "username": physical_id,
                    "user_id": user.user_id,
                    "password": user.password,
                    "project_id": ctx.stack.project,
                    "domain_id": "default",
                    "region_name": crate::auth::stack_users::REGION,
                    "alarm_url": endpoint,
                }))
            }
            _ => None,
        };
        if let Some(signal) = signal {
            for k in ["token", "endpoint", "curl_cli"] {
                attributes.insert(k.into(), Value::Null);
            }
            attributes.insert("signal".into(), json!(signal.to_string()));
            return Ok(ResourceOutcome {
                physical_id,
                attributes,
                data,
                ..Default::default()
            });
        }
        let token =
            resource_credentials::issue(store, &ctx.stack.project, &ctx.stack.id, ctx.name).await?;
        let curl = format!(
            "curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' -H 'Accept: application/json' {endpoint}"
        );
        attributes.insert("token".into(), json!(token));
        attributes.insert("endpoint".into(), json!(endpoint));
        attributes.insert("curl_cli".into(), json!(curl));
        attributes.insert("signal".into(), Value::Null);
        Ok(ResourceOutcome {
            physical_id,
            attributes,
            ..Default::default()
        })
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        ctx.services
            .store
            .revoke_credentials(&ctx.stack.id, ctx.name)
            .await?;
        Ok(())
    }
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        _current: &ResourceRow,
        body: Value,
    ) -> Result<String, ResourceError> {
        record_signal(ctx, |received| normalise(&body, received).map(Some)).await
    }
}

/// Stores a signal on the handle `ctx` names and wakes its wait condition. `normalise`
/// turns the body into `(id, {status, reason, data})` given how many signals were received
/// before (under the handle's lock, so concurrent signals get distinct default ids);
/// `Ok(None)` ignores it. Returns Heat's event reason (`status:… reason:…`). Shared by the
/// native and the AWS handles.
pub(crate) async fn record_signal(
    ctx: &ResourceContext<'_>,
    normalise: impl FnOnce(usize) -> Result<Option<(String, Value)>, &'static str>,
) -> Result<String, ResourceError> {
    let services = ctx.services;
    // Concurrent signals must not lose each other's entries.
    let lock = services
        .notifier
        .publish_lock(&wake_key(&ctx.stack.id, ctx.name));
    let _guard = lock.lock().await;
    let Some(row) = services.store.resource(&ctx.stack.id, ctx.name).await? else {
        return Err(ResourceError::Failed(format!(
            "The Resource ({}) could not be found.",
            ctx.name
        )));
    };
    let mut signals = row
        .data
        .get(SIGNALS_KEY)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (id, entry) = match normalise(signals.len()) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok("No signal details provided".into()),
        Err(why) => {
            tracing::info!(stack = %ctx.stack.name, resource = ctx.name, "a wait condition signal failed validation");
            return Ok(why.to_string());
        }
    };
    let reason = format!(
        "status:{} reason:{}",
        entry["status"].as_str().unwrap_or_default(),
        match &entry["reason"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    );
    signals.insert(id, entry);
    let mut data = row.data.clone();
    data.insert(SIGNALS_KEY.into(), Value::Object(signals));
    services
        .store
        .set_resource_data(&ctx.stack.id, ctx.name, &data)
        .await?;
    services
        .notifier
        .deployment_signalled(&wake_key(&ctx.stack.id, ctx.name));
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_take_heats_defaults_and_refuse_other_shapes() {
        let (id, entry) = normalise(&Value::Null, 0).unwrap();
        assert_eq!(id, "1");
        assert_eq!(
            entry,
            json!({"reason": "Signal 1 received", "data": null, "status": "SUCCESS"})
        );
        let (id, entry) = normalise(&json!({"id": "one", "data": "d1"}), 3).unwrap();
        assert_eq!(id, "one");
        assert_eq!(entry["reason"], "Signal 4 received");
        assert!(normalise(&json!({"status": "MAYBE"}), 0).is_err());
        assert!(normalise(&json!({"extra": 1}), 0).is_err());
        assert!(normalise(&json!([1]), 0).is_err());
    }
}
