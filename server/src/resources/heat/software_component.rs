//! `OS::Heat::SoftwareComponent`: one config per lifecycle action, stored as a config of
//! group `component` whose `config` is `{"configs": [...]}`. The agent picks the entry whose
//! `actions` contain the deployment's action; a deployment of it acts only for the actions
//! some entry names (see [`component_actions`]).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::software_config::{self, NewConfig};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::{ConfigRow, ResourceRow};
use crate::template::TemplateError;
use crate::template::error::{index, join};

/// `OS::Heat::SoftwareComponent`.
pub struct SoftwareComponent;

/// The group of a stored component config.
pub const COMPONENT_GROUP: &str = "component";

const CONFIG_ENTRY: &[PropertySchema] = &[
    // Any action names are accepted (custom ones need a hook that knows them), as Heat.
    PropertySchema::new("actions", PropType::List).default("[\"CREATE\", \"UPDATE\"]"),
    PropertySchema::new("config", PropType::String),
    PropertySchema::new("tool", PropType::String).required(),
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("configs", PropType::List)
        .required()
        .entries(CONFIG_ENTRY),
    PropertySchema::new("inputs", PropType::List),
    PropertySchema::new("outputs", PropType::List),
    PropertySchema::new("options", PropType::Map),
];

/// Heat's `Length(min=1)` message.
fn too_short(path: String, len: usize) -> TemplateError {
    TemplateError::at(
        path,
        format!("length ({len}) is out of range (min: 1, max: None)"),
    )
}

/// The resource name in a properties path (`resources.<name>.properties`).
fn resource_name(path: &str) -> &str {
    let trimmed = path.strip_suffix(".properties").unwrap_or(path);
    trimmed
        .rsplit_once("resources.")
        .map_or(trimmed, |(_, name)| name)
}

/// Checks `configs`: at least one, each with at least one action, and no action in two
/// entries (Heat would not know which to run). Unresolved values are left for run time.
fn validate_configs(configs: &Value, path: &str) -> Result<(), TemplateError> {
    let Some(items) = configs.as_array() else {
        return Ok(());
    };
    let cpath = join(path, "configs");
    if items.is_empty() {
        return Err(too_short(cpath, 0));
    }
    // Each action seen with the index of the entry naming it.
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(actions) = item.get("actions").and_then(Value::as_array) else {
            continue;
        };
        let apath = join(&index(&cpath, i), "actions");
        if actions.is_empty() {
            return Err(too_short(apath, 0));
        }
        for action in actions.iter().filter_map(Value::as_str) {
            if let Some((_, first)) = seen.iter().find(|(a, _)| *a == action) {
                return Err(TemplateError::at(
                    apath,
                    format!(
                        "Defining more than one configuration for the same action in \
                         SoftwareComponent \"{}\" is not allowed ({action} is already in \
                         configs[{first}]).",
                        resource_name(path)
                    ),
                ));
            }
            seen.push((action, i));
        }
    }
    Ok(())
}

/// The actions a stored component config acts on (the union of its entries' `actions`);
/// `None` when `config` is not a component.
pub fn component_actions(config: &ConfigRow) -> Option<Vec<String>> {
    if config.group != COMPONENT_GROUP {
        return None;
    }
    let entries = config.config.get("configs").and_then(Value::as_array);
    Some(
        entries
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("actions").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

#[async_trait]
impl ResourceType for SoftwareComponent {
    fn type_name(&self) -> &'static str {
        "OS::Heat::SoftwareComponent"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["configs", "config"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        if let Some(configs) = props.get("configs") {
            validate_configs(configs, path)?;
        }
        software_config::validate_io_properties(props, path)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.validate(props, &format!("resources.{}.properties", ctx.name))
            .map_err(|e| ResourceError::Failed(e.to_string()))?;
        let configs = props.get("configs").cloned().unwrap_or(json!([]));
        let mut new = NewConfig::from_properties(props, json!({"configs": configs}));
        // The group tells the agent to pick the entry for the action.
        new.group = COMPONENT_GROUP.to_string();
        let mut outcome = software_config::store_config(ctx, new).await?;
        let listed = outcome
            .attributes
            .get("config")
            .and_then(|c| c.get("configs"))
            .cloned()
            .unwrap_or(Value::Null);
        outcome.attributes.insert("configs".into(), listed);
        Ok(outcome)
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

    fn error(props: Value) -> String {
        Harness::validate(&SoftwareComponent, "comp", props)
            .unwrap_err()
            .to_string()
    }

    #[tokio::test]
    async fn stores_a_component_config_with_default_actions() {
        let h = Harness::new().await;
        let props = json!({"configs": [
            {"config": "echo create", "tool": "script"},
            {"actions": ["DELETE"], "config": "echo delete", "tool": "script"}
        ], "outputs": [{"name": "result"}]});
        let row = h.create(&SoftwareComponent, "comp", props).await.unwrap();
        let stored = h
            .services
            .store
            .config(&row.physical_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.group, "component");
        assert_eq!(
            stored.config,
            json!({"configs": [
                {"actions": ["CREATE", "UPDATE"], "config": "echo create", "tool": "script"},
                {"actions": ["DELETE"], "config": "echo delete", "tool": "script"}
            ]})
        );
        assert_eq!(row.attributes["configs"], stored.config["configs"]);
        assert_eq!(
            component_actions(&stored).unwrap(),
            ["CREATE", "UPDATE", "DELETE"]
        );
        let (kind, _) = h
            .update(
                &SoftwareComponent,
                &row,
                json!({"configs": [{"config": "x", "tool": "script"}]}),
            )
            .await;
        assert_eq!(kind, UpdateKind::Replace);
    }

    #[test]
    fn bad_configs_are_named_by_path() {
        assert_eq!(
            error(json!({"configs": [
                {"config": "a", "tool": "script"},
                {"actions": ["DELETE", "UPDATE"], "config": "b", "tool": "script"}
            ]})),
            "resources.comp.properties.configs[1].actions: Defining more than one configuration \
             for the same action in SoftwareComponent \"comp\" is not allowed (UPDATE is already \
             in configs[0])."
        );
        assert_eq!(
            error(json!({"configs": [{"config": "a"}]})),
            "resources.comp.properties.configs[0]: Property tool not assigned"
        );
        assert_eq!(
            error(json!({"configs": []})),
            "resources.comp.properties.configs: length (0) is out of range (min: 1, max: None)"
        );
        assert_eq!(
            error(json!({"configs": [{"actions": [], "tool": "script"}]})),
            "resources.comp.properties.configs[0].actions: length (0) is out of range (min: 1, max: None)"
        );
        assert_eq!(
            error(json!({})),
            "resources.comp.properties: Property configs not assigned"
        );
    }

    #[test]
    fn the_name_is_found_in_nested_paths() {
        assert_eq!(resource_name("resources.comp.properties"), "comp");
        assert_eq!(
            resource_name("resources.g<nested_stack>.resources.0.properties"),
            "0"
        );
    }
}
