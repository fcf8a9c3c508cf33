//! `OS::Heat::Value`: holds a value, optionally typed as a HOT parameter type.

use async_trait::async_trait;
use serde_json::{Map, Value as Json};

use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::parameters::{ParamType, coerce};

/// `OS::Heat::Value`.
pub struct Value;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("value", PropType::Any)
        .required()
        .update_allowed(),
    PropertySchema::new("type", PropType::String)
        .update_allowed()
        .allowed(&[
            "string",
            "number",
            "comma_delimited_list",
            "json",
            "boolean",
        ]),
];

fn typed(props: &Map<String, Json>) -> Result<Json, ResourceError> {
    let value = props.get("value").cloned().unwrap_or(Json::Null);
    let param_type = match props.get("type").and_then(Json::as_str) {
        None => return Ok(value),
        Some("string") => ParamType::String,
        Some("number") => ParamType::Number,
        Some("comma_delimited_list") => ParamType::CommaDelimitedList,
        Some("json") => ParamType::Json,
        Some(_) => ParamType::Boolean,
    };
    coerce(param_type, &value, false).map_err(ResourceError::Failed)
}

#[async_trait]
impl ResourceType for Value {
    fn type_name(&self) -> &'static str {
        "OS::Heat::Value"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["value"]
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Json>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = Map::new();
        attributes.insert("value".into(), typed(props)?);
        // Heat sets the physical resource name as the resource id (`get_resource` shows it).
        Ok(ResourceOutcome {
            physical_id: ctx.physical_name(),
            attributes,
            ..Default::default()
        })
    }
    /// Both properties update in place; the resource id stays.
    async fn update(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Json>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = Map::new();
        attributes.insert("value".into(), typed(props)?);
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            attributes,
            ..Default::default()
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::UpdateKind;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;

    #[tokio::test]
    async fn updates_in_place_keeping_its_id() {
        let h = Harness::new().await;
        let row = h
            .create(&Value, "v", json!({"value": "1", "type": "number"}))
            .await
            .unwrap();
        assert_eq!(row.attributes["value"], json!(1));
        assert!(row.physical_id.starts_with("s1-v-"), "{}", row.physical_id);
        let (kind, done) = h
            .update(&Value, &row, json!({"value": ["a"], "type": "json"}))
            .await;
        assert_eq!(kind, UpdateKind::InPlace);
        let updated = done.unwrap().unwrap();
        assert_eq!(updated.attributes["value"], json!(["a"]));
        assert_eq!(updated.physical_id, row.physical_id);
    }
}
