//! `OS::Heat::Delay`: waits `min_wait` seconds plus a random jitter of up to
//! `max_jitter * jitter_multiplier` seconds during the actions listed in `actions`.
//!
//! Heat allows `CREATE`, `DELETE`, `SUSPEND` and `RESUME` (not `UPDATE`: an update changes
//! the properties in place without waiting); this server has no suspend/resume, so only
//! `CREATE` and `DELETE` wait. Heat's strict validation rejects a maximum delay longer than
//! the stack timeout; the check here uses Heat's default timeout (`stack_action_timeout`,
//! one hour), since a type's validation does not see the stack's `timeout_mins`.

use async_trait::async_trait;
use rand::RngExt;
use serde_json::{Map, Value};

use crate::resources::heat::sleep_secs;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::Delay`.
pub struct Delay;

/// Heat's default stack action timeout, in seconds.
const DEFAULT_STACK_TIMEOUT_SECS: f64 = 3600.0;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("min_wait", PropType::Number)
        .default("0")
        .range(Some(0), None)
        .update_allowed(),
    PropertySchema::new("max_jitter", PropType::Number)
        .default("0")
        .range(Some(0), None)
        .update_allowed(),
    PropertySchema::new("jitter_multiplier", PropType::Number)
        .default("1.0")
        .range(Some(0), None)
        .update_allowed(),
    PropertySchema::new("actions", PropType::List)
        .default("[\"CREATE\"]")
        .allowed(&["CREATE", "DELETE", "SUSPEND", "RESUME"])
        .update_allowed(),
];

/// `min_wait`, and `max_jitter * jitter_multiplier`, when all are resolved numbers.
fn delay_parameters(props: &Map<String, Value>) -> Option<(f64, f64)> {
    let num = |k: &str| props.get(k).and_then(Value::as_f64);
    Some((
        num("min_wait")?,
        num("max_jitter")? * num("jitter_multiplier")?,
    ))
}

/// The maximum delay as Python prints `min_wait + max_jitter * jitter_multiplier`: an
/// integer when all three are, else a float.
fn shown_max_wait(props: &Map<String, Value>, max_wait: f64) -> String {
    let all_int = ["min_wait", "max_jitter", "jitter_multiplier"]
        .iter()
        .all(|k| props.get(*k).is_some_and(|v| v.is_i64() || v.is_u64()));
    if all_int {
        format!("{}", max_wait as i64)
    } else {
        format!("{max_wait:?}")
    }
}

/// How long to wait during `action`: 0 unless it is listed.
fn wait_secs(props: &Map<String, Value>, action: &str) -> f64 {
    let listed = props
        .get("actions")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(action)));
    match delay_parameters(props) {
        Some((min, jitter)) if listed => min + jitter * rand::rng().random::<f64>(),
        _ => 0.0,
    }
}

#[async_trait]
impl ResourceType for Delay {
    fn type_name(&self) -> &'static str {
        "OS::Heat::Delay"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        let Some((min, jitter)) = delay_parameters(props) else {
            return Ok(());
        };
        let max_wait = min + jitter;
        if max_wait > DEFAULT_STACK_TIMEOUT_SECS {
            return Err(TemplateError::at(
                path.strip_suffix(".properties").unwrap_or(path),
                format!(
                    "{} maximum delay {}s exceeds stack timeout.",
                    self.type_name(),
                    shown_max_wait(props, max_wait)
                ),
            ));
        }
        Ok(())
    }
    async fn create(
        &self,
        _: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        sleep_secs(wait_secs(props, "CREATE")).await;
        Ok(ResourceOutcome::default())
    }
    /// Heat's Delay has no update handler: the new properties are taken, nothing waits.
    async fn update(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
        _: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            ..Default::default()
        })
    }
    async fn delete(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let empty = Map::new();
        let props = current.properties.as_object().unwrap_or(&empty);
        sleep_secs(wait_secs(props, "DELETE")).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::UpdateKind;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn waits_during_the_listed_actions_only() {
        let h = Harness::new().await;
        let start = Instant::now();
        let row = h
            .create(&Delay, "d", json!({"min_wait": 0.1, "max_jitter": 0.1, "jitter_multiplier": 0.5, "actions": ["CREATE"]}))
            .await
            .unwrap();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_secs(2),
            "{took:?}"
        );
        assert_eq!(row.physical_id, "");
        // Not listed: the delete does not wait.
        let start = Instant::now();
        let mut long = row.clone();
        long.properties = json!({"min_wait": 30, "max_jitter": 0, "jitter_multiplier": 1.0, "actions": ["CREATE"]});
        Delay.delete(&h.ctx("d"), &long).await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        // Listed: it does.
        let start = Instant::now();
        long.properties = json!({"min_wait": 0.1, "max_jitter": 0, "jitter_multiplier": 1.0, "actions": ["DELETE"]});
        Delay.delete(&h.ctx("d"), &long).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn updates_in_place_without_waiting() {
        let h = Harness::new().await;
        let row = h.create(&Delay, "d", json!({})).await.unwrap();
        assert_eq!(
            row.properties,
            json!({"min_wait": 0, "max_jitter": 0, "jitter_multiplier": 1.0, "actions": ["CREATE"]})
        );
        let start = Instant::now();
        let (kind, done) = h.update(&Delay, &row, json!({"min_wait": 30})).await;
        assert_eq!(kind, UpdateKind::InPlace);
        done.unwrap().unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn validation_in_heats_words() {
        let e = Harness::validate(&Delay, "d", json!({"min_wait": -1})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.d.properties.min_wait: -1 is out of range (min: 0, max: None)"
        );
        let e =
            Harness::validate(&Delay, "d", json!({"actions": ["CREATE", "UPDATE"]})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.d.properties.actions: [\"CREATE\", \"UPDATE\"] is not an allowed value [\"CREATE\", \"DELETE\", \"SUSPEND\", \"RESUME\"]"
        );
        let e = Harness::validate(&Delay, "d", json!({"min_wait": 3000, "max_jitter": 700}))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.d: OS::Heat::Delay maximum delay 3700.0s exceeds stack timeout."
        );
        let e = Harness::validate(
            &Delay,
            "d",
            json!({"min_wait": 3000, "max_jitter": 700, "jitter_multiplier": 1}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.d: OS::Heat::Delay maximum delay 3700s exceeds stack timeout."
        );
        assert!(Harness::validate(&Delay, "d", json!({"min_wait": 3600})).is_ok());
    }
}
