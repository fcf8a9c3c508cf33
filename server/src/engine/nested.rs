//! Nested stacks, run inline by the resource that owns them (ResourceGroup, ResourceChain,
//! `OS::Heat::Stack`, `AWS::CloudFormation::Stack`, provider templates).
//!
//! A nested stack is a real stack row (so the API can show it and agents can signal its
//! resources by path) whose action runs inside the owner resource's own task: no RPC, no
//! polling, and a crash resumes it through the owner (whose physical id is the child's id).
//! Depth and the tree's resource count are checked in O(1) from the child's `nested_depth`
//! and the root's maintained `resource_total`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::lifecycle::{self, Prepared};
use super::{StackRequest, abandon, events, validate};
use crate::resources::{ResourceContext, ResourceError};
use crate::store::{ResourceRow, StackRow, now_timestamp};

/// What a nested stack is made of.
#[derive(Debug, Clone)]
pub struct NestedDefinition {
    /// The template document.
    pub template: Value,
    /// Parameter values.
    pub parameters: Map<String, Value>,
    /// The environment (usually the owner's, so registry and `parameter_defaults` carry on).
    pub environment: Value,
    /// The files map (usually the owner's).
    pub files: Value,
    /// The nested stack's timeout in minutes (`None`: the owner's).
    pub timeout_mins: Option<i64>,
}

/// A nested stack after its action: the row and its resources.
#[derive(Debug, Clone)]
pub struct NestedState {
    /// The nested stack.
    pub stack: StackRow,
    /// Its resources.
    pub rows: Vec<ResourceRow>,
}

fn failed(message: impl Into<String>) -> ResourceError {
    ResourceError::Failed(message.into())
}

/// The stack owning `ctx`'s resource.
pub async fn owner(ctx: &ResourceContext<'_>) -> Result<StackRow, ResourceError> {
    ctx.services
        .store
        .stack(&ctx.stack.id)
        .await?
        .ok_or_else(|| {
            failed(format!(
                "The Stack ({}) could not be found.",
                ctx.stack.name
            ))
        })
}

fn check(ctx: &ResourceContext<'_>, def: &NestedDefinition) -> Result<Prepared, ResourceError> {
    let request = StackRequest {
        template: def.template.clone(),
        parameters: def.parameters.clone(),
        environment: def.environment.clone(),
        files: def.files.clone(),
        timeout_mins: None,
        disable_rollback: true,
        tags: None,
    };
    let checked =
        validate::check_stack(&ctx.services.registry, &request, validate::Values::Required)
            .map_err(|e| failed(e.to_string()))?;
    Ok(Prepared {
        template: checked.template,
        params: checked.params,
        environment: checked.environment.stored,
    })
}

/// Adds `delta` resources to the tree's count, refusing (and undoing) past the limit.
async fn count_resources(
    ctx: &ResourceContext<'_>,
    root: &str,
    delta: i64,
) -> Result<(), ResourceError> {
    let store = &ctx.services.store;
    let total = store.add_resource_total(root, delta).await?;
    let max = ctx.services.limits.max_resources_per_stack;
    if delta > 0 && max >= 0 && total > max {
        store.add_resource_total(root, -delta).await?;
        return Err(failed("Maximum resources per stack exceeded."));
    }
    Ok(())
}

async fn finished(
    ctx: &ResourceContext<'_>,
    stack: StackRow,
    result: Result<(), String>,
) -> Result<NestedState, ResourceError> {
    result.map_err(ResourceError::Nested)?;
    let rows = ctx.services.store.stack_resources(&stack.id).await?;
    Ok(NestedState { stack, rows })
}

/// Creates the nested stack for `ctx`'s resource and runs it to completion; adopts it
/// instead when `ctx.adopting` holds its abandon data. When the action was interrupted
/// (`ctx.resuming` names an existing child), the child is resumed.
pub async fn create(
    ctx: &ResourceContext<'_>,
    def: NestedDefinition,
) -> Result<NestedState, ResourceError> {
    let store = &ctx.services.store;
    let services = Arc::new(ctx.services.clone());
    if let Some(id) = ctx.resumed_physical_id()
        && let Some(child) = store.stack(id).await?
        && child.deleted_at.is_none()
    {
        let action = if child.action == "ADOPT" {
            "ADOPT"
        } else {
            "CREATE"
        };
        // Finished before the interruption: nothing left to do but report it.
        if child.action == action && child.status == "COMPLETE" {
            return finished(ctx, child, Ok(())).await;
        }
        let prepared = check(ctx, &def)?;
        let result = lifecycle::run_action(services, &child, action, prepared).await;
        return finished(ctx, child, result).await;
    }
    let owner = owner(ctx).await?;
    let depth = owner.nested_depth + 1;
    let max_depth = ctx.services.limits.max_nested_depth;
    if depth > max_depth {
        return Err(failed(format!("Recursion depth exceeds {max_depth}.")));
    }
    let prepared = check(ctx, &def)?;
    count_resources(ctx, owner.root(), prepared.template.resources.len() as i64).await?;
    let adopted = ctx
        .adopting
        .as_ref()
        .and_then(|data| data.get("resources"))
        .and_then(Value::as_object);
    let action = if adopted.is_some() { "ADOPT" } else { "CREATE" };
    let child = StackRow {
        id: uuid::Uuid::new_v4().to_string(),
        project: owner.project.clone(),
        name: ctx.physical_name(),
        action: action.into(),
        status: "IN_PROGRESS".into(),
        status_reason: format!("Stack {action} started"),
        template: def.template,
        environment: prepared.environment.clone(),
        files: def.files,
        parameters: def.parameters,
        disable_rollback: true,
        timeout_mins: def.timeout_mins.or(owner.timeout_mins),
        created_at: now_timestamp(),
        owner_id: Some(owner.id.clone()),
        owner_resource: Some(ctx.name.to_string()),
        root_id: Some(owner.root().to_string()),
        nested_depth: depth,
        ..Default::default()
    };
    // The owner knows its child before the child exists: a crash in between resumes it.
    ctx.set_physical_id(&child.id).await?;
    match adopted {
        Some(resources) => {
            abandon::insert_adopted_stack(ctx.services, &child, &prepared.template, resources).await
        }
        None => lifecycle::insert_new_stack(ctx.services, &child, &prepared.template).await,
    }
    .map_err(|e| failed(e.to_string()))?;
    let result = lifecycle::run_action(services, &child, action, prepared).await;
    finished(ctx, child, result).await
}

/// Brings the nested stack of `current` to `def` (an update of the child); creates it when
/// it is gone.
pub async fn update(
    ctx: &ResourceContext<'_>,
    current: &ResourceRow,
    def: NestedDefinition,
) -> Result<NestedState, ResourceError> {
    update_by_id(ctx, &current.physical_id, def).await
}

/// Brings nested stack `child_id` to `def` (creates it when it is gone).
pub async fn update_by_id(
    ctx: &ResourceContext<'_>,
    child_id: &str,
    def: NestedDefinition,
) -> Result<NestedState, ResourceError> {
    let store = &ctx.services.store;
    let child = match store.stack(child_id).await? {
        Some(child) if child.deleted_at.is_none() => child,
        _ => return create(ctx, def).await,
    };
    let prepared = check(ctx, &def)?;
    let before = store.stack_resources(&child.id).await?.len() as i64;
    if ctx.resuming.is_none() {
        count_resources(
            ctx,
            child.root(),
            prepared.template.resources.len() as i64 - before,
        )
        .await?;
    }
    let mut updated = child.clone();
    updated.template = def.template;
    updated.environment = prepared.environment.clone();
    updated.files = def.files;
    updated.parameters = def.parameters;
    if def.timeout_mins.is_some() {
        updated.timeout_mins = def.timeout_mins;
    }
    store.set_stack_definition(&updated).await?;
    events::stack_state(
        ctx.services,
        &child.id,
        &child.name,
        "UPDATE",
        "IN_PROGRESS",
        "Stack UPDATE started",
    )
    .await?;
    let services = Arc::new(ctx.services.clone());
    let result = lifecycle::run_action(services, &updated, "UPDATE", prepared).await;
    finished(ctx, updated, result).await
}

/// Deletes the nested stack of `current`, if it still exists.
pub async fn delete(ctx: &ResourceContext<'_>, current: &ResourceRow) -> Result<(), ResourceError> {
    let store = &ctx.services.store;
    let Some(child) = store.stack(&current.physical_id).await? else {
        return Ok(());
    };
    if child.deleted_at.is_some() {
        return Ok(());
    }
    let count = store.stack_resources(&child.id).await?.len() as i64;
    events::stack_state(
        ctx.services,
        &child.id,
        &child.name,
        "DELETE",
        "IN_PROGRESS",
        "Stack DELETE started",
    )
    .await?;
    let services = Arc::new(ctx.services.clone());
    lifecycle::delete_stack(&services, &child)
        .await
        .map_err(failed)?;
    store.add_resource_total(child.root(), -count).await?;
    Ok(())
}

/// The nested stack's outputs as a map (`output_key` → value; failed outputs are absent).
pub async fn outputs(
    ctx: &ResourceContext<'_>,
    stack: &StackRow,
) -> Result<Map<String, Value>, ResourceError> {
    let list = lifecycle::stack_outputs(ctx.services, stack)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(list
        .into_iter()
        .filter(|o| o.get("output_error").is_none())
        .filter_map(|o| {
            let key = o.get("output_key")?.as_str()?.to_string();
            Some((key, o.get("output_value").cloned().unwrap_or(Value::Null)))
        })
        .collect())
}
