//! `OS::Heat::None`: stands in for any resource (typically mapped over another type in the
//! `resource_registry`). It accepts any properties, answers every attribute with null, does
//! nothing on update (never replaced, whatever changed: Heat's `_needs_update` is always
//! false), and its physical id is a fresh UUID.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::resources::properties::PropertySchema;
use crate::resources::{ResourceContext, ResourceError, ResourceOutcome, ResourceType, UpdateKind};
use crate::store::ResourceRow;

/// `OS::Heat::None`.
pub struct NoneResource;

#[async_trait]
impl ResourceType for NoneResource {
    fn type_name(&self) -> &'static str {
        "OS::Heat::None"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        &[]
    }
    fn accepts_any_properties(&self) -> bool {
        true
    }
    fn update_kind(&self, _: &[String], _: &Value, _: &Map<String, Value>) -> UpdateKind {
        UpdateKind::Unchanged
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }
    /// Any attribute name can be asked; every one is null (nothing is persisted).
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    async fn create(
        &self,
        _: &ResourceContext<'_>,
        _props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let mut data = Map::new();
        // Heat marks the resource as a placeholder (so deleting it touches nothing).
        data.insert("is_placeholder".into(), Value::String("True".into()));
        Ok(ResourceOutcome {
            physical_id: uuid::Uuid::new_v4().to_string(),
            data,
            ..Default::default()
        })
    }
    /// Never called by the engine ([`UpdateKind::Unchanged`]); keeps the resource as it is.
    async fn update(
        &self,
        _: &ResourceContext<'_>,
        current: &ResourceRow,
        _props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        Ok(ResourceOutcome {
            physical_id: current.physical_id.clone(),
            reference_id: current.reference_id.clone(),
            attributes: current.attributes.clone(),
            data: current.data.clone(),
        })
    }
    async fn delete(&self, _: &ResourceContext<'_>, _: &ResourceRow) -> Result<(), ResourceError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::test_support::Harness;
    use crate::template::TypeLookup;
    use serde_json::json;

    #[tokio::test]
    async fn accepts_anything_and_is_never_updated() {
        let h = Harness::new().await;
        let props = json!({"flavor": "m1.small", "nested": {"a": [1, 2]}, "n": 3});
        let row = h
            .create(&NoneResource, "stub", props.clone())
            .await
            .unwrap();
        assert!(uuid::Uuid::parse_str(&row.physical_id).is_ok());
        assert_eq!(row.properties, props);
        assert!(row.attributes.is_empty());
        let (kind, done) = h
            .update(
                &NoneResource,
                &row,
                json!({"flavor": "m1.large", "image": "x"}),
            )
            .await;
        assert_eq!(kind, UpdateKind::Unchanged);
        assert!(done.is_none());
        let again = h.create(&NoneResource, "other", json!({})).await.unwrap();
        assert_ne!(again.physical_id, row.physical_id);
        NoneResource.delete(&h.ctx("stub"), &row).await.unwrap();
    }

    #[test]
    fn every_attribute_exists() {
        let registry = crate::resources::Registry::builtin();
        assert!(
            registry
                .check_attribute("OS::Heat::None", &json!({}), "anything_at_all")
                .is_ok()
        );
    }
}
