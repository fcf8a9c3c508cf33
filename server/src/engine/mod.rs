//! The orchestration engine: validates stack requests, runs create/update/delete in
//! dependency order in background tasks, routes signals, and resolves outputs.
//!
//! Architecture invariant: every state change is persisted (with an event) before the next
//! step acts on it; handlers in `api/` only parse, authorise and call [`Engine`].

pub mod abandon;
pub mod breakpoints;
pub mod bus;
pub mod converge;
pub mod events;
pub mod graph;
mod leases;
pub(crate) mod lifecycle;
pub mod nested;
pub mod notifier;
pub mod patch;
pub mod preview;
pub mod scheduler;
pub mod server_metadata;
pub mod services;
pub mod snapshots;
pub mod stack_actions;
mod stack_control;

pub use stack_control::StackAction;
pub mod stack_view;
pub mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use crate::resources::{ResourceContext, ResourceError};
use crate::store::{StackRow, StoreError, now_timestamp};
use crate::template::{TemplateError, TemplateErrors, parameters};
use lifecycle::{Prepared, identity, stored_definition};
use services::Services;

/// Why an engine call was refused.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The template, environment or parameters are wrong (every problem found).
    #[error(transparent)]
    Template(#[from] TemplateErrors),
    /// Something named does not exist (`type`, `message`).
    #[error("{1}")]
    NotFound(&'static str, String),
    /// A conflict such as an existing stack name (`type`, `message`).
    #[error("{1}")]
    Conflict(&'static str, String),
    /// A request that cannot be acted on (`type`, `message`).
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TemplateError> for EngineError {
    fn from(e: TemplateError) -> Self {
        EngineError::Template(e.into())
    }
}

/// A stack as requested: what create and update take.
#[derive(Debug, Clone, Default)]
pub struct StackRequest {
    /// Template document.
    pub template: Value,
    /// Request `parameters`.
    pub parameters: Map<String, Value>,
    /// Environment (map or text).
    pub environment: Value,
    /// Files map.
    pub files: Value,
    /// Action timeout.
    pub timeout_mins: Option<i64>,
    /// Whether failure leaves the stack as is (Heat's default: true).
    pub disable_rollback: bool,
    /// The stack's tags; on update `None` clears them (a PATCH keeps the stack's own).
    pub tags: Option<Vec<String>>,
}

/// The engine handle shared by the API.
#[derive(Clone)]
pub struct Engine {
    services: Arc<Services>,
    running: Arc<Mutex<HashMap<String, JoinHandle<()>>>>,
}

fn prepare(services: &Services, request: &StackRequest) -> Result<Prepared, EngineError> {
    let checked = validate::check_stack(&services.registry, request, validate::Values::Required)?;
    Ok(Prepared {
        template: checked.template,
        params: checked.params,
        environment: checked.environment.stored,
    })
}

impl Engine {
    /// An engine over `services`.
    pub fn new(services: Arc<Services>) -> Self {
        Engine {
            services,
            running: Arc::default(),
        }
    }

    /// The shared services.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Validates and stores a new stack, then creates it in the background.
    pub async fn create_stack(
        &self,
        project: &str,
        name: &str,
        request: StackRequest,
    ) -> Result<StackRow, EngineError> {
        self.create_stack_adopting(project, name, request, None)
            .await
    }

    /// [`Engine::create_stack`], or with `adopted` (the `resources` of Heat's abandon data)
    /// Heat's adopt: the stack action is `ADOPT` and the resources found there take over
    /// their physical resources instead of creating them (`engine/abandon.rs`).
    pub(crate) async fn create_stack_adopting(
        &self,
        project: &str,
        name: &str,
        request: StackRequest,
        adopted: Option<&Map<String, Value>>,
    ) -> Result<StackRow, EngineError> {
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.len() <= 255
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid_name {
            return Err(EngineError::BadRequest(
                "StackValidationFailed",
                format!(
                    "Invalid stack name {name} must contain only alphanumeric or \"_-.\" characters, must start with alpha and must be 255 characters or less."
                ),
            ));
        }
        let prepared = prepare(&self.services, &request)?;
        self.check_resource_limit(prepared.template.resources.len())?;
        let store = &self.services.store;
        if store.stack_by_name(project, name).await?.is_some() {
            return Err(EngineError::Conflict(
                "StackExists",
                format!("The Stack ({name}) already exists."),
            ));
        }
        let action = if adopted.is_some() { "ADOPT" } else { "CREATE" };
        let stack = StackRow {
            id: uuid::Uuid::new_v4().to_string(),
            project: project.to_string(),
            name: name.to_string(),
            action: action.into(),
            status: "IN_PROGRESS".into(),
            status_reason: format!("Stack {action} started"),
            template: request.template.clone(),
            environment: prepared.environment.clone(),
            files: request.files.clone(),
            parameters: request.parameters.clone(),
            disable_rollback: request.disable_rollback,
            timeout_mins: request.timeout_mins,
            created_at: now_timestamp(),
            updated_at: None,
            deleted_at: None,
            tags: request.tags.clone(),
            ..Default::default()
        };
        match adopted {
            Some(resources) => {
                abandon::insert_adopted_stack(&self.services, &stack, &prepared.template, resources)
                    .await?
            }
            None => lifecycle::insert_new_stack(&self.services, &stack, &prepared.template).await?,
        }
        self.claim(&stack.id).await?;
        self.services
            .store
            .add_resource_total(&stack.id, prepared.template.resources.len() as i64)
            .await?;
        self.spawn_converge(&stack, action, prepared);
        Ok(stack)
    }

    /// Heat's `max_resources_per_stack` for a stack's own resources (nested stacks add to
    /// the tree's count as they are created).
    fn check_resource_limit(&self, count: usize) -> Result<(), EngineError> {
        let max = self.services.limits.max_resources_per_stack;
        if max >= 0 && count as i64 > max {
            return Err(EngineError::BadRequest(
                "RequestLimitExceeded",
                "Request limit exceeded: Maximum resources per stack exceeded.".into(),
            ));
        }
        Ok(())
    }

    /// Replaces the stack's template and parameters (PUT) and converges to them.
    pub async fn update_stack(
        &self,
        stack: &StackRow,
        request: StackRequest,
    ) -> Result<(), EngineError> {
        self.update_stack_as(stack, request, "UPDATE").await
    }

    /// An update recorded as the stack action `action` (`UPDATE`, or `RESTORE` from a
    /// snapshot, which does not check `immutable` parameters: it returns to old values).
    pub(crate) async fn update_stack_as(
        &self,
        stack: &StackRow,
        request: StackRequest,
        action: &'static str,
    ) -> Result<(), EngineError> {
        // Heat's order: suspended and deleting stacks are refused before anything else.
        for (action, word) in [("SUSPEND", "suspended"), ("DELETE", "deleting")] {
            if stack.action == action {
                return Err(EngineError::BadRequest(
                    "NotSupported",
                    format!("Updating a stack when it is {word} is not supported."),
                ));
            }
        }
        // Heat's convergence engine would let this update supersede the running one; here
        // it waits its turn, as Heat's legacy engine had it (cancel_update first to force).
        if stack.status == "IN_PROGRESS" {
            return Err(EngineError::Conflict(
                "ActionInProgress",
                format!(
                    "Stack {} already has an action ({}) in progress.",
                    stack.name, stack.action
                ),
            ));
        }
        let prepared = prepare(&self.services, &request)?;
        self.check_resource_limit(prepared.template.resources.len())?;
        // Heat compares with the values the stack has now; a stack whose stored definition
        // no longer resolves has nothing to compare with.
        if action == "UPDATE"
            && let Ok((_, old_values)) = stored_definition(stack)
        {
            validate::check_immutable(&prepared.template, &old_values, &prepared.params)?;
        }
        let mut updated = stack.clone();
        updated.template = request.template;
        updated.environment = prepared.environment.clone();
        updated.files = request.files;
        updated.parameters = request.parameters;
        updated.timeout_mins = request.timeout_mins.or(stack.timeout_mins);
        updated.disable_rollback = request.disable_rollback;
        updated.tags = request.tags;
        updated.previous = Some(json!({
            "template": stack.template, "environment": stack.environment,
            "files": stack.files, "parameters": stack.parameters,
        }));
        self.check_restricted(stack, &updated, &prepared).await?;
        self.claim(&stack.id).await?;
        self.services.store.set_stack_definition(&updated).await?;
        let before = self.services.store.stack_resources(&stack.id).await?.len() as i64;
        self.services
            .store
            .add_resource_total(&stack.id, prepared.template.resources.len() as i64 - before)
            .await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            action,
            "IN_PROGRESS",
            &format!("Stack {action} started"),
        )
        .await?;
        self.spawn_converge(&updated, action, prepared);
        Ok(())
    }

    /// Runs `action` in the background; a failed create or update is rolled back when the
    /// stack allows it (`disable_rollback: false`).
    fn spawn_converge(&self, stack: &StackRow, action: &'static str, prepared: Prepared) {
        let services = self.services.clone();
        let stack = stack.clone();
        self.spawn(&stack.id.clone(), async move {
            let failed = lifecycle::run_action(services.clone(), &stack, action, prepared)
                .await
                .is_err();
            if failed
                && !stack.disable_rollback
                && matches!(action, "CREATE" | "UPDATE")
                && let Err(e) = stack_control::rollback(&services, &stack).await
            {
                tracing::error!(stack = %stack.name, error = %e, "could not roll back");
            }
        });
    }

    /// Runs `work` as the stack's one background action, stopping any earlier one. The
    /// caller holds the stack's lease (`claim`, before the stack shows `IN_PROGRESS`).
    fn spawn(&self, stack_id: &str, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work);
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = running.insert(stack_id.to_string(), handle) {
            old.abort();
        }
    }

    /// Stops the stack's background action, if any, and waits until it has stopped.
    async fn stop(&self, stack_id: &str) {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(stack_id);
        if let Some(handle) = handle {
            handle.abort();
            let _ = handle.await;
        }
    }

    /// Deletes the stack in the background, pre-empting any action in flight.
    pub async fn delete_stack(&self, stack: &StackRow) -> Result<(), EngineError> {
        if stack.deleted_at.is_some() {
            return Err(EngineError::NotFound(
                "EntityNotFound",
                format!("The Stack ({}) could not be found.", stack.name),
            ));
        }
        self.claim(&stack.id).await?;
        // As Heat, a stack's snapshots go when its delete starts.
        self.services
            .store
            .delete_stack_snapshots(&stack.id)
            .await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            "DELETE",
            "IN_PROGRESS",
            "Stack DELETE started",
        )
        .await?;
        self.spawn_delete(stack);
        Ok(())
    }

    fn spawn_delete(&self, stack: &StackRow) {
        let services = self.services.clone();
        let stack = stack.clone();
        self.spawn(&stack.id.clone(), async move {
            let _ = lifecycle::delete_stack(&services, &stack).await;
        });
    }

    /// Delivers a signal to a resource (native API). Returns nothing: like Heat, the
    /// caller only learns whether the resource takes signals.
    pub async fn signal_resource(
        &self,
        stack: &StackRow,
        resource: &str,
        body: Value,
    ) -> Result<(), EngineError> {
        let store = &self.services.store;
        let row = store.resource(&stack.id, resource).await?.ok_or_else(|| {
            EngineError::NotFound(
                "ResourceNotFound",
                format!(
                    "The Resource ({resource}) could not be found in Stack {}.",
                    stack.name
                ),
            )
        })?;
        let rtype = self
            .services
            .registry
            .get(&row.resource_type)
            .ok_or_else(|| {
                EngineError::BadRequest(
                    "ResourceTypeUnavailable",
                    format!(
                        "The Resource Type ({}) is not available.",
                        row.resource_type
                    ),
                )
            })?;
        if let Some(hook) = body.get("unset_hook") {
            let hook = hook.as_str().unwrap_or_default();
            return breakpoints::unset(&self.services, &stack.id, resource, hook)
                .await
                .map_err(|e| match e {
                    breakpoints::UnsetError::Store(e) => e.into(),
                    other => EngineError::BadRequest("InvalidBreakPointHook", other.to_string()),
                });
        }
        let ident = identity(stack);
        let ctx = ResourceContext::new(&self.services, &ident, resource);
        let details = body.clone();
        let reason = match rtype.signal(&ctx, &row, body).await {
            Ok(r) => events::signal_reason(&r, &details),
            Err(ResourceError::SignalNotSupported) => {
                return Err(EngineError::BadRequest(
                    "ResourceActionNotSupported",
                    "signal is not supported for resource.".into(),
                ));
            }
            // Heat records no event for an ignored signal.
            Err(ResourceError::NoActionRequired(why)) => {
                tracing::info!(stack = %stack.name, resource, reason = %why, "signal ignored");
                return Ok(());
            }
            Err(ResourceError::ActionInProgress(m)) => {
                return Err(EngineError::Conflict("ActionInProgress", m));
            }
            Err(ResourceError::Raised {
                heat_type: "ResourceNotAvailable",
                message,
            }) => {
                return Err(EngineError::NotFound("ResourceNotAvailable", message));
            }
            Err(ResourceError::Store(e)) => return Err(e.into()),
            Err(e) => return Err(EngineError::BadRequest("Error", e.to_string())),
        };
        events::event(
            &self.services,
            &stack.id,
            resource,
            &row.resource_type,
            &row.physical_id,
            "SIGNAL",
            &row.status,
            &reason,
        )
        .await?;
        Ok(())
    }

    /// Delivers a signal that arrived at a deployment's capability URL.
    pub async fn signal_deployment(
        &self,
        deployment_id: &str,
        body: Value,
    ) -> Result<(), EngineError> {
        let store = &self.services.store;
        if let Some(row) = store.resource_by_physical_id(deployment_id).await?
            && let Some(stack) = store.stack(&row.stack_id).await?
        {
            return self.signal_resource(&stack, &row.name, body).await;
        }
        match crate::resources::heat::software_deployment::apply_signal(
            &self.services,
            deployment_id,
            &body,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(ResourceError::Store(e)) => Err(e.into()),
            Err(e) => Err(EngineError::NotFound("NotFound", e.to_string())),
        }
    }

    /// The stack's outputs, resolved from persisted attributes; errors are reported per
    /// output (`output_error`) without failing the whole show.
    pub async fn outputs(&self, stack: &StackRow) -> Result<Vec<Value>, EngineError> {
        lifecycle::stack_outputs(&self.services, stack).await
    }

    /// The stack's parameters as Heat shows them (stringified, hidden ones masked).
    pub fn display_parameters(&self, stack: &StackRow) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("OS::stack_id".into(), json!(stack.id));
        out.insert("OS::stack_name".into(), json!(stack.name));
        out.insert("OS::project_id".into(), json!(stack.project));
        if let Ok((template, params)) = stored_definition(stack) {
            for (name, decl) in &template.parameters {
                if let Some(v) = params.get(name) {
                    out.insert(name.clone(), parameters::display_value(decl, v));
                }
            }
        }
        out
    }
}
