//! `OS::Heat::StructuredDeployment`: a SoftwareDeployment whose derived config has every
//! `{<input_key>: "<input>"}` map replaced by that input's value (the `deploy_*` inputs
//! included), for tools without inputs of their own. Everything else is
//! SoftwareDeployment's; the substitution is `deployment_rules::derive_config`, which acts
//! on the two properties added here.

use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::deployment_rules::INPUT_KEY;
use super::software_deployment::SoftwareDeployment;
use crate::engine::services::Services;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType, UpdateKind};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::StructuredDeployment`.
pub struct StructuredDeployment;

/// The properties StructuredDeployment adds to SoftwareDeployment's (neither updatable).
pub const STRUCTURED_PROPERTIES: &[PropertySchema] = &[
    PropertySchema::new(INPUT_KEY, PropType::String).default("\"get_input\""),
    PropertySchema::new("input_values_validate", PropType::String)
        .default("\"LAX\"")
        .allowed(&["LAX", "STRICT"]),
];

static SCHEMA: LazyLock<Vec<PropertySchema>> = LazyLock::new(|| {
    SoftwareDeployment
        .properties_schema()
        .iter()
        .chain(STRUCTURED_PROPERTIES)
        .copied()
        .collect()
});

#[async_trait]
impl ResourceType for StructuredDeployment {
    fn type_name(&self) -> &'static str {
        "OS::Heat::StructuredDeployment"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        &SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        SoftwareDeployment.attributes()
    }
    fn check_attribute(&self, properties: &Value, attribute: &str) -> bool {
        SoftwareDeployment.check_attribute(properties, attribute)
    }
    fn update_kind(&self, changed: &[String], old: &Value, new: &Map<String, Value>) -> UpdateKind {
        SoftwareDeployment.update_kind(changed, old, new)
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        SoftwareDeployment.validate(props, path)
    }
    async fn replaces_on_update(
        &self,
        services: &Services,
        current: &ResourceRow,
        new: &Map<String, Value>,
    ) -> Result<bool, ResourceError> {
        SoftwareDeployment
            .replaces_on_update(services, current, new)
            .await
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        SoftwareDeployment.create(ctx, props).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        SoftwareDeployment.update(ctx, current, props).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        SoftwareDeployment.delete(ctx, current).await
    }
    async fn suspend(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        SoftwareDeployment.suspend(ctx, current).await
    }
    async fn resume(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        SoftwareDeployment.resume(ctx, current).await
    }
    async fn signal(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        body: Value,
    ) -> Result<String, ResourceError> {
        SoftwareDeployment.signal(ctx, current, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::deployed_server::DeployedServer;
    use crate::resources::heat::structured_config::StructuredConfig;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;

    /// The `config` of the derived config a deployment row points at.
    async fn derived(h: &Harness, row: &ResourceRow) -> Value {
        let store = &h.services.store;
        let deployment = store.deployment(&row.physical_id).await.unwrap().unwrap();
        store
            .config(&deployment.config_id)
            .await
            .unwrap()
            .unwrap()
            .config
    }

    #[tokio::test]
    async fn the_derived_config_has_input_values_substituted() {
        let h = Harness::new().await;
        let server = h
            .create(&DeployedServer, "server", json!({}))
            .await
            .unwrap();
        let cfg = h
            .create(
                &StructuredConfig,
                "cfg",
                json!({"config": {"port": {"get_input": "port"}, "action": {"get_input": "deploy_action"},
                    "items": [{"get_input": "port"}, {"keep": {"get_input": "unset"}}]},
                    "inputs": [{"name": "port", "default": 80}]}),
            )
            .await
            .unwrap();
        let props = json!({"config": cfg.physical_id, "server": server.physical_id,
            "input_values": {"port": 8080}, "signal_transport": "NO_SIGNAL"});
        let dep = h
            .create(&StructuredDeployment, "dep", props.clone())
            .await
            .unwrap();
        assert_eq!(
            derived(&h, &dep).await,
            json!({"port": 8080, "action": "CREATE", "items": [8080, {"keep": null}]})
        );
        // STRICT: the unknown input fails the deployment, naming it.
        let mut strict = props.clone();
        strict["input_values_validate"] = json!("STRICT");
        let err = h
            .create(&StructuredDeployment, "strict", strict)
            .await
            .unwrap_err();
        assert_eq!(err.heat_type(), "UserParameterMissing");
        assert_eq!(err.to_string(), "The Parameter (unset) was not provided.");
        // A SoftwareDeployment of the same config passes it on as it is.
        let plain = h.create(&SoftwareDeployment, "plain", props).await.unwrap();
        assert_eq!(derived(&h, &plain).await, cfg.attributes["config"]);
    }

    #[test]
    fn input_values_validate_is_checked() {
        let e = Harness::validate(
            &StructuredDeployment,
            "dep",
            json!({"server": "s", "input_values_validate": "strict"}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.dep.properties.input_values_validate: \"strict\" is not an allowed value [\"LAX\", \"STRICT\"]"
        );
    }
}
