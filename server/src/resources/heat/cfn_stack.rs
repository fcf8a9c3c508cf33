//! `AWS::CloudFormation::Stack`: a nested stack from the template at `TemplateURL` with
//! `Parameters` and `TimeoutInMinutes`. Heat fetches the URL; Updraft fetches nothing and
//! takes the template from the stack's files map, keyed by the URL. Attributes
//! `Outputs.<key>`; the reference id is the nested stack's ARN.

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::stack_resource::{
    Quote, any_unresolved, child_environment, child_request, enter, run, stack_arn,
    template_from_files, validate_child,
};
use crate::engine::nested::{self, NestedDefinition};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, StackInputs,
};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `AWS::CloudFormation::Stack`.
pub struct CfnStack;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("TemplateURL", PropType::String)
        .required()
        .update_allowed(),
    PropertySchema::new("TimeoutInMinutes", PropType::Integer).update_allowed(),
    PropertySchema::new("Parameters", PropType::Map).update_allowed(),
];

/// The prefix of the attributes naming outputs.
const OUTPUTS_PREFIX: &str = "Outputs.";

fn parameters(props: &Map<String, Value>) -> Map<String, Value> {
    props
        .get("Parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn template_url(props: &Map<String, Value>) -> &str {
    props
        .get("TemplateURL")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

async fn converge_stack(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    props: &Map<String, Value>,
) -> Result<ResourceOutcome, ResourceError> {
    let owner = nested::owner(ctx).await?;
    let template = template_from_files(&owner.files, template_url(props), Quote::Single)
        .map_err(ResourceError::Failed)?;
    let def = NestedDefinition {
        template,
        parameters: parameters(props),
        environment: child_environment(&owner.environment, Some(ctx.name), None),
        files: owner.files.clone(),
        timeout_mins: props.get("TimeoutInMinutes").and_then(Value::as_i64),
    };
    let state = run(ctx, current, def).await?;
    let outputs = nested::outputs(ctx, &state.stack).await?;
    let stack = &state.stack;
    Ok(ResourceOutcome {
        physical_id: stack.id.clone(),
        reference_id: Some(stack_arn(&stack.project, &stack.name, &stack.id)),
        attributes: outputs
            .into_iter()
            .map(|(k, v)| (format!("{OUTPUTS_PREFIX}{k}"), v))
            .collect(),
        data: Map::new(),
    })
}

#[async_trait]
impl ResourceType for CfnStack {
    fn type_name(&self) -> &'static str {
        "AWS::CloudFormation::Stack"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }
    /// `Outputs.<key>` for any key (the outputs are known once the stack runs).
    fn check_attribute(&self, _properties: &Value, attribute: &str) -> bool {
        attribute == "show" || attribute.starts_with(OUTPUTS_PREFIX)
    }
    fn always_update(&self) -> bool {
        true
    }
    fn validate_nested(&self, inputs: &StackInputs<'_>) -> Vec<TemplateError> {
        let Some(nesting) = enter(inputs) else {
            return Vec::new();
        };
        let Some(Value::String(url)) = inputs.properties.get("TemplateURL") else {
            return Vec::new();
        };
        let template = match template_from_files(inputs.files, url, Quote::Single) {
            Ok(t) => t,
            Err(message) => {
                return vec![TemplateError::at(
                    format!("{}.TemplateURL", inputs.path),
                    message,
                )];
            }
        };
        let given = inputs.properties.get("Parameters");
        let complete = !any_unresolved(inputs, given.into_iter());
        let request = child_request(
            template,
            if complete {
                parameters(inputs.properties)
            } else {
                Map::new()
            },
            child_environment(inputs.environment, Some(inputs.name), None),
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

    #[test]
    fn only_output_attributes_exist() {
        assert!(CfnStack.check_attribute(&Value::Null, "Outputs.Foo"));
        assert!(!CfnStack.check_attribute(&Value::Null, "Foo"));
    }
}
