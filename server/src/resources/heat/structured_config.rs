//! `OS::Heat::StructuredConfig`: a SoftwareConfig whose `config` is a map, stored (and
//! delivered) as JSON. Deployments of it substitute `{get_input: …}` only when they are
//! `OS::Heat::StructuredDeployment`s.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::software_config::{self, NewConfig};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::StructuredConfig`.
pub struct StructuredConfig;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("group", PropType::String).default("\"Heat::Ungrouped\""),
    PropertySchema::new("config", PropType::Map),
    PropertySchema::new("options", PropType::Map),
    PropertySchema::new("inputs", PropType::List),
    PropertySchema::new("outputs", PropType::List),
];

#[async_trait]
impl ResourceType for StructuredConfig {
    fn type_name(&self) -> &'static str {
        "OS::Heat::StructuredConfig"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["config"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        software_config::validate_io_properties(props, path)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.validate(props, &format!("resources.{}.properties", ctx.name))
            .map_err(|e| ResourceError::Failed(e.to_string()))?;
        // As Heat: no `config` is stored as null (a deployment then derives `{}`).
        let config = props.get("config").cloned().unwrap_or(Value::Null);
        software_config::store_config(ctx, NewConfig::from_properties(props, config)).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        software_config::delete_config(ctx, current).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::UpdateKind;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;

    #[tokio::test]
    async fn stores_the_map_as_json_and_replaces_on_any_change() {
        let h = Harness::new().await;
        let props = json!({"group": "ansible", "config": {"tasks": [{"debug": {"get_input": "x"}}]},
            "inputs": [{"name": "x"}]});
        let row = h.create(&StructuredConfig, "cfg", props).await.unwrap();
        let stored = h
            .services
            .store
            .config(&row.physical_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.group, "ansible");
        assert_eq!(
            stored.config,
            json!({"tasks": [{"debug": {"get_input": "x"}}]})
        );
        assert_eq!(stored.inputs[0]["type"], json!("String"));
        assert_eq!(row.attributes["config"], stored.config);
        let (kind, _) = h
            .update(&StructuredConfig, &row, json!({"config": {"a": 1}}))
            .await;
        assert_eq!(kind, UpdateKind::Replace);
    }

    #[test]
    fn config_must_be_a_map() {
        let e = Harness::validate(&StructuredConfig, "cfg", json!({"config": "text"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.cfg.properties.config: Value must be a map, not a string"
        );
    }
}
