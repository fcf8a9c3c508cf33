//! Create and update: brings a stack's resources to a template, in dependency order.
//!
//! Create is an update from an empty stack. Per resource: absent or failed → create;
//! unchanged properties → nothing; only `update_allowed` properties changed → update in
//! place; otherwise → replace (the new one is created first, the old one deleted at the end).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::engine::breakpoints;
use crate::engine::events;
use crate::engine::graph;
use crate::engine::scheduler::run_graph;
use crate::engine::services::Services;
use crate::engine::stack_view::{ResourceState, StackView};
use crate::resources::properties;
use crate::resources::{ResourceContext, ResourceError, ResourceType, StackIdentity, UpdateKind};
use crate::store::{ResourceRow, now_timestamp};
use crate::template::functions;
use crate::template::{ResourceDefinition, Template, TemplateError};

/// How many resources of one stack act at once.
const CONCURRENCY: usize = 16;

/// Everything one create/update run needs.
#[derive(Clone)]
pub struct Plan {
    /// Shared services.
    pub services: Arc<Services>,
    /// The stack.
    pub stack: StackIdentity,
    /// `CREATE` or `UPDATE`.
    pub action: &'static str,
    /// The template to converge to.
    pub template: Arc<Template>,
    /// Resolved parameters.
    pub params: Map<String, Value>,
    /// The stack's `files` map.
    pub files: Value,
    /// Breakpoints by resource name (the environment's registry `hooks`).
    pub hooks: Arc<HashMap<String, Vec<String>>>,
}

/// Runs the plan. `Err` carries the stack status reason.
pub async fn converge(plan: Plan) -> Result<(), String> {
    let store = &plan.services.store;
    let rows = store
        .stack_resources(&plan.stack.id)
        .await
        .map_err(|e| e.to_string())?;
    let existing: HashMap<String, ResourceRow> =
        rows.iter().map(|r| (r.name.clone(), r.clone())).collect();
    let view = Arc::new(Mutex::new(
        StackView::new(
            plan.stack.clone(),
            plan.params.clone(),
            &plan.template,
            &rows,
        )
        .with_files(&plan.files),
    ));
    let replaced: Arc<Mutex<Vec<ResourceRow>>> = Arc::default();
    let deps = graph::dependencies(&plan.template);
    let nodes: Vec<String> = plan.template.resources.keys().cloned().collect();

    let outcome = run_graph(&nodes, &deps, CONCURRENCY, |name| {
        let plan = plan.clone();
        let view = view.clone();
        let replaced = replaced.clone();
        let current = existing.get(&name).cloned();
        async move { converge_one(&plan, &name, current, &view, &replaced).await }
    })
    .await;

    if let Err(failure) = outcome {
        for name in &failure.stopped {
            let reason = format!(
                "{} stopped because resources.{} failed",
                plan.action, failure.node
            );
            let _ = store
                .set_resource_state(&plan.stack.id, name, plan.action, "FAILED", &reason)
                .await;
        }
        return Err(format!(
            "Resource {} failed: {}",
            plan.action, failure.reason
        ));
    }

    // Clean up what the template no longer has, newest first, then replaced resources.
    let mut obsolete: Vec<&ResourceRow> = rows
        .iter()
        .filter(|r| !plan.template.resources.contains_key(&r.name))
        .collect();
    obsolete.reverse();
    for row in obsolete {
        delete_physical(&plan.services, &plan.stack, row, true).await?;
    }
    let replaced = std::mem::take(&mut *replaced.lock().unwrap_or_else(|p| p.into_inner()));
    for row in replaced.iter().rev() {
        delete_physical(&plan.services, &plan.stack, row, false).await?;
    }
    Ok(())
}

/// Resolves and validates a resource's properties against the current view.
pub(crate) fn resolve_properties(
    rtype: &dyn ResourceType,
    def: &ResourceDefinition,
    template: &Template,
    view: &StackView,
) -> Result<Map<String, Value>, TemplateError> {
    let path = format!("resources.{}.properties", def.name);
    let resolved = functions::resolve(&def.properties, template.version, view, &path)?;
    let props = properties::validate_for(rtype, &resolved, &path, &|_| false)?;
    rtype.validate(&props, &path)?;
    Ok(props)
}

/// The resource's `update_policy`, resolved against the stack (null when absent or when it
/// does not resolve: groups then use their defaults).
fn update_policy(def: &ResourceDefinition, template: &Template, view: &Mutex<StackView>) -> Value {
    if def.update_policy.is_null() {
        return Value::Null;
    }
    let guard = view.lock().unwrap_or_else(|p| p.into_inner());
    let path = format!("resources.{}.update_policy", def.name);
    functions::resolve(&def.update_policy, template.version, &*guard, &path).unwrap_or(Value::Null)
}

/// What converge does to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Carry on the action a restart interrupted.
    Resume,
    /// Create it (new, failed, never created, deleted, or its type changed; a stored
    /// physical resource is then replaced).
    Create,
    /// Leave it alone.
    Nothing,
    /// Update in place.
    Update,
    /// Create a replacement, delete the old one at the end.
    Replace,
}

/// The one rule for what converge does to resource `def`, stored as `current`, whose new
/// properties resolved to `props` (`None`: they did not resolve). The update preview uses it
/// too.
pub fn step(
    rtype: &dyn ResourceType,
    def: &ResourceDefinition,
    current: Option<&ResourceRow>,
    props: Option<&Map<String, Value>>,
) -> Step {
    let Some(row) = current.filter(|r| r.resource_type == def.resource_type) else {
        return Step::Create;
    };
    if row.status == "IN_PROGRESS" && (row.action == "CREATE" || row.action == "UPDATE") {
        return Step::Resume;
    }
    let usable = row.status == "COMPLETE" && row.action != "INIT" && row.action != "DELETE";
    let (true, Some(props)) = (usable, props) else {
        return Step::Create;
    };
    let changed = properties::changed(&row.properties, props);
    if changed.is_empty() && !rtype.always_update() {
        return Step::Nothing;
    }
    match rtype.update_kind(&changed, &row.properties, props) {
        UpdateKind::Unchanged => Step::Nothing,
        UpdateKind::InPlace => Step::Update,
        UpdateKind::Replace => Step::Replace,
    }
}

/// Publishes the resolved template `metadata` of a server resource in its metadata
/// document ([`crate::engine::server_metadata::set_template_metadata`]), before the
/// resource shows COMPLETE, so cfn-init run after that sees it. Only resources with
/// `metadata`, and DeployedServers (whose metadata may have been removed), are looked at,
/// so other resources cost no read.
async fn sync_template_metadata(
    plan: &Plan,
    def: &ResourceDefinition,
    physical_id: &str,
    view: &Mutex<StackView>,
) -> Result<(), String> {
    if physical_id.is_empty()
        || (def.metadata.is_null() && def.resource_type != "OS::Heat::DeployedServer")
    {
        return Ok(());
    }
    let path = format!("resources.{}.metadata", def.name);
    let metadata = {
        let guard = view.lock().unwrap_or_else(|p| p.into_inner());
        functions::resolve(&def.metadata, plan.template.version, &*guard, &path)
            .map_err(|e| format!("{}: {}", e.kind.heat_type(), e))?
    };
    crate::engine::server_metadata::set_template_metadata(&plan.services, physical_id, &metadata)
        .await
        .map_err(|e| e.to_string())
}

/// Heat's resource failure reason: `<ExceptionType>: resources.<name>: <message>`.
pub fn failure_reason(name: &str, err: &ResourceError) -> String {
    if let ResourceError::Nested(reason) = err
        && let Some(inner) = nested_failure(reason)
    {
        // Heat names the failing resource by its path through the nested stacks.
        return format!("{}: resources.{name}.resources.{}", inner.0, inner.1);
    }
    format!("{}: resources.{}: {}", err.heat_type(), name, err)
}

/// `Resource <ACTION> failed: <Type>: resources.<rest>` → (`<Type>`, `<rest>`).
fn nested_failure(reason: &str) -> Option<(&str, &str)> {
    let rest = reason.strip_prefix("Resource ")?;
    let (action, rest) = rest.split_once(" failed: ")?;
    if action.is_empty() || !action.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return None;
    }
    let (kind, path) = rest.split_once(": resources.")?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    (!kind.is_empty() && kind.chars().all(plain)).then_some((kind, path))
}

async fn converge_one(
    plan: &Plan,
    name: &str,
    current: Option<ResourceRow>,
    view: &Mutex<StackView>,
    replaced: &Mutex<Vec<ResourceRow>>,
) -> Result<(), String> {
    let services = &plan.services;
    let def = plan
        .template
        .resources
        .get(name)
        .ok_or_else(|| format!("resource {name} vanished from the template"))?;
    let rtype = services.registry.get(&def.resource_type).ok_or_else(|| {
        format!(
            "The Resource Type ({}) could not be found.",
            def.resource_type
        )
    })?;
    // Resolved under the lock rather than on a copy: copying the view for every resource
    // made wide stacks quadratic.
    let props = {
        let guard = view.lock().unwrap_or_else(|p| p.into_inner());
        resolve_properties(rtype.as_ref(), def, &plan.template, &guard)
    };

    // The server stopped while this resource was mid-action: resume that action with the
    // stored row (its recorded physical id and intent) instead of starting over.
    let action = match step(rtype.as_ref(), def, current.as_ref(), props.as_ref().ok()) {
        // The server stopped while this resource was mid-action: resume that action with
        // the stored row (its recorded physical id and intent) instead of starting over.
        Step::Resume => {
            let Some(row) = current.clone() else {
                return Ok(());
            };
            return resume_one(plan, name, def, rtype.as_ref(), row, props, view).await;
        }
        Step::Nothing => {
            // Properties unchanged; the template `metadata` may still have changed.
            if let Some(row) = &current {
                sync_template_metadata(plan, def, &row.physical_id, view).await?;
            }
            return Ok(());
        }
        Step::Update => match (&current, &props) {
            (Some(row), Ok(p)) => match rtype.replaces_on_update(services, row, p).await {
                Ok(true) => "REPLACE",
                Ok(false) => "UPDATE",
                Err(e) => {
                    let reason = failure_reason(name, &e);
                    fail(
                        services,
                        &plan.stack.id,
                        name,
                        def,
                        &row.physical_id,
                        "UPDATE",
                        &reason,
                    )
                    .await;
                    return Err(reason);
                }
            },
            _ => "UPDATE",
        },
        Step::Replace => "REPLACE",
        Step::Create => "CREATE",
    };
    let mut ctx = ResourceContext::new(services, &plan.stack, name);
    ctx.update_policy = update_policy(def, &plan.template, view);
    if action == "CREATE" {
        ctx.adopting = current
            .as_ref()
            .and_then(crate::engine::abandon::nested_adopt_data)
            .cloned();
    }
    let row_action = if action == "UPDATE" {
        "UPDATE"
    } else {
        "CREATE"
    };
    let base = match (action, &current) {
        ("UPDATE", Some(row)) => row.clone(),
        _ => crate::engine::lifecycle::init_row(&plan.stack.id, name, &def.resource_type),
    };
    if (action == "REPLACE"
        || (action == "CREATE" && current.as_ref().is_some_and(|r| !r.physical_id.is_empty())))
        && let Some(old) = current.clone()
    {
        replaced.lock().unwrap_or_else(|p| p.into_inner()).push(old);
    }
    let mut row = base;
    let pre = if row_action == "UPDATE" {
        "pre-update"
    } else {
        "pre-create"
    };
    breakpoints::pause(services, &plan.stack, name, plan.hooks.get(name), pre).await?;
    row.action = row_action.into();
    row.status = "IN_PROGRESS".into();
    row.status_reason = "state changed".into();
    events::put_resource(services, &row)
        .await
        .map_err(|e| e.to_string())?;

    let props = match props {
        Ok(p) => p,
        Err(e) => {
            let reason = format!("{}: {}", e.kind.heat_type(), e);
            fail(
                services,
                &plan.stack.id,
                name,
                def,
                &row.physical_id,
                row_action,
                &reason,
            )
            .await;
            return Err(reason);
        }
    };
    let result = if row_action == "UPDATE" {
        rtype.update(&ctx, &row, &props).await
    } else {
        rtype.create(&ctx, &props).await
    };
    finish(plan, name, def, row, row_action, props, result, view).await
}

/// Finishes an action that an earlier server process started: no new IN_PROGRESS row or
/// event, and the handler sees the interrupted row (`ResourceContext::resuming`).
async fn resume_one(
    plan: &Plan,
    name: &str,
    def: &ResourceDefinition,
    rtype: &dyn ResourceType,
    row: ResourceRow,
    props: Result<Map<String, Value>, TemplateError>,
    view: &Mutex<StackView>,
) -> Result<(), String> {
    let services = &plan.services;
    let action = row.action.clone();
    tracing::info!(stack = %plan.stack.name, resource = name, action = %action, "resuming an interrupted resource action");
    let props = match props {
        Ok(p) => p,
        Err(e) => {
            let reason = format!("{}: {}", e.kind.heat_type(), e);
            fail(
                services,
                &plan.stack.id,
                name,
                def,
                &row.physical_id,
                &action,
                &reason,
            )
            .await;
            return Err(reason);
        }
    };
    let mut ctx = ResourceContext::new(services, &plan.stack, name);
    ctx.resuming = Some(row.clone());
    ctx.update_policy = update_policy(def, &plan.template, view);
    let result = if action == "UPDATE" {
        rtype.update(&ctx, &row, &props).await
    } else {
        rtype.create(&ctx, &props).await
    };
    finish(plan, name, def, row, &action, props, result, view).await
}

/// Persists the outcome of a resource action (COMPLETE with its attributes, or FAILED).
#[allow(clippy::too_many_arguments)]
async fn finish(
    plan: &Plan,
    name: &str,
    def: &ResourceDefinition,
    mut row: ResourceRow,
    action: &str,
    props: Map<String, Value>,
    result: Result<crate::resources::ResourceOutcome, ResourceError>,
    view: &Mutex<StackView>,
) -> Result<(), String> {
    let services = &plan.services;
    match result {
        Ok(outcome) => {
            if let Err(reason) = sync_template_metadata(plan, def, &outcome.physical_id, view).await
            {
                fail(
                    services,
                    &plan.stack.id,
                    name,
                    def,
                    &outcome.physical_id,
                    action,
                    &reason,
                )
                .await;
                return Err(reason);
            }
            row.physical_id = outcome.physical_id;
            row.reference_id = outcome.reference_id;
            row.attributes = outcome.attributes;
            row.data = outcome.data;
            row.properties = Value::Object(props);
            row.action = action.to_string();
            row.status = "COMPLETE".into();
            row.status_reason = "state changed".into();
            row.updated_at = Some(now_timestamp());
            events::put_resource(services, &row)
                .await
                .map_err(|e| e.to_string())?;
            view.lock()
                .unwrap_or_else(|p| p.into_inner())
                .resources
                .insert(name.to_string(), ResourceState::from_row(&row));
            let post = format!("post-{}", action.to_lowercase());
            breakpoints::pause(services, &plan.stack, name, plan.hooks.get(name), &post).await
        }
        Err(e) => {
            let reason = failure_reason(name, &e);
            // Keep what the handler recorded early (e.g. a deployment id) on the row.
            let physical = services
                .store
                .resource(&plan.stack.id, name)
                .await
                .ok()
                .flatten()
                .map(|r| r.physical_id)
                .unwrap_or_default();
            fail(
                services,
                &plan.stack.id,
                name,
                def,
                &physical,
                action,
                &reason,
            )
            .await;
            Err(reason)
        }
    }
}

async fn fail(
    services: &Services,
    stack_id: &str,
    name: &str,
    def: &ResourceDefinition,
    physical_id: &str,
    action: &str,
    reason: &str,
) {
    if let Err(e) = events::resource_state(
        services,
        stack_id,
        name,
        &def.resource_type,
        physical_id,
        action,
        "FAILED",
        reason,
    )
    .await
    {
        tracing::error!(stack_id, resource = name, error = %e, "could not record a resource failure");
    }
}

/// Deletes a resource's physical object, recording DELETE events. With `remove_row`, the
/// row goes too (the resource left the template); otherwise the row already belongs to a
/// replacement and is left alone.
pub async fn delete_physical(
    services: &Arc<Services>,
    stack: &StackIdentity,
    row: &ResourceRow,
    remove_row: bool,
) -> Result<(), String> {
    let Some(rtype) = services.registry.get(&row.resource_type) else {
        return Ok(());
    };
    let ctx = ResourceContext::new(services, stack, &row.name);
    let record = |status: &'static str, reason: String| async move {
        let r = if remove_row {
            events::resource_state(
                services,
                &stack.id,
                &row.name,
                &row.resource_type,
                &row.physical_id,
                "DELETE",
                status,
                &reason,
            )
            .await
        } else {
            events::event(
                services,
                &stack.id,
                &row.name,
                &row.resource_type,
                &row.physical_id,
                "DELETE",
                status,
                &reason,
            )
            .await
        };
        r.map_err(|e| e.to_string())
    };
    record("IN_PROGRESS", "state changed".into()).await?;
    match rtype.delete(&ctx, row).await {
        Ok(()) => {
            record("COMPLETE", "state changed".into()).await?;
            if remove_row {
                services
                    .store
                    .delete_resource(&stack.id, &row.name)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Err(e) => {
            let reason = failure_reason(&row.name, &e);
            record("FAILED", reason.clone()).await?;
            Err(format!("Resource DELETE failed: {reason}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_failure_is_named_by_its_path() {
        let nested = ResourceError::Nested(
            "Resource CREATE failed: ValueError: resources.oops: Test Resource failed oops".into(),
        );
        assert_eq!(
            failure_reason("victim", &nested),
            "ValueError: resources.victim.resources.oops: Test Resource failed oops"
        );
        // Any other nested reason (a timeout, say) is kept whole under the owner.
        let timed_out = ResourceError::Nested("Timed out".into());
        assert_eq!(
            failure_reason("victim", &timed_out),
            "Error: resources.victim: Timed out"
        );
        let plain = ResourceError::Failed("boom".into());
        assert_eq!(failure_reason("x", &plain), "Error: resources.x: boom");
    }
}
