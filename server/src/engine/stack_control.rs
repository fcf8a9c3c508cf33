//! Stack actions beyond create/update/delete: suspend, resume and check (traversals in
//! `stack_actions.rs`), cancel with and without rollback, rollback itself, mark-unhealthy,
//! and the `restricted_actions` check an update must pass before anything is stored.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::lifecycle::{self, Prepared, stored_definition};
use super::preview::{Change, classify_all};
use super::services::Services;
use super::stack_actions::{self, Traversal};
use super::stack_view::StackView;
use super::{Engine, EngineError, events, identity};
use crate::store::StackRow;
use crate::template::environment;

/// An action of `POST …/actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackAction {
    /// `suspend`.
    Suspend,
    /// `resume`.
    Resume,
    /// `check`.
    Check,
    /// `cancel_update`: stop the update and roll back.
    CancelUpdate,
    /// `cancel_without_rollback`: stop and leave the stack FAILED.
    CancelWithoutRollback,
}

impl StackAction {
    /// From the body key Heat accepts.
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "suspend" => StackAction::Suspend,
            "resume" => StackAction::Resume,
            "check" => StackAction::Check,
            "cancel_update" => StackAction::CancelUpdate,
            "cancel_without_rollback" => StackAction::CancelWithoutRollback,
            _ => return None,
        })
    }
}

fn in_progress(stack: &StackRow) -> EngineError {
    EngineError::Conflict(
        "ActionInProgress",
        format!(
            "Stack {} already has an action ({}) in progress.",
            stack.name, stack.action
        ),
    )
}

/// The definition a rollback returns to: the one before the update, or (after a create)
/// the same template without resources or outputs.
fn rollback_target(stack: &StackRow) -> StackRow {
    let mut target = stack.clone();
    match &stack.previous {
        Some(previous) => {
            target.template = previous.get("template").cloned().unwrap_or(Value::Null);
            target.environment = previous.get("environment").cloned().unwrap_or(json!({}));
            target.files = previous.get("files").cloned().unwrap_or(json!({}));
            target.parameters = previous
                .get("parameters")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
        }
        None => {
            if let Value::Object(map) = &mut target.template {
                for key in ["resources", "Resources"] {
                    if map.contains_key(key) {
                        map.insert(key.into(), Value::Object(Map::new()));
                    }
                }
                map.remove("outputs");
                map.remove("Outputs");
            }
        }
    }
    target.previous = None;
    target
}

/// Starts a rollback: stores the definition it returns to (so a restart resumes the
/// rollback, not the failed action) and records `Stack ROLLBACK started`. Returns the
/// stack as it now is and what to converge to.
async fn start_rollback(
    services: &Services,
    stack: &StackRow,
) -> Result<(StackRow, Prepared), String> {
    let target = rollback_target(stack);
    let (template, params) = stored_definition(&target).map_err(|e| e.to_string())?;
    services
        .store
        .set_stack_definition(&target)
        .await
        .map_err(|e| e.to_string())?;
    events::stack_state(
        services,
        &stack.id,
        &stack.name,
        "ROLLBACK",
        "IN_PROGRESS",
        "Stack ROLLBACK started",
    )
    .await
    .map_err(|e| e.to_string())?;
    let prepared = Prepared {
        template,
        params,
        environment: target.environment.clone(),
    };
    Ok((target, prepared))
}

/// Rolls the stack back to its previous definition (nothing, after a create).
pub(crate) async fn rollback(services: &Arc<Services>, stack: &StackRow) -> Result<(), String> {
    let (target, prepared) = start_rollback(services, stack).await?;
    lifecycle::run_action(services.clone(), &target, "ROLLBACK", prepared).await
}

/// Marks every resource still in progress in the tree FAILED with `reason`, and nested
/// stacks in progress too (after their work was stopped). A deployment such a resource was
/// waiting for becomes FAILED `Deployment cancelled.`, as in Heat, so a late signal for it
/// changes nothing.
pub(crate) async fn fail_in_progress(
    services: &Services,
    stack: &StackRow,
    reason: &str,
) -> Result<(), EngineError> {
    let store = &services.store;
    for row in store.stack_resources(&stack.id).await? {
        if row.status == "IN_PROGRESS" {
            if !row.physical_id.is_empty() && store.cancel_deployment(&row.physical_id).await? {
                services.notifier.deployment_signalled(&row.physical_id);
            }
            events::resource_state(
                services,
                &stack.id,
                &row.name,
                &row.resource_type,
                &row.physical_id,
                &row.action,
                "FAILED",
                reason,
            )
            .await?;
        }
    }
    for child in store.nested_stacks(&stack.id).await? {
        if child.status == "IN_PROGRESS" {
            Box::pin(fail_in_progress(services, &child, reason)).await?;
            let why = if reason == "Timed out" {
                reason.to_string()
            } else {
                format!("Stack {} cancelled", child.action)
            };
            events::stack_state(
                services,
                &child.id,
                &child.name,
                &child.action,
                "FAILED",
                &why,
            )
            .await?;
        }
    }
    Ok(())
}

impl Engine {
    pub(crate) fn spawn_traversal(&self, stack: &StackRow, t: Traversal) {
        let services = self.services.clone();
        let stack = stack.clone();
        self.spawn(&stack.id.clone(), async move {
            let _ = stack_actions::run(&services, &stack, t).await;
        });
    }

    /// `POST …/actions`: suspend, resume, check, cancel_update, cancel_without_rollback.
    pub async fn stack_action(
        &self,
        stack: &StackRow,
        action: StackAction,
    ) -> Result<(), EngineError> {
        let traversal = match action {
            StackAction::Suspend => Some(Traversal::Suspend),
            StackAction::Resume => Some(Traversal::Resume),
            StackAction::Check => Some(Traversal::Check),
            _ => None,
        };
        if let Some(t) = traversal {
            if stack.status == "IN_PROGRESS" {
                return Err(in_progress(stack));
            }
            // As Heat: suspending a suspended (resuming a resumed) stack does nothing.
            let done = (stack.action.as_str(), stack.status.as_str()) == (t.action(), "COMPLETE");
            if done && t != Traversal::Check {
                return Ok(());
            }
            self.claim(&stack.id).await?;
            let started = format!("Stack {} started", t.action());
            events::stack_state(
                &self.services,
                &stack.id,
                &stack.name,
                t.action(),
                "IN_PROGRESS",
                &started,
            )
            .await?;
            self.spawn_traversal(stack, t);
            return Ok(());
        }
        let rollback_after = action == StackAction::CancelUpdate;
        let allowed: &[&str] = if rollback_after {
            &["UPDATE"]
        } else {
            &["UPDATE", "CREATE"]
        };
        if stack.status != "IN_PROGRESS" || !allowed.contains(&stack.action.as_str()) {
            return Err(EngineError::BadRequest(
                "NotSupported",
                format!(
                    "Cancelling update when stack is {}_{} is not supported.",
                    stack.action, stack.status
                ),
            ));
        }
        self.stop(&stack.id).await;
        // Another node running it stops at its next lease round.
        self.claim(&stack.id).await?;
        let reason = format!("Stack {} cancelled", stack.action);
        fail_in_progress(&self.services, stack, &reason).await?;
        events::stack_state(
            &self.services,
            &stack.id,
            &stack.name,
            &stack.action,
            "FAILED",
            &reason,
        )
        .await?;
        if rollback_after {
            // ROLLBACK_IN_PROGRESS before answering, as Heat shows it.
            let (target, prepared) = start_rollback(&self.services, stack)
                .await
                .map_err(|e| EngineError::BadRequest("Error", e))?;
            let services = self.services.clone();
            self.spawn(&stack.id.clone(), async move {
                let _ = lifecycle::run_action(services, &target, "ROLLBACK", prepared).await;
            });
        }
        Ok(())
    }

    /// `PATCH …/resources/{name}` with `mark_unhealthy`: `CHECK_FAILED` with the reason, or
    /// back to `CHECK_COMPLETE` from `CHECK_FAILED`.
    pub async fn mark_unhealthy(
        &self,
        stack: &StackRow,
        resource: &str,
        unhealthy: bool,
        reason: Option<&str>,
    ) -> Result<(), EngineError> {
        let store = &self.services.store;
        let row = match store.resource(&stack.id, resource).await? {
            Some(row) => row,
            None => store
                .resource_by_physical_id(resource)
                .await?
                .filter(|r| r.stack_id == stack.id)
                .ok_or_else(|| {
                    EngineError::NotFound(
                        "ResourceNotFound",
                        format!(
                            "The Resource ({resource}) could not be found in Stack {}.",
                            stack.name
                        ),
                    )
                })?,
        };
        if row.status == "IN_PROGRESS" {
            return Err(in_progress(stack));
        }
        let reason = reason.unwrap_or("state changed by resource_mark_unhealthy api");
        let status = match (unhealthy, row.action.as_str(), row.status.as_str()) {
            (true, action, _) if action != "DELETE" => "FAILED",
            (false, "CHECK", "FAILED") => "COMPLETE",
            _ => return Ok(()),
        };
        events::resource_state(
            &self.services,
            &stack.id,
            &row.name,
            &row.resource_type,
            &row.physical_id,
            "CHECK",
            status,
            reason,
        )
        .await?;
        Ok(())
    }

    /// Refuses an update that would update or replace a resource whose `restricted_actions`
    /// (in the new environment) forbid it — before anything is stored. Heat lets such an
    /// update start and fail; a 400 that changes nothing is what a user wants.
    pub(crate) async fn check_restricted(
        &self,
        stack: &StackRow,
        updated: &StackRow,
        prepared: &Prepared,
    ) -> Result<(), EngineError> {
        let env = environment::parse(&updated.environment)?;
        let rows = self.services.store.stack_resources(&stack.id).await?;
        let view = StackView::new(
            identity(stack),
            prepared.params.clone(),
            &prepared.template,
            &rows,
        )
        .with_files(&updated.files);
        for (name, change) in
            classify_all(&self.services.registry, &prepared.template, &view, &rows)
        {
            let restricted = env.registry.restricted_actions(&name);
            let action = match change {
                Change::Updated => "update",
                Change::Replaced if rows.iter().any(|r| r.name == name) => "replace",
                _ => continue,
            };
            if restricted.iter().any(|a| a == action) {
                return Err(EngineError::BadRequest(
                    "ResourceActionRestricted",
                    format!("resources.{name}: {action} is restricted for resource."),
                ));
            }
        }
        Ok(())
    }
}
