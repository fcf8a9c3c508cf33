//! `OS::Heat::TestResource`: stores a string and offers knobs to exercise the engine —
//! waiting during an action (`wait_secs`, `action_wait_secs`), failing it (`fail`), and
//! forcing a replacement (`update_replace`, `update_replace_value`).
//!
//! As in Heat: the wait comes first and `fail` is checked when it is over (create and update
//! only; a delete never fails); `wait_secs: -1` waits until the action is cancelled; a create
//! with `fail: true` stores neither the value nor a physical id; an update waits only when
//! `value` changed to a non-empty string, and stores it only when not failing; changing
//! `value` while `update_replace` is true (or changing `update_replace_value`) replaces the
//! resource. The attribute `output` is the stored value.
//!
//! Not simulated: `attr_wait_secs` (attributes are persisted when the action completes and
//! read without asking the type), `client_name`/`entity_name` (there are no OpenStack clients
//! to poll), and `constraint_prop_secs` (Heat's `test_constr` constraint sleeps while
//! validating). They are accepted and validated as numbers/strings.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::resources::heat::sleep_secs;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, UpdateKind, default_update_kind,
};
use crate::store::ResourceRow;

/// `OS::Heat::TestResource`.
pub struct TestResource;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("value", PropType::String)
        .default("\"test_string\"")
        .update_allowed(),
    PropertySchema::new("update_replace", PropType::Boolean)
        .default("false")
        .update_allowed(),
    PropertySchema::new("update_replace_value", PropType::String),
    PropertySchema::new("fail", PropType::Boolean)
        .default("false")
        .update_allowed(),
    PropertySchema::new("wait_secs", PropType::Number)
        .default("0")
        .update_allowed(),
    PropertySchema::new("action_wait_secs", PropType::Map)
        .update_allowed()
        .entries(&[
            PropertySchema::new("create", PropType::Number).update_allowed(),
            PropertySchema::new("update", PropType::Number).update_allowed(),
            PropertySchema::new("delete", PropType::Number).update_allowed(),
        ]),
    PropertySchema::new("attr_wait_secs", PropType::Number)
        .default("0")
        .update_allowed(),
    PropertySchema::new("client_name", PropType::String)
        .default("\"\"")
        .update_allowed(),
    PropertySchema::new("entity_name", PropType::String)
        .default("\"\"")
        .update_allowed(),
    PropertySchema::new("constraint_prop_secs", PropType::Number)
        .default("0")
        .update_allowed(),
];

fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn flag(props: &Map<String, Value>, name: &str) -> bool {
    props.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// Seconds to wait during `action` (`create`, `update`, `delete`): `action_wait_secs.<action>`,
/// else `wait_secs`.
fn wait_secs(props: &Map<String, Value>, action: &str) -> f64 {
    props
        .get("action_wait_secs")
        .and_then(Value::as_object)
        .and_then(|m| number(m.get(action)))
        .or_else(|| number(props.get("wait_secs")))
        .unwrap_or(0.0)
}

fn failure(name: &str) -> ResourceError {
    ResourceError::Raised {
        heat_type: "ValueError",
        message: format!("Test Resource failed {name}"),
    }
}

fn outcome(physical_id: String, value: Option<Value>) -> ResourceOutcome {
    let mut attributes = Map::new();
    let mut data = Map::new();
    attributes.insert("output".into(), value.clone().unwrap_or(Value::Null));
    if let Some(v) = value {
        data.insert("value".into(), v);
    }
    ResourceOutcome {
        physical_id,
        reference_id: None,
        attributes,
        data,
    }
}

#[async_trait]
impl ResourceType for TestResource {
    fn type_name(&self) -> &'static str {
        "OS::Heat::TestResource"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["output"]
    }
    /// Heat's `needs_replace_with_prop_diff`: a changed `value` replaces the resource when
    /// the new `update_replace` is true.
    fn update_kind(
        &self,
        changed: &[String],
        _old: &Value,
        new: &Map<String, Value>,
    ) -> UpdateKind {
        if changed.iter().any(|k| k == "value") && flag(new, "update_replace") {
            return UpdateKind::Replace;
        }
        default_update_kind(SCHEMA, changed)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let fail = flag(props, "fail");
        let mut physical_id = String::new();
        if !fail {
            physical_id = ctx.physical_name();
            ctx.set_physical_id(&physical_id).await?;
        }
        sleep_secs(wait_secs(props, "create")).await;
        if fail {
            return Err(failure(ctx.name));
        }
        Ok(outcome(physical_id, props.get("value").cloned()))
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let fail = flag(props, "fail");
        let mut value = current.data.get("value").cloned();
        let new = props.get("value").filter(|v| {
            current.properties.get("value") != Some(*v) && v.as_str().is_some_and(|s| !s.is_empty())
        });
        let secs = match new {
            Some(v) => {
                if !fail {
                    value = Some(v.clone());
                }
                wait_secs(props, "update")
            }
            None => 0.0,
        };
        sleep_secs(secs).await;
        if fail {
            return Err(failure(ctx.name));
        }
        Ok(outcome(current.physical_id.clone(), value))
    }
    async fn delete(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let empty = Map::new();
        let props = current.properties.as_object().unwrap_or(&empty);
        sleep_secs(wait_secs(props, "delete")).await;
        Ok(())
    }
    fn supports_check(&self) -> bool {
        true
    }
    /// Heat's check: the resource must have been created.
    async fn check(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        if current.physical_id.is_empty() {
            return Err(ResourceError::Raised {
                heat_type: "Exception",
                message: "Resource not created".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn create_stores_the_value_and_waits() {
        let h = Harness::new().await;
        let start = Instant::now();
        let row = h
            .create(
                &TestResource,
                "t",
                json!({"value": "hello", "wait_secs": 0.15}),
            )
            .await
            .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert_eq!(row.attributes["output"], json!("hello"));
        assert!(row.physical_id.starts_with("s1-t-"), "{}", row.physical_id);
        // The physical id was recorded before the wait ended.
        let stored = h.services.store.resource(&h.stack.id, "t").await.unwrap();
        assert_eq!(stored.unwrap().physical_id, row.physical_id);
        let row = h.create(&TestResource, "d", json!({})).await.unwrap();
        assert_eq!(row.attributes["output"], json!("test_string"));
    }

    #[tokio::test]
    async fn fail_fails_after_the_wait_with_heats_message() {
        let h = Harness::new().await;
        let err = h
            .create(
                &TestResource,
                "t",
                json!({"fail": true, "action_wait_secs": {"create": 0.05}}),
            )
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "Test Resource failed t");
        assert_eq!(
            crate::engine::converge::failure_reason("t", &err),
            "ValueError: resources.t: Test Resource failed t"
        );
        let stored = h.services.store.resource(&h.stack.id, "t").await.unwrap();
        assert_eq!(stored.unwrap().physical_id, "");
    }

    #[tokio::test]
    async fn minus_one_waits_until_cancelled() {
        let h = Harness::new().await;
        let props = Harness::validate(&TestResource, "t", json!({"wait_secs": -1})).unwrap();
        let ctx = h.ctx("t");
        let create = TestResource.create(&ctx, &props);
        assert!(
            tokio::time::timeout(Duration::from_millis(100), create)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn update_in_place_replace_and_fail() {
        let h = Harness::new().await;
        let row = h
            .create(
                &TestResource,
                "t",
                json!({"value": "a", "update_replace_value": "x"}),
            )
            .await
            .unwrap();
        // value changes in place, waiting action_wait_secs.update.
        let start = Instant::now();
        let (kind, done) = h
            .update(
                &TestResource,
                &row,
                json!({"value": "b", "update_replace_value": "x", "action_wait_secs": {"update": 0.1}}),
            )
            .await;
        assert_eq!(kind, UpdateKind::InPlace);
        let updated = done.unwrap().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!(updated.attributes["output"], json!("b"));
        assert_eq!(updated.physical_id, row.physical_id);
        // update_replace with a changed value replaces; without a value change it does not.
        let (kind, _) = h
            .update(
                &TestResource,
                &updated,
                json!({"value": "c", "update_replace": true, "update_replace_value": "x"}),
            )
            .await;
        assert_eq!(kind, UpdateKind::Replace);
        let (kind, _) = h
            .update(
                &TestResource,
                &updated,
                json!({"value": "b", "update_replace": true, "update_replace_value": "x"}),
            )
            .await;
        assert_eq!(kind, UpdateKind::InPlace);
        // update_replace_value is not updatable.
        let (kind, _) = h
            .update(
                &TestResource,
                &updated,
                json!({"value": "b", "update_replace_value": "y"}),
            )
            .await;
        assert_eq!(kind, UpdateKind::Replace);
        // fail: true fails the update and keeps the stored value.
        let (_, done) = h
            .update(
                &TestResource,
                &updated,
                json!({"value": "z", "fail": true, "update_replace_value": "x"}),
            )
            .await;
        assert_eq!(
            done.unwrap().unwrap_err().to_string(),
            "Test Resource failed t"
        );
    }

    #[tokio::test]
    async fn delete_waits_its_own_time_and_never_fails() {
        let h = Harness::new().await;
        let row = h
            .create(
                &TestResource,
                "t",
                json!({"action_wait_secs": {"create": 0, "delete": 0.1}, "wait_secs": 5}),
            )
            .await
            .unwrap();
        let start = Instant::now();
        TestResource.delete(&h.ctx("t"), &row).await.unwrap();
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100) && took < Duration::from_secs(5));
        let mut failing = row.clone();
        failing.properties = json!({"fail": true});
        TestResource.delete(&h.ctx("t"), &failing).await.unwrap();
    }

    #[test]
    fn validates_numbers_and_wait_keys() {
        let e = Harness::validate(
            &TestResource,
            "t",
            json!({"action_wait_secs": {"resume": 1}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.t.properties.action_wait_secs: Unknown Property resume"
        );
        let e = Harness::validate(&TestResource, "t", json!({"wait_secs": "long"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.t.properties.wait_secs: could not convert string to float: 'long'"
        );
    }
}
