//! `OS::Heat::ResourceChain`: one resource per type in `resources`, all with the same
//! `resource_properties`, in a nested stack; members are named `"0"`, `"1"`, … and each
//! depends on the one before unless `concurrent`. Attributes as a group's (`refs`,
//! `attributes`, `resource.N[.attr]`, any other name as a list over members).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::group_members::{self, MEMBERS_KEY};
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

/// `OS::Heat::ResourceChain`.
pub struct ResourceChain;

// As Heat: only `resources` updates in place; a change of `concurrent` or
// `resource_properties` replaces the chain.
const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("resources", PropType::List)
        .required()
        .update_allowed(),
    PropertySchema::new("concurrent", PropType::Boolean).default("false"),
    PropertySchema::new("resource_properties", PropType::Map).default("{}"),
];

/// The nested template: member `i` of type `resources[i]` with `resource_properties`,
/// depending on member `i - 1` unless `concurrent`.
pub fn nested_template(props: &Map<String, Value>) -> Value {
    let types = props
        .get("resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let concurrent = props
        .get("concurrent")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let properties = props
        .get("resource_properties")
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut resources = Map::new();
    for (i, rtype) in types.iter().enumerate() {
        let mut member = Map::new();
        member.insert("type".into(), rtype.clone());
        member.insert("properties".into(), properties.clone());
        if i > 0 && !concurrent {
            member.insert("depends_on".into(), json!([(i - 1).to_string()]));
        }
        resources.insert(i.to_string(), Value::Object(member));
    }
    json!({"heat_template_version": "2015-04-30", "resources": resources})
}

async fn converge_chain(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    props: &Map<String, Value>,
) -> Result<ResourceOutcome, ResourceError> {
    let owner = nested::owner(ctx).await?;
    let def = NestedDefinition {
        template: nested_template(props),
        parameters: Map::new(),
        environment: child_environment(&owner.environment, Some(ctx.name), None),
        files: owner.files.clone(),
        timeout_mins: None,
    };
    let state = run(ctx, current, def).await?;
    let members = group_members::from_rows(&state.rows);
    let mut attributes = Map::new();
    attributes.insert(
        "refs".into(),
        Value::Array(
            members
                .iter()
                .map(|m| Value::String(m.reference.clone()))
                .collect(),
        ),
    );
    let mut data = Map::new();
    data.insert(MEMBERS_KEY.into(), json!(members));
    Ok(ResourceOutcome {
        physical_id: state.stack.id.clone(),
        reference_id: None,
        attributes,
        data,
    })
}

#[async_trait]
impl ResourceType for ResourceChain {
    fn type_name(&self) -> &'static str {
        "OS::Heat::ResourceChain"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["refs", "attributes"]
    }
    /// Any member attribute can be asked for (as a list over members).
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        for (i, t) in props
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if !t.is_string() {
                return Err(TemplateError::at(
                    format!("{path}.resources[{i}]"),
                    "Value must be a string",
                ));
            }
        }
        Ok(())
    }
    /// The member types are checked (and the members' properties) as Heat's
    /// `validate_nested_stack` does, when the properties are known.
    fn validate_nested(&self, inputs: &StackInputs<'_>) -> Vec<TemplateError> {
        let Some(nesting) = enter(inputs) else {
            return Vec::new();
        };
        if any_unresolved(inputs, inputs.properties.values()) {
            return Vec::new();
        }
        let request = child_request(
            nested_template(inputs.properties),
            Map::new(),
            child_environment(inputs.environment, Some(inputs.name), None),
            inputs.files.clone(),
        );
        validate_child(inputs, nesting, "nested_stack", &request, true)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // A resumed create carries on with its recorded nested stack (`nested::create`).
        converge_chain(ctx, None, props).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        converge_chain(ctx, Some(current), props).await
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
    fn members_depend_on_the_one_before_unless_concurrent() {
        let props = json!({"resources": ["OS::Heat::None", "OS::Heat::Value"],
            "resource_properties": {"value": 1}, "concurrent": false});
        let t = nested_template(props.as_object().unwrap());
        assert_eq!(
            t["resources"],
            json!({
                "0": {"type": "OS::Heat::None", "properties": {"value": 1}},
                "1": {"type": "OS::Heat::Value", "properties": {"value": 1}, "depends_on": ["0"]}
            })
        );
        let props = json!({"resources": ["A", "B", "C"], "concurrent": true});
        let t = nested_template(props.as_object().unwrap());
        assert!(t["resources"]["2"].get("depends_on").is_none());
        assert_eq!(t["resources"]["2"]["properties"], json!({}));
    }
}
