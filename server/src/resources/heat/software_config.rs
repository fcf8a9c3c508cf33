//! `OS::Heat::SoftwareConfig`: an immutable config stored in the software-config store.
//! Every property change replaces it (new id), as in Heat.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::{ConfigRow, ResourceRow, now_timestamp};
use crate::template::TemplateError;
use crate::template::error::{index, join};

/// `OS::Heat::SoftwareConfig`.
pub struct SoftwareConfig;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("group", PropType::String).default("\"Heat::Ungrouped\""),
    PropertySchema::new("config", PropType::String),
    PropertySchema::new("options", PropType::Map),
    PropertySchema::new("inputs", PropType::List),
    PropertySchema::new("outputs", PropType::List),
];

const IO_TYPES: &[&str] = &["String", "Number", "CommaDelimitedList", "Json", "Boolean"];

/// Checks an `inputs`/`outputs` list: maps with a string `name` and a known `type`.
pub fn validate_io(list: &Value, path: &str, outputs: bool) -> Result<(), TemplateError> {
    let Some(items) = list.as_array() else {
        return Ok(());
    };
    let allowed: &[&str] = if outputs {
        &["name", "description", "type", "error_output"]
    } else {
        &[
            "name",
            "description",
            "type",
            "default",
            "replace_on_change",
        ]
    };
    for (i, item) in items.iter().enumerate() {
        let ipath = index(path, i);
        let Some(map) = item.as_object() else {
            return Err(TemplateError::at(ipath, "Value must be a map"));
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(TemplateError::at(&ipath, format!("Unknown Property {key}")));
            }
        }
        if !map.get("name").is_some_and(Value::is_string) {
            return Err(TemplateError::at(&ipath, "Property name not assigned"));
        }
        if let Some(t) = map.get("type") {
            let ok = t.as_str().is_some_and(|t| IO_TYPES.contains(&t));
            if !ok {
                return Err(TemplateError::at(
                    join(&ipath, "type"),
                    format!("{t} is not an allowed value [{}]", IO_TYPES.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

/// Heat's normalised input schema: every key present, `description` and `default` filled.
pub fn normalise_inputs(list: Option<&Value>) -> Value {
    let items = list.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|i| {
                let mut m = Map::new();
                m.insert("name".into(), i.get("name").cloned().unwrap_or(Value::Null));
                m.insert(
                    "description".into(),
                    i.get("description").cloned().unwrap_or(json!("")),
                );
                m.insert(
                    "type".into(),
                    i.get("type").cloned().unwrap_or(json!("String")),
                );
                m.insert(
                    "default".into(),
                    i.get("default").cloned().unwrap_or(json!("")),
                );
                if i.get("replace_on_change").and_then(Value::as_bool) == Some(true) {
                    m.insert("replace_on_change".into(), json!(true));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Heat's normalised output schema.
pub fn normalise_outputs(list: Option<&Value>) -> Value {
    let items = list.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        items
            .iter()
            .map(|o| {
                json!({
                    "name": o.get("name").cloned().unwrap_or(Value::Null),
                    "description": o.get("description").cloned().unwrap_or(json!("")),
                    "type": o.get("type").cloned().unwrap_or(json!("String")),
                    "error_output": o.get("error_output").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect(),
    )
}

/// What a config resource stores: Heat's `create_software_config` arguments.
pub struct NewConfig {
    /// `group`.
    pub group: String,
    /// `config`: a string, or a map for structured configs.
    pub config: Value,
    /// Declared inputs as given (normalised when stored).
    pub inputs: Option<Value>,
    /// Declared outputs as given (normalised when stored).
    pub outputs: Option<Value>,
    /// `options`.
    pub options: Value,
}

impl NewConfig {
    /// The config `config` with the `group`, `inputs`, `outputs` and `options` properties.
    pub fn from_properties(props: &Map<String, Value>, config: Value) -> Self {
        NewConfig {
            group: props
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or(UNGROUPED)
                .to_string(),
            config,
            inputs: props.get("inputs").cloned(),
            outputs: props.get("outputs").cloned(),
            options: props.get("options").cloned().unwrap_or(json!({})),
        }
    }

    /// A config with nothing but `group` and `config` (CloudConfig, MultipartMime).
    pub fn plain(group: &str, config: Value) -> Self {
        NewConfig {
            group: group.to_string(),
            config,
            inputs: None,
            outputs: None,
            options: json!({}),
        }
    }
}

/// The group of a config that names none.
pub const UNGROUPED: &str = "Heat::Ungrouped";

/// Stores `new` as this resource's config (named by its physical name) and returns the
/// outcome every config type shares: the config id, attribute `config`. An interrupted
/// create that stored it already returns that one instead (the id is recorded first).
pub async fn store_config(
    ctx: &ResourceContext<'_>,
    new: NewConfig,
) -> Result<ResourceOutcome, ResourceError> {
    if let Some(id) = ctx.resumed_physical_id()
        && let Some(existing) = ctx.services.store.config(id).await?
    {
        return Ok(config_outcome(existing.id, existing.config));
    }
    let id = uuid::Uuid::new_v4().to_string();
    ctx.set_physical_id(&id).await?;
    let row = ConfigRow {
        id,
        project: ctx.stack.project.clone(),
        name: ctx.physical_name(),
        group: new.group,
        config: new.config,
        inputs: normalise_inputs(new.inputs.as_ref()),
        outputs: normalise_outputs(new.outputs.as_ref()),
        options: new.options,
        created_at: now_timestamp(),
    };
    ctx.services.store.insert_config(&row).await?;
    Ok(config_outcome(row.id, row.config))
}

fn config_outcome(id: String, config: Value) -> ResourceOutcome {
    let mut attributes = Map::new();
    attributes.insert("config".into(), config);
    ResourceOutcome {
        physical_id: id,
        attributes,
        ..Default::default()
    }
}

/// Deletes a config resource's stored config (every config type's delete).
pub async fn delete_config(
    ctx: &ResourceContext<'_>,
    current: &ResourceRow,
) -> Result<(), ResourceError> {
    if !current.physical_id.is_empty() {
        ctx.services
            .store
            .delete_config(&current.physical_id)
            .await?;
    }
    Ok(())
}

/// Checks a config type's `inputs` and `outputs` properties.
pub fn validate_io_properties(props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
    if let Some(inputs) = props.get("inputs") {
        validate_io(inputs, &join(path, "inputs"), false)?;
    }
    if let Some(outputs) = props.get("outputs") {
        validate_io(outputs, &join(path, "outputs"), true)?;
    }
    Ok(())
}

#[async_trait]
impl ResourceType for SoftwareConfig {
    fn type_name(&self) -> &'static str {
        "OS::Heat::SoftwareConfig"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["config"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        validate_io_properties(props, path)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.validate(props, &format!("resources.{}.properties", ctx.name))
            .map_err(|e| ResourceError::Failed(e.to_string()))?;
        let config = props.get("config").cloned().unwrap_or(json!(""));
        store_config(ctx, NewConfig::from_properties(props, config)).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        delete_config(ctx, current).await
    }
}
