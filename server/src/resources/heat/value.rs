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
        _: &ResourceContext<'_>,
        props: &Map<String, Json>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = Map::new();
        attributes.insert("value".into(), typed(props)?);
        Ok(ResourceOutcome {
            attributes,
            ..Default::default()
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        Ok(())
    }
}
