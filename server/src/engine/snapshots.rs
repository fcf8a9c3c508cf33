//! Stack snapshots and restore, and the abandon/export data (Heat's `prepare_abandon`,
//! which a snapshot's `data` also is).
//!
//! A snapshot only reads the store, so it is taken within the request: the stack goes
//! `SNAPSHOT_IN_PROGRESS` → `SNAPSHOT_COMPLETE` (with events) and the snapshot is returned
//! `COMPLETE`. Restore is an update back to the snapshot's template, environment and files,
//! run as the stack action `RESTORE` through the ordinary update path.
//!
//! A resource owning a nested stack carries that stack's data in its entry (`resources`,
//! `template`, `environment`, `files`), as Heat's stack resources' `prepare_abandon`, so
//! an adopt brings the nested stacks back with their resources.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value, json};

use super::{Engine, EngineError, StackRequest, events};
use crate::store::{ResourceRow, SnapshotRow, StackRow, Store, now_timestamp};

/// Heat's `max_snapshots_per_stack`.
pub const MAX_SNAPSHOTS_PER_STACK: i64 = 32;

fn in_progress(stack: &StackRow) -> EngineError {
    EngineError::Conflict(
        "ActionInProgress",
        format!(
            "Stack {} already has an action ({}) in progress.",
            stack.name, stack.action
        ),
    )
}

/// The stack's environment with its request parameters merged into `parameters`, as Heat's
/// user environment holds them.
fn environment_with_parameters(stack: &StackRow) -> Value {
    let mut env = stack.environment.as_object().cloned().unwrap_or_default();
    if !stack.parameters.is_empty() {
        let mut params = env
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        params.extend(stack.parameters.clone());
        env.insert("parameters".into(), Value::Object(params));
    }
    Value::Object(env)
}

/// The keys of a nested stack's data that its owner resource's entry carries.
const NESTED_KEYS: [&str; 4] = ["resources", "template", "environment", "files"];

/// Heat's abandon data of a stack (also a snapshot's `data`): `{id, name, action, status,
/// template, environment, files, resources: {name: {name, resource_id, type, action,
/// status, metadata, resource_data, ...}}, project_id, stack_user_project_id}`. Each
/// resource also carries Updraft's `properties`, `attributes` and `reference_id`, so an
/// adopt of this data needs to create nothing; one owning a nested stack also carries
/// that stack's `resources`, `template`, `environment` and `files`.
pub(crate) fn stack_data<'a>(
    store: &'a Store,
    stack: &'a StackRow,
) -> Pin<Box<dyn Future<Output = Result<Value, EngineError>> + Send + 'a>> {
    Box::pin(async move {
        let mut nested: HashMap<String, StackRow> = store
            .nested_stacks(&stack.id)
            .await?
            .into_iter()
            .map(|child| (child.id.clone(), child))
            .collect();
        let mut resources = Map::new();
        for row in store.stack_resources(&stack.id).await? {
            let mut entry = resource_data(store, &row).await?;
            if let Some(child) = nested.remove(&row.physical_id)
                && child.owner_resource.as_deref() == Some(row.name.as_str())
                && let (Value::Object(entry), Value::Object(mut data)) =
                    (&mut entry, stack_data(store, &child).await?)
            {
                for key in NESTED_KEYS {
                    if let Some(value) = data.remove(key) {
                        entry.insert(key.into(), value);
                    }
                }
            }
            resources.insert(row.name.clone(), entry);
        }
        Ok(stack_json(stack, resources))
    })
}

/// One resource's entry of the abandon data.
async fn resource_data(store: &Store, row: &ResourceRow) -> Result<Value, EngineError> {
    let metadata = if row.physical_id.is_empty() {
        None
    } else {
        store.metadata(&row.physical_id).await?.map(|m| m.document)
    };
    Ok(json!({
        "name": row.name,
        "resource_id": row.physical_id,
        "type": row.resource_type,
        "action": row.action,
        "status": row.status,
        "status_reason": row.status_reason,
        "metadata": metadata.unwrap_or_else(|| json!({})),
        "resource_data": row.data,
        "properties": row.properties,
        "attributes": row.attributes,
        "reference_id": row.reference_id,
    }))
}

fn stack_json(stack: &StackRow, resources: Map<String, Value>) -> Value {
    json!({
        "id": stack.id,
        "name": stack.name,
        "action": stack.action,
        "status": stack.status,
        "template": stack.template,
        "environment": environment_with_parameters(stack),
        "files": stack.files,
        "resources": resources,
        "project_id": stack.project,
        "stack_user_project_id": stack.project,
    })
}

impl Engine {
    /// Takes a snapshot of the stack (409 while an action is in progress).
    pub async fn snapshot_stack(
        &self,
        stack: &StackRow,
        name: &str,
    ) -> Result<SnapshotRow, EngineError> {
        if stack.status == "IN_PROGRESS" {
            return Err(in_progress(stack));
        }
        let store = &self.services.store;
        if store.snapshot_count(&stack.id).await? >= MAX_SNAPSHOTS_PER_STACK {
            return Err(EngineError::BadRequest(
                "RequestLimitExceeded",
                format!(
                    "Request limit exceeded: You have reached the maximum snapshots per stack, {MAX_SNAPSHOTS_PER_STACK}. Please delete some snapshots."
                ),
            ));
        }
        let data = stack_data(&self.services.store, stack).await?;
        self.claim(&stack.id).await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            "SNAPSHOT",
            "IN_PROGRESS",
            "Stack SNAPSHOT started",
        )
        .await?;
        let snapshot = SnapshotRow {
            id: uuid::Uuid::new_v4().to_string(),
            project: stack.project.clone(),
            stack_id: stack.id.clone(),
            name: name.to_string(),
            data,
            action: "SNAPSHOT".into(),
            status: "COMPLETE".into(),
            status_reason: "Stack SNAPSHOT completed successfully".into(),
            created_at: now_timestamp(),
        };
        let stored = store.insert_snapshot(&snapshot).await;
        let (status, reason) = match &stored {
            Ok(()) => ("COMPLETE", "Stack SNAPSHOT completed successfully".into()),
            Err(e) => ("FAILED", format!("Error: {e}")),
        };
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            "SNAPSHOT",
            status,
            &reason,
        )
        .await?;
        stored?;
        Ok(snapshot)
    }

    /// The snapshot `id` of the stack, or Heat's 404.
    pub async fn stack_snapshot(
        &self,
        stack: &StackRow,
        id: &str,
    ) -> Result<SnapshotRow, EngineError> {
        match self.services.store.snapshot(id).await? {
            Some(s) if s.stack_id == stack.id => Ok(s),
            _ => Err(EngineError::NotFound(
                "EntityNotFound",
                format!("The Snapshot ({id}) could not be found."),
            )),
        }
    }

    /// Restores the stack to the snapshot: an update to its template, environment and
    /// files, as the stack action `RESTORE`.
    pub async fn restore_snapshot(
        &self,
        stack: &StackRow,
        snapshot: &SnapshotRow,
    ) -> Result<(), EngineError> {
        let data = &snapshot.data;
        let request = StackRequest {
            template: data.get("template").cloned().unwrap_or(Value::Null),
            parameters: Map::new(),
            environment: data.get("environment").cloned().unwrap_or(json!({})),
            files: data.get("files").cloned().unwrap_or(json!({})),
            timeout_mins: stack.timeout_mins,
            disable_rollback: stack.disable_rollback,
            tags: stack.tags.clone(),
        };
        self.update_stack_as(stack, request, "RESTORE").await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::auth::temp_url::TempUrls;
    use crate::engine::notifier::Notifier;
    use crate::engine::services::Services;
    use crate::resources::Registry;

    async fn engine() -> (Engine, tempfile::TempDir) {
        let (store, dir) = crate::store::test_store().await;
        let services = Arc::new(Services {
            store,
            temp_urls: TempUrls::new("http://127.0.0.1:9", b"key".to_vec()),
            notifier: Notifier::default(),
            registry: Registry::builtin(),
            limits: Default::default(),
            node: Default::default(),
            transports: Default::default(),
        });
        (Engine::new(services), dir)
    }

    async fn settled(engine: &Engine, id: &str) -> StackRow {
        for _ in 0..200 {
            let stack = engine.services.store.stack(id).await.unwrap().unwrap();
            if stack.status != "IN_PROGRESS" {
                return stack;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("stack {id} still in progress");
    }

    #[tokio::test]
    async fn a_stack_delete_deletes_its_snapshots_and_busy_stacks_refuse_them() {
        let (engine, _dir) = engine().await;
        let request = StackRequest {
            template: json!({"heat_template_version": "2018-08-31",
                             "resources": {"v": {"type": "OS::Heat::Value",
                                                 "properties": {"value": "x"}}}}),
            parameters: Map::new(),
            environment: json!({}),
            files: json!({}),
            timeout_mins: None,
            disable_rollback: true,
            tags: None,
        };
        let stack = engine.create_stack("p", "s", request).await.unwrap();
        // Still being created: 409.
        let busy = engine.snapshot_stack(&stack, "early").await;
        assert!(
            matches!(busy, Err(EngineError::Conflict("ActionInProgress", _))),
            "{busy:?}"
        );
        let stack = settled(&engine, &stack.id).await;
        let snap = engine.snapshot_stack(&stack, "one").await.unwrap();
        assert_eq!(snap.data["resources"]["v"]["properties"]["value"], "x");
        let stack = engine
            .services
            .store
            .stack(&stack.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (stack.action.as_str(), stack.status.as_str()),
            ("SNAPSHOT", "COMPLETE")
        );
        let store = &engine.services.store;
        assert_eq!(store.stack_snapshots(&stack.id).await.unwrap().len(), 1);
        engine.delete_stack(&stack).await.unwrap();
        settled(&engine, &stack.id).await;
        assert!(store.stack_snapshots(&stack.id).await.unwrap().is_empty());
        assert!(store.snapshot(&snap.id).await.unwrap().is_none());
    }
}
