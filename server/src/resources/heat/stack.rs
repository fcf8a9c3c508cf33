//! `OS::Heat::Stack`: a stack from the inline `template` text with `parameters`, run as a
//! nested stack of this one. Heat creates it through a Heat endpoint, possibly in another
//! region or cloud (`context`); Updraft has one cloud, so a `region_name` or
//! `credential_secret_id` is refused. Attributes: `stack_name`, `outputs` (a map).

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::stack_resource::{
    any_unresolved, child_environment, child_request, enter, run, validate_child,
};
use crate::engine::nested::{self, NestedDefinition};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, StackInputs,
};
use crate::store::ResourceRow;
use crate::template::TemplateError;
use crate::template::loader::load_document;

/// `OS::Heat::Stack`.
pub struct HeatStack;

const CONTEXT: &[PropertySchema] = &[
    PropertySchema::new("region_name", PropType::String),
    PropertySchema::new("credential_secret_id", PropType::String).update_allowed(),
    PropertySchema::new("ca_cert", PropType::String).update_allowed(),
    PropertySchema::new("insecure", PropType::Boolean)
        .default("false")
        .update_allowed(),
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("context", PropType::Map)
        .update_allowed()
        .entries(CONTEXT),
    PropertySchema::new("template", PropType::String)
        .required()
        .update_allowed(),
    PropertySchema::new("timeout", PropType::Integer).update_allowed(),
    PropertySchema::new("parameters", PropType::Map)
        .default("{}")
        .update_allowed(),
];

fn failed(message: impl Into<String>) -> ResourceError {
    ResourceError::Failed(message.into())
}

fn parameters(props: &Map<String, Value>) -> Map<String, Value> {
    props
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn template_text(props: &Map<String, Value>) -> &str {
    props
        .get("template")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

async fn converge_stack(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    props: &Map<String, Value>,
) -> Result<ResourceOutcome, ResourceError> {
    let template = load_document(template_text(props)).map_err(|e| failed(e.message))?;
    let owner = nested::owner(ctx).await?;
    let def = NestedDefinition {
        template,
        parameters: parameters(props),
        environment: child_environment(&owner.environment, None, None),
        files: owner.files.clone(),
        timeout_mins: props.get("timeout").and_then(Value::as_i64),
    };
    let state = run(ctx, current, def).await?;
    let outputs = nested::outputs(ctx, &state.stack).await?;
    let mut attributes = Map::new();
    attributes.insert("stack_name".into(), Value::String(state.stack.name.clone()));
    attributes.insert("outputs".into(), Value::Object(outputs));
    Ok(ResourceOutcome {
        physical_id: state.stack.id.clone(),
        reference_id: None,
        attributes,
        data: Map::new(),
    })
}

#[async_trait]
impl ResourceType for HeatStack {
    fn type_name(&self) -> &'static str {
        "OS::Heat::Stack"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["stack_name", "outputs"]
    }
    fn always_update(&self) -> bool {
        true
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        let context = props.get("context").and_then(Value::as_object);
        for key in ["region_name", "credential_secret_id"] {
            let Some(given) = context.and_then(|c| c.get(key)) else {
                continue;
            };
            if given.is_null() || given.as_str() == Some("") || given.is_object() {
                // Empty, or a function call resolved when the stack runs.
                continue;
            }
            let what = if key == "region_name" {
                format!("another region ({})", given.as_str().unwrap_or_default())
            } else {
                "another cloud".to_string()
            };
            return Err(TemplateError::at(
                format!("{path}.context.{key}"),
                format!(
                    "Updraft creates OS::Heat::Stack in its own cloud only; a stack in {what} is not supported"
                ),
            ));
        }
        if let Some(Value::String(text)) = props.get("template")
            && let Err(e) = load_document(text)
        {
            return Err(TemplateError::at(format!("{path}.template"), e.message));
        }
        Ok(())
    }
    fn validate_nested(&self, inputs: &StackInputs<'_>) -> Vec<TemplateError> {
        let Some(nesting) = enter(inputs) else {
            return Vec::new();
        };
        let Some(Value::String(text)) = inputs.properties.get("template") else {
            return Vec::new();
        };
        let Ok(template) = load_document(text) else {
            return Vec::new();
        };
        let params = parameters(inputs.properties);
        let complete = !any_unresolved(inputs, inputs.properties.get("parameters").into_iter());
        let request = child_request(
            template,
            if complete { params } else { Map::new() },
            child_environment(inputs.environment, None, None),
            inputs.files.clone(),
        );
        validate_child(inputs, nesting, "nested_stack", &request, complete)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // A resumed create carries on with its recorded nested stack (`nested::create`).
        converge_stack(ctx, None, props).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        converge_stack(ctx, Some(current), props).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        nested::delete(ctx, current).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn remote_contexts_are_refused() {
        let path = "resources.s.properties";
        let props = json!({"template": "heat_template_version: 2018-08-31\n",
            "context": {"region_name": "RegionTwo"}});
        let e = HeatStack
            .validate(props.as_object().unwrap(), path)
            .unwrap_err();
        assert_eq!(e.path, "resources.s.properties.context.region_name");
        assert!(e.message.contains("another region (RegionTwo)"), "{e}");
        let props = json!({"template": "heat_template_version: 2018-08-31\n",
            "context": {"credential_secret_id": "abc"}});
        assert!(
            HeatStack
                .validate(props.as_object().unwrap(), path)
                .is_err()
        );
        let props = json!({"template": "heat_template_version: 2018-08-31\n",
            "context": {"insecure": true, "region_name": ""}});
        assert!(HeatStack.validate(props.as_object().unwrap(), path).is_ok());
        let props = json!({"template": "a: [b"});
        let e = HeatStack
            .validate(props.as_object().unwrap(), path)
            .unwrap_err();
        assert_eq!(e.path, "resources.s.properties.template");
    }
}
