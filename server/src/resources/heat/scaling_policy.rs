//! `OS::Heat::ScalingPolicy`: a signal on the policy (native API, or its `alarm_url`)
//! adjusts the `OS::Heat::AutoScalingGroup` it names (`autoscaling_group::adjust`).
//!
//! Attributes: `signal_url` is Heat's native signal URL
//! (`<base>/v1/<project>/stacks/<name>/<id>/resources/<policy>/signal`, needs a token), and
//! `alarm_url` is a capability URL served by this server
//! (`<base>/temp_url/v1/alarm/<policy id>?temp_url_sig=…`, POST, no token) where Heat gives an
//! EC2-signed CFN `/v1/signal/arn:…` URL backed by a Keystone user and keypair: the signed
//! path does the same job without a CFN API or Keystone. It stops working when the policy is
//! deleted or replaced.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::autoscaling_group::{self, Adjustment};
use super::group_members;
use super::scaling::{ADJUSTMENT_TYPES, PERCENT_CHANGE_IN_CAPACITY};
use crate::engine::events;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::ScalingPolicy`.
pub struct ScalingPolicy;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("auto_scaling_group_id", PropType::String).required(),
    PropertySchema::new("scaling_adjustment", PropType::Number)
        .required()
        .update_allowed(),
    PropertySchema::new("adjustment_type", PropType::String)
        .required()
        .allowed(ADJUSTMENT_TYPES)
        .update_allowed(),
    PropertySchema::new("cooldown", PropType::Number).update_allowed(),
    PropertySchema::new("min_adjustment_step", PropType::Integer)
        .range(Some(0), None)
        .update_allowed(),
];

/// Resource states in which Heat finds a resource by its reference (`resource_by_refid`).
fn findable(row: &ResourceRow) -> bool {
    matches!(
        (row.action.as_str(), row.status.as_str()),
        ("INIT", "COMPLETE")
            | ("CREATE" | "RESUME" | "UPDATE", "IN_PROGRESS" | "COMPLETE")
            | ("CHECK", "COMPLETE")
    )
}

/// The URLs a policy answers on.
fn urls(ctx: &ResourceContext<'_>, physical_id: &str) -> Map<String, Value> {
    let temp_urls = &ctx.services.temp_urls;
    let signal_url = format!(
        "{}/v1/{}/stacks/{}/{}/resources/{}/signal",
        temp_urls.base(),
        ctx.stack.project,
        ctx.stack.name,
        ctx.stack.id,
        ctx.name
    );
    let mut out = Map::new();
    out.insert("alarm_url".into(), json!(temp_urls.alarm_url(physical_id)));
    out.insert("signal_url".into(), json!(signal_url));
    out
}

/// The alarm state a signal reports, as Heat logs it (`alarm` unless `current` or `state`
/// says otherwise).
fn alarm_state(details: &Value) -> String {
    details
        .get("current")
        .or_else(|| details.get("state"))
        .and_then(Value::as_str)
        .unwrap_or("alarm")
        .to_lowercase()
}

#[async_trait]
impl ResourceType for ScalingPolicy {
    fn type_name(&self) -> &'static str {
        "OS::Heat::ScalingPolicy"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["alarm_url", "signal_url"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        let kind = props.get("adjustment_type").and_then(Value::as_str);
        if kind.is_some_and(|k| k != PERCENT_CHANGE_IN_CAPACITY)
            && props
                .get("min_adjustment_step")
                .is_some_and(|v| !v.is_null())
        {
            return Err(TemplateError::at(
                path,
                format!(
                    "min_adjustment_step property should only be specified for adjustment_type with value {PERCENT_CHANGE_IN_CAPACITY}."
                ),
            ));
        }
        Ok(())
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        _props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let physical_id = match ctx.resumed_physical_id() {
            Some(id) => id.to_string(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        Ok(ResourceOutcome {
            attributes: urls(ctx, &physical_id),
            physical_id,
            reference_id: None,
            data: Map::new(),
        })
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        _props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // The new properties apply to the next signal; the URLs stay.
        Ok(ResourceOutcome {
            attributes: urls(ctx, &current.physical_id),
            physical_id: current.physical_id.clone(),
            reference_id: None,
            data: current.data.clone(),
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        // The alarm URL dies with the row.
        Ok(())
    }
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        body: Value,
    ) -> Result<String, ResourceError> {
        if matches!(current.action.as_str(), "SUSPEND" | "DELETE") {
            events::event(
                ctx.services,
                &ctx.stack.id,
                ctx.name,
                &current.resource_type,
                &current.physical_id,
                &current.action,
                &current.status,
                &format!("Cannot signal resource during {}", current.action),
            )
            .await?;
            return Err(ResourceError::Failed(format!(
                "Signal resource during {} is not supported.",
                current.action
            )));
        }
        let props = current.properties.as_object().cloned().unwrap_or_default();
        tracing::info!(policy = ctx.name, state = %alarm_state(&body), "alarm");
        let group_ref = props
            .get("auto_scaling_group_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let rows = ctx.services.store.stack_resources(&ctx.stack.id).await?;
        let group = rows
            .iter()
            .filter(|r| findable(r))
            .find(|r| group_members::member(r).reference == group_ref || r.name == group_ref)
            .ok_or_else(|| {
                ResourceError::Failed(format!(
                    "Alarm {} could not find scaling group named \"{group_ref}\"",
                    ctx.name
                ))
            })?;
        if group.resource_type != autoscaling_group::TYPE_NAME {
            return Err(ResourceError::Failed(format!(
                "Resource {} ({}) is not an {} and cannot be scaled",
                group.name,
                group.resource_type,
                autoscaling_group::TYPE_NAME
            )));
        }
        let adjustment = Adjustment {
            adjustment: props.get("scaling_adjustment").cloned().unwrap_or(json!(0)),
            adjustment_type: props
                .get("adjustment_type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            min_adjustment_step: props.get("min_adjustment_step").and_then(Value::as_i64),
            cooldown: props.get("cooldown").filter(|v| !v.is_null()).cloned(),
        };
        autoscaling_group::adjust(ctx.services, ctx.stack, &group.name, adjustment).await?;
        // Heat's handle_signal returns nothing: the event tells the signal's details.
        Ok(String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::test_support::Harness;

    #[test]
    fn min_adjustment_step_needs_percentages() {
        let err = Harness::validate(
            &ScalingPolicy,
            "p",
            json!({"auto_scaling_group_id": "g", "adjustment_type": "change_in_capacity",
                   "scaling_adjustment": 1, "min_adjustment_step": 2}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "resources.p.properties: min_adjustment_step property should only be specified for adjustment_type with value percent_change_in_capacity."
        );
        assert!(
            Harness::validate(
                &ScalingPolicy,
                "p",
                json!({"auto_scaling_group_id": "g", "adjustment_type": "percent_change_in_capacity",
                       "scaling_adjustment": 10, "min_adjustment_step": 2}),
            )
            .is_ok()
        );
        let err = Harness::validate(
            &ScalingPolicy,
            "p",
            json!({"auto_scaling_group_id": "g", "adjustment_type": "percent",
                   "scaling_adjustment": 1}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not an allowed value"), "{err}");
    }

    #[tokio::test]
    async fn urls_name_the_policy() {
        let h = Harness::new().await;
        let row = h
            .create(
                &ScalingPolicy,
                "up",
                json!({"auto_scaling_group_id": "g", "adjustment_type": "change_in_capacity",
                       "scaling_adjustment": 1}),
            )
            .await
            .unwrap();
        let signal_url = row.attributes["signal_url"].as_str().unwrap();
        assert_eq!(
            signal_url,
            format!(
                "http://127.0.0.1:9/v1/p/stacks/s1/{}/resources/up/signal",
                h.stack.id
            )
        );
        let alarm_url = row.attributes["alarm_url"].as_str().unwrap();
        let path = format!("/temp_url/v1/alarm/{}", row.physical_id);
        let (prefix, sig) = alarm_url.split_once("?temp_url_sig=").unwrap();
        assert_eq!(prefix, format!("http://127.0.0.1:9{path}"));
        assert!(h.services.temp_urls.verify("POST", &path, sig));
        assert!(!h.services.temp_urls.verify("PUT", &path, sig));
    }

    #[test]
    fn alarm_states_as_heat_logs_them() {
        assert_eq!(alarm_state(&json!({"current": "ALARM"})), "alarm");
        assert_eq!(alarm_state(&json!({"state": "ok"})), "ok");
        assert_eq!(alarm_state(&json!({})), "alarm");
    }
}
