//! `OS::Heat::DeployedServer`: a server Updraft does not boot but configures through its
//! metadata. Its document carries the `os-collect-config` section that tells an agent
//! where and how to poll (`collect_config.rs`): POLL_TEMP_URL, POLL_SERVER_CFN or
//! POLL_SERVER_HEAT; a transport change on update switches the section as Heat does.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::engine::server_metadata;
use crate::resources::heat::collect_config::{self, TRANSPORTS};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType};
use crate::store::ResourceRow;
use crate::template::TemplateError;
use crate::template::error::join;

/// `OS::Heat::DeployedServer`.
pub struct DeployedServer;

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("name", PropType::String).update_allowed(),
    PropertySchema::new("metadata", PropType::Map).update_allowed(),
    // No schema default: the server's `--default-software-config-transport` applies.
    PropertySchema::new("software_config_transport", PropType::String)
        .update_allowed()
        .allowed(TRANSPORTS),
    PropertySchema::new("deployment_swift_data", PropType::Map),
];

fn transport<'a>(ctx: &'a ResourceContext<'_>, props: &'a Map<String, Value>) -> &'a str {
    props
        .get("software_config_transport")
        .and_then(Value::as_str)
        .unwrap_or(&ctx.services.transports.software_config)
}

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
            Some("ZAQAR_MESSAGE") => Err(TemplateError::at(
                join(path, "software_config_transport"),
                "ZAQAR_MESSAGE needs Zaqar, which Updraft does not provide; use POLL_TEMP_URL, POLL_SERVER_CFN or POLL_SERVER_HEAT",
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
        let mut data = ctx
            .resuming
            .as_ref()
            .map(|r| r.data.clone())
            .unwrap_or_default();
        let occ = collect_config::section(ctx, transport(ctx, props), &server_id, &mut data, None)
            .await?;
        server_metadata::set_collect_config(ctx.services, &server_id, &ctx.stack.project, &occ)
            .await?;
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
            data,
            ..Default::default()
        })
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut attributes = current.attributes.clone();
        if let Some(name) = props.get("name").and_then(Value::as_str) {
            attributes.insert("name".into(), Value::String(name.to_string()));
        }
        let mut data = current.data.clone();
        let previous = current.attributes.get("os_collect_config");
        let wanted = collect_config::collector(transport(ctx, props));
        let had = previous
            .and_then(|p| p.get("collectors"))
            .and_then(|c| c.get(0))
            .and_then(Value::as_str);
        if had != Some(wanted) {
            // A new transport: the document tells the agent, over the transport it still
            // polls, where to poll next. The old credentials stay until the server is
            // deleted, so that read cannot fail half-way.
            let occ = collect_config::section(
                ctx,
                transport(ctx, props),
                &current.physical_id,
                &mut data,
                previous,
            )
            .await?;
            server_metadata::set_collect_config(
                ctx.services,
                &current.physical_id,
                &ctx.stack.project,
                &occ,
            )
            .await?;
            attributes.insert("os_collect_config".into(), occ);
        }
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            reference_id: current.reference_id.clone(),
            attributes,
            data,
        })
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        // Its access key / stack user stop working.
        ctx.services
            .store
            .revoke_credentials(&ctx.stack.id, ctx.name)
            .await?;
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
