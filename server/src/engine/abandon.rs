//! Heat's abandon, export and adopt, each behind its server switch
//! (`updraft server --enable-stack-abandon`, `--enable-stack-adopt`; off by default, as
//! Heat's `enable_stack_abandon` / `enable_stack_adopt`).
//!
//! * Abandon returns the stack's data ([`super::snapshots::stack_data`]) and forgets the
//!   stack: its rows go (resources, nested stacks, snapshots) and it is recorded
//!   `DELETE_COMPLETE`, but nothing physical is touched — deployments, configs, server
//!   metadata and credentials stay, so agents see no change and no resource is deleted.
//! * Export returns the same data and changes nothing.
//! * Adopt creates a stack (action `ADOPT`) whose resources found in the data start from
//!   their recorded physical id, data, properties and attributes (`ADOPT_COMPLETE`); the
//!   converge that follows leaves them alone when the template still resolves to the same
//!   properties. Resources the data lacks are created.
//!
//!   A resource whose entry carries a nested stack's data (`resources`, …) is not taken
//!   over as it stands (its nested stack was forgotten with the abandon): it starts
//!   `INIT` with that data kept in its row, and its create adopts the nested stack from it
//!   ([`super::nested::create`]), as Heat's stack resources' `handle_adopt`.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::lifecycle::init_row;
use super::services::Services;
use super::snapshots::stack_data;
use super::{Engine, EngineError, events};
use crate::store::{ResourceRow, StackRow};
use crate::template::Template;

/// The key of an `INIT` row's data holding the nested stack data it is to adopt.
pub(crate) const NESTED_ADOPT_KEY: &str = "adopt_stack_data";

/// The nested stack data kept in an `INIT` row by [`insert_adopted_stack`].
pub(crate) fn nested_adopt_data(row: &ResourceRow) -> Option<&Map<String, Value>> {
    row.data.get(NESTED_ADOPT_KEY).and_then(Value::as_object)
}

fn not_supported(feature: &str) -> EngineError {
    EngineError::BadRequest("NotSupported", format!("{feature} is not supported."))
}

impl Engine {
    /// `GET …/export`: the abandon data, nothing changed.
    pub async fn export_stack(&self, stack: &StackRow) -> Result<Value, EngineError> {
        if !self.services.limits.enable_stack_abandon {
            // Heat's export is its abandon without the delete, behind the same switch.
            return Err(not_supported("Stack Abandon"));
        }
        stack_data(&self.services.store, stack).await
    }

    /// `DELETE …/abandon`: the abandon data; the stack is forgotten, its physical
    /// resources kept.
    pub async fn abandon_stack(&self, stack: &StackRow) -> Result<Value, EngineError> {
        if !self.services.limits.enable_stack_abandon {
            return Err(not_supported("Stack Abandon"));
        }
        if stack.status == "IN_PROGRESS" {
            return Err(EngineError::Conflict(
                "ActionInProgress",
                format!(
                    "Stack {} already has an action ({}) in progress.",
                    stack.name, stack.action
                ),
            ));
        }
        let data = stack_data(&self.services.store, stack).await?;
        self.stop(&stack.id).await;
        self.claim(&stack.id).await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            "DELETE",
            "IN_PROGRESS",
            "Stack DELETE started",
        )
        .await?;
        forget(&self.services, stack.clone()).await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            "DELETE",
            "COMPLETE",
            "Stack DELETE completed successfully",
        )
        .await?;
        Ok(data)
    }

    /// `POST /stacks` with `adopt_stack_data`: 400 `NotSupported` unless adopt is enabled.
    pub async fn adopt_stack(
        &self,
        project: &str,
        name: &str,
        request: super::StackRequest,
        resources: &Map<String, Value>,
    ) -> Result<StackRow, EngineError> {
        if !self.services.limits.enable_stack_adopt {
            return Err(not_supported("Stack Adopt"));
        }
        self.create_stack_adopting(project, name, request, Some(resources))
            .await
    }

    /// Whether adopt is enabled (checked before the request is read, as Heat).
    pub fn adopt_enabled(&self) -> bool {
        self.services.limits.enable_stack_adopt
    }
}

/// Removes a stack's rows (its nested stacks' first), leaving every physical resource.
fn forget(
    services: &Services,
    stack: StackRow,
) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + '_>> {
    Box::pin(async move {
        let store = &services.store;
        for child in store.nested_stacks(&stack.id).await? {
            forget(services, child.clone()).await?;
            store
                .set_stack_state(
                    &child.id,
                    "DELETE",
                    "COMPLETE",
                    "Stack DELETE completed successfully",
                )
                .await?;
        }
        for row in store.stack_resources(&stack.id).await? {
            store.delete_resource(&stack.id, &row.name).await?;
        }
        store.delete_stack_snapshots(&stack.id).await?;
        Ok(())
    })
}

/// The row of an adopted resource: the recorded physical id, data, properties and
/// attributes, `ADOPT_COMPLETE`.
fn adopted_row(stack_id: &str, name: &str, resource_type: &str, data: &Value) -> ResourceRow {
    let mut row = init_row(stack_id, name, resource_type);
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
    let object = |key: &str| data.get(key).and_then(Value::as_object).cloned();
    row.action = "ADOPT".into();
    row.status = "COMPLETE".into();
    row.status_reason = "state changed".into();
    row.physical_id = text("resource_id").unwrap_or_default();
    row.reference_id = text("reference_id");
    row.data = object("resource_data").unwrap_or_default();
    row.attributes = object("attributes").unwrap_or_default();
    if let Some(props) = object("properties") {
        row.properties = Value::Object(props);
    }
    row
}

/// Stores a new `ADOPT_IN_PROGRESS` stack: resources found in `adopted` (of the same type)
/// as `ADOPT_COMPLETE` with their recorded state, the others `INIT_COMPLETE`, with the
/// stack's and each adopted resource's events.
pub(crate) async fn insert_adopted_stack(
    services: &Services,
    stack: &StackRow,
    template: &Template,
    adopted: &Map<String, Value>,
) -> Result<(), EngineError> {
    let store = &services.store;
    store.insert_stack(stack).await?;
    events::stack_state(
        services,
        &stack.id,
        &stack.name,
        "ADOPT",
        "IN_PROGRESS",
        "Stack ADOPT started",
    )
    .await?;
    for (name, def) in &template.resources {
        let found = adopted.get(name).filter(|d| {
            d.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == def.resource_type)
        });
        let Some(data) = found else {
            store
                .insert_resources(&[init_row(&stack.id, name, &def.resource_type)])
                .await?;
            continue;
        };
        if data.get("resources").is_some_and(Value::is_object)
            && let Some(nested) = data.as_object()
        {
            // Its nested stack is adopted when it is created.
            let mut row = init_row(&stack.id, name, &def.resource_type);
            row.data
                .insert(NESTED_ADOPT_KEY.into(), Value::Object(nested.clone()));
            store.insert_resources(&[row]).await?;
            continue;
        }
        let row = adopted_row(&stack.id, name, &def.resource_type, data);
        let mut started = row.clone();
        started.status = "IN_PROGRESS".into();
        let event = |status: &str| {
            events::event_row(
                &stack.id,
                name,
                &def.resource_type,
                &row.physical_id,
                "ADOPT",
                status,
                "state changed",
            )
        };
        store
            .put_resource_logged(&started, Some(event("IN_PROGRESS")))
            .await?;
        store
            .put_resource_logged(&row, Some(event("COMPLETE")))
            .await?;
    }
    Ok(())
}
