//! Stack-level steps shared by top-level stacks (run in background tasks by [`super::Engine`])
//! and nested stacks (run inline by their owner's resource, `engine/nested.rs`): storing a
//! new stack, running an action to its final recorded state, deleting everything, outputs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::converge::{Plan, converge, delete_physical};
use super::services::Services;
use super::stack_view::StackView;
use super::{EngineError, breakpoints, events, graph, scheduler};
use crate::resources::StackIdentity;
use crate::store::{ResourceRow, StackRow, now_timestamp};
use crate::template::{
    DeletionPolicy, Template, TemplateError, environment, functions, parameters,
};

/// A validated template with its resolved parameters.
pub(crate) struct Prepared {
    pub template: Template,
    pub params: Map<String, Value>,
    pub environment: Value,
}

/// Who a stack is, as resources see it.
pub(crate) fn identity(stack: &StackRow) -> StackIdentity {
    StackIdentity {
        id: stack.id.clone(),
        name: stack.name.clone(),
        project: stack.project.clone(),
    }
}

/// The template and resolved parameters of a stored stack.
pub(crate) fn stored_definition(
    stack: &StackRow,
) -> Result<(Template, Map<String, Value>), TemplateError> {
    let mut template = Template::parse(&stack.template)?;
    let env = environment::parse(&stack.environment)?;
    if let Some(e) = template.apply_registry(&env.registry).into_iter().next() {
        return Err(e);
    }
    let mut supplied = env.parameters.clone();
    supplied.extend(stack.parameters.clone());
    let params =
        parameters::stored_values(&template.parameters, &supplied, &env.parameter_defaults);
    let view = StackView::new(identity(stack), params.clone(), &template, &[]);
    let template = template.apply_conditions(&view)?;
    Ok((template, params))
}

/// A fresh `INIT_COMPLETE` row for resource `name` of `stack_id`.
pub(crate) fn init_row(stack_id: &str, name: &str, resource_type: &str) -> ResourceRow {
    ResourceRow {
        id: uuid::Uuid::new_v4().to_string(),
        stack_id: stack_id.to_string(),
        name: name.to_string(),
        resource_type: resource_type.to_string(),
        action: "INIT".into(),
        status: "COMPLETE".into(),
        status_reason: String::new(),
        physical_id: String::new(),
        reference_id: None,
        properties: Value::Object(Map::new()),
        attributes: Map::new(),
        data: Map::new(),
        created_at: now_timestamp(),
        updated_at: None,
    }
}

/// Stores a new stack (`CREATE_IN_PROGRESS`) with its resources as `INIT_COMPLETE` and the
/// `Stack CREATE started` event.
pub(crate) async fn insert_new_stack(
    services: &Services,
    stack: &StackRow,
    template: &Template,
) -> Result<(), EngineError> {
    let store = &services.store;
    store.insert_stack(stack).await?;
    let rows: Vec<ResourceRow> = template
        .resources
        .iter()
        .map(|(name, def)| init_row(&stack.id, name, &def.resource_type))
        .collect();
    store.insert_resources(&rows).await?;
    events::stack_state(
        services,
        &stack.id,
        &stack.name,
        "CREATE",
        "IN_PROGRESS",
        "Stack CREATE started",
    )
    .await?;
    Ok(())
}

/// Runs `action` (`CREATE` or `UPDATE`) on the stack to the end, within its timeout, and
/// records the stack's final state. `Err` carries the failure reason.
pub(crate) async fn run_action(
    services: Arc<Services>,
    stack: &StackRow,
    action: &'static str,
    prepared: Prepared,
) -> Result<(), String> {
    let hooks = breakpoints::for_stack(stack, prepared.template.resources.keys().cloned());
    let plan = Plan {
        services: services.clone(),
        stack: identity(stack),
        action,
        template: Arc::new(prepared.template),
        params: prepared.params,
        files: stack.files.clone(),
        hooks: Arc::new(hooks),
    };
    let timeout = stack
        .timeout_mins
        .filter(|m| *m > 0)
        .map(|m| Duration::from_secs(m as u64 * 60));
    let result = match timeout {
        Some(t) => match tokio::time::timeout(t, converge(plan)).await {
            Ok(r) => r,
            Err(_) => {
                // The resources cut off mid-action (nested ones too) fail with the stack.
                if let Err(e) =
                    super::stack_control::fail_in_progress(&services, stack, "Timed out").await
                {
                    tracing::error!(stack_id = %stack.id, error = %e, "could not fail timed-out resources");
                }
                Err("Timed out".into())
            }
        },
        None => converge(plan).await,
    };
    let (status, reason) = match &result {
        Ok(()) => ("COMPLETE", format!("Stack {action} completed successfully")),
        Err(reason) => ("FAILED", reason.clone()),
    };
    if let Err(e) =
        events::stack_state(&services, &stack.id, &stack.name, action, status, &reason).await
    {
        tracing::error!(stack_id = %stack.id, error = %e, "could not record the stack's final state");
    }
    tracing::info!(stack = %stack.name, action, status, "stack action finished");
    result
}

/// Deletes every resource, dependents before what they depend on, and records the stack's
/// final `DELETE` state.
pub(crate) async fn delete_stack(services: &Arc<Services>, stack: &StackRow) -> Result<(), String> {
    let result = delete_all(services, stack).await;
    let (status, reason) = match &result {
        Ok(()) => (
            "COMPLETE",
            "Stack DELETE completed successfully".to_string(),
        ),
        Err(reason) => ("FAILED", reason.clone()),
    };
    if let Err(e) =
        events::stack_state(services, &stack.id, &stack.name, "DELETE", status, &reason).await
    {
        tracing::error!(stack_id = %stack.id, error = %e, "could not record the stack's final state");
    }
    result
}

async fn delete_all(services: &Arc<Services>, stack: &StackRow) -> Result<(), String> {
    let rows = services
        .store
        .stack_resources(&stack.id)
        .await
        .map_err(|e| e.to_string())?;
    let template = Template::parse(&stack.template).ok();
    let deps = template
        .as_ref()
        .map(graph::dependencies)
        .unwrap_or_default();
    // `deletion_policy: Retain` keeps the physical resource; the stack only forgets it.
    let retained: HashSet<String> = template
        .iter()
        .flat_map(|t| t.resources.iter())
        .filter(|(_, d)| d.deletion_policy() == DeletionPolicy::Retain)
        .map(|(n, _)| n.clone())
        .collect();
    let waits_for = graph::dependents(&deps);
    let nodes: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let by_name: HashMap<String, ResourceRow> =
        rows.into_iter().map(|r| (r.name.clone(), r)).collect();
    let ident = identity(stack);
    let hooks = Arc::new(breakpoints::for_stack(stack, nodes.iter().cloned()));
    scheduler::run_graph(&nodes, &waits_for, 16, |name| {
        let services = services.clone();
        let ident = ident.clone();
        let row = by_name.get(&name).cloned();
        let retain = retained.contains(&name);
        let hooks = hooks.clone();
        async move {
            let done = row
                .as_ref()
                .is_none_or(|r| r.action == "DELETE" && r.status == "COMPLETE");
            if !done {
                breakpoints::pause(&services, &ident, &name, hooks.get(&name), "pre-delete")
                    .await?;
            }
            match row {
                Some(row) if retain && !(row.action == "DELETE" && row.status == "COMPLETE") => {
                    events::resource_state(
                        &services,
                        &ident.id,
                        &row.name,
                        &row.resource_type,
                        &row.physical_id,
                        "DELETE",
                        "COMPLETE",
                        "state changed",
                    )
                    .await
                    .map_err(|e| e.to_string())
                }
                Some(row) if !(row.action == "DELETE" && row.status == "COMPLETE") => {
                    let result = delete_physical(&services, &ident, &row, false).await;
                    let (status, reason) = match &result {
                        Ok(()) => ("COMPLETE", "state changed".to_string()),
                        Err(reason) => ("FAILED", reason.clone()),
                    };
                    services
                        .store
                        .set_resource_state(&ident.id, &row.name, "DELETE", status, &reason)
                        .await
                        .map_err(|e| e.to_string())?;
                    result
                }
                _ => Ok(()),
            }
        }
    })
    .await
    .map_err(|f| f.reason)
}

/// The stack's outputs, resolved from persisted attributes; errors are reported per output
/// (`output_error`) without failing the whole list.
pub(crate) async fn stack_outputs(
    services: &Services,
    stack: &StackRow,
) -> Result<Vec<Value>, EngineError> {
    let (template, params) = stored_definition(stack)?;
    let rows = services.store.stack_resources(&stack.id).await?;
    let view = StackView::new(identity(stack), params, &template, &rows).with_files(&stack.files);
    Ok(template
        .outputs
        .iter()
        .map(|(key, def)| {
            let path = format!("outputs.{key}.value");
            match functions::resolve(&def.value, template.version, &view, &path) {
                Ok(value) => {
                    json!({"output_key": key, "description": def.description, "output_value": value})
                }
                Err(e) => json!({
                    "output_key": key, "description": def.description,
                    "output_value": null, "output_error": e.to_string(),
                }),
            }
        })
        .collect())
}
