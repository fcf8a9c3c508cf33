//! Test helpers: resource types driven through the trait on a real SQLite store.

use serde_json::{Map, Value};

use crate::auth::temp_url::TempUrls;
use crate::engine::notifier::Notifier;
use crate::engine::services::Services;
use crate::resources::properties;
use crate::resources::{
    Registry, ResourceContext, ResourceError, ResourceType, StackIdentity, UpdateKind,
};
use crate::store::{ResourceRow, StackRow, now_timestamp};
use crate::template::TemplateError;

/// A stored stack to run resource actions in.
pub(crate) struct Harness {
    pub services: Services,
    pub stack: StackIdentity,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new() -> Self {
        Self::with_files(serde_json::json!({})).await
    }

    /// A harness whose stack has this files map (provider templates, nested templates).
    pub async fn with_files(files: Value) -> Self {
        let (store, dir) = crate::store::test_store().await;
        let stack = StackIdentity {
            id: uuid::Uuid::new_v4().to_string(),
            name: "s1".into(),
            project: "p".into(),
        };
        store
            .insert_stack(&StackRow {
                id: stack.id.clone(),
                project: stack.project.clone(),
                name: stack.name.clone(),
                action: "CREATE".into(),
                status: "IN_PROGRESS".into(),
                status_reason: String::new(),
                template: serde_json::json!({"heat_template_version": "2018-08-31"}),
                environment: serde_json::json!({}),
                files,
                parameters: Map::new(),
                disable_rollback: true,
                timeout_mins: None,
                created_at: now_timestamp(),
                updated_at: None,
                deleted_at: None,
                ..Default::default()
            })
            .await
            .unwrap();
        Harness {
            services: Services {
                store,
                temp_urls: TempUrls::new("http://127.0.0.1:9", b"key".to_vec()),
                notifier: Notifier::default(),
                registry: Registry::builtin(),
                limits: Default::default(),
                node: Default::default(),
                transports: Default::default(),
            },
            stack,
            _dir: dir,
        }
    }

    pub fn ctx<'a>(&'a self, name: &'a str) -> ResourceContext<'a> {
        ResourceContext::new(&self.services, &self.stack, name)
    }

    /// Validates resolved properties as the engine does before acting.
    pub fn validate(
        rtype: &dyn ResourceType,
        name: &str,
        props: Value,
    ) -> Result<Map<String, Value>, TemplateError> {
        let path = format!("resources.{name}.properties");
        let props = properties::validate_for(rtype, &props, &path, &|_| false)?;
        rtype.validate(&props, &path)?;
        Ok(props)
    }

    /// Stores the row `IN_PROGRESS`, creates, and stores the outcome `CREATE_COMPLETE`.
    pub async fn create(
        &self,
        rtype: &dyn ResourceType,
        name: &str,
        props: Value,
    ) -> Result<ResourceRow, ResourceError> {
        let props = Self::validate(rtype, name, props).expect("valid properties");
        let mut row = ResourceRow {
            id: uuid::Uuid::new_v4().to_string(),
            stack_id: self.stack.id.clone(),
            name: name.into(),
            resource_type: rtype.type_name().into(),
            action: "CREATE".into(),
            status: "IN_PROGRESS".into(),
            status_reason: "state changed".into(),
            physical_id: String::new(),
            reference_id: None,
            properties: Value::Object(Map::new()),
            attributes: Map::new(),
            data: Map::new(),
            created_at: now_timestamp(),
            updated_at: None,
        };
        self.services.store.put_resource(&row).await?;
        let outcome = rtype.create(&self.ctx(name), &props).await?;
        row.physical_id = outcome.physical_id;
        row.reference_id = outcome.reference_id;
        row.attributes = outcome.attributes;
        row.data = outcome.data;
        row.properties = Value::Object(props);
        row.status = "COMPLETE".into();
        self.services.store.put_resource(&row).await?;
        Ok(row)
    }

    /// What the engine would do with new properties, and the row after doing it (updates in
    /// place only; `None` for a replacement or no change).
    pub async fn update(
        &self,
        rtype: &dyn ResourceType,
        current: &ResourceRow,
        props: Value,
    ) -> (UpdateKind, Option<Result<ResourceRow, ResourceError>>) {
        let props = Self::validate(rtype, &current.name, props).expect("valid properties");
        let changed = properties::changed(&current.properties, &props);
        assert!(!changed.is_empty(), "nothing changed");
        let kind = rtype.update_kind(&changed, &current.properties, &props);
        if kind != UpdateKind::InPlace {
            return (kind, None);
        }
        let result = rtype
            .update(&self.ctx(&current.name), current, &props)
            .await;
        let result = match result {
            Ok(outcome) => {
                let mut row = current.clone();
                row.action = "UPDATE".into();
                row.physical_id = outcome.physical_id;
                row.reference_id = outcome.reference_id;
                row.attributes = outcome.attributes;
                row.data = outcome.data;
                row.properties = Value::Object(props);
                self.services.store.put_resource(&row).await.unwrap();
                Ok(row)
            }
            Err(e) => Err(e),
        };
        (kind, Some(result))
    }
}
