//! `OS::Heat::DeployedServer`: a server Updraft does not boot but configures through its
//! metadata. Its document carries the `os-collect-config` section that tells an agent
//! where to poll.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;
use crate::template::error::join;

/// `OS::Heat::DeployedServer`.
pub struct DeployedServer;

/// Transports Heat knows.
const TRANSPORTS: &[&str] = &[
    "POLL_SERVER_CFN",
    "POLL_SERVER_HEAT",
    "POLL_TEMP_URL",
    "ZAQAR_MESSAGE",
];
/// Transports this server can serve today.
const SUPPORTED: &[&str] = &["POLL_TEMP_URL"];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("name", PropType::String).update_allowed(),
    PropertySchema::new("metadata", PropType::Map).update_allowed(),
    // Heat's default is POLL_SERVER_CFN; until the CFN API exists the capability-URL
    // transport is the default here.
    PropertySchema::new("software_config_transport", PropType::String)
        .default("\"POLL_TEMP_URL\"")
        .allowed(TRANSPORTS),
    PropertySchema::new("deployment_swift_data", PropType::Map),
];

#[async_trait]
impl ResourceType for DeployedServer {
    fn type_name(&self) -> &'static str {
        "OS::Heat::DeployedServer"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["name", "os_collect_config"]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        match props
            .get("software_config_transport")
            .and_then(Value::as_str)
        {
            Some(t) if !SUPPORTED.contains(&t) => Err(TemplateError::at(
                join(path, "software_config_transport"),
                format!(
                    "{t} is not supported by this Updraft server yet; supported: {}",
                    SUPPORTED.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.validate(props, &format!("resources.{}.properties", ctx.name))
            .map_err(|e| ResourceError::Failed(e.to_string()))?;
        // An interrupted create already chose the id (agents may be using its URL): keep it.
        let server_id = match ctx.resumed_physical_id() {
            Some(id) => id.to_string(),
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                ctx.set_physical_id(&id).await?;
                id
            }
        };
        let occ = json!({
            "collectors": ["request", "local"],
            "request": {"metadata_url": ctx.services.temp_urls.metadata_url(&server_id)},
        });
        if ctx.services.store.metadata(&server_id).await?.is_none() {
            let document = json!({"deployments": [], "os-collect-config": occ});
            let version = ctx
                .services
                .store
                .put_metadata(&server_id, &ctx.stack.project, &document)
                .await?;
            ctx.services.notifier.metadata_changed(&server_id, version);
        }
        let name = props
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| ctx.physical_name());
        let mut attributes = Map::new();
        attributes.insert("name".into(), Value::String(name));
        attributes.insert("os_collect_config".into(), occ);
        Ok(ResourceOutcome {
            physical_id: server_id,
            attributes,
            ..Default::default()
        })
    }
    async fn update(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = current.attributes.clone();
        if let Some(name) = props.get("name").and_then(Value::as_str) {
            attributes.insert("name".into(), Value::String(name.to_string()));
        }
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            reference_id: current.reference_id.clone(),
            attributes,
            data: current.data.clone(),
        })
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        if !current.physical_id.is_empty() {
            ctx.services
                .store
                .delete_metadata(&current.physical_id)
                .await?;
            ctx.services
                .notifier
                .metadata_changed(&current.physical_id, -1);
        }
        Ok(())
    }
}
