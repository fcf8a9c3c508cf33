//! Suspend, resume and check: a traversal of the stack's resources (suspend dependents
//! first, resume and check dependencies first), each resource moving through
//! `<ACTION>_IN_PROGRESS` to `<ACTION>_COMPLETE` or `_FAILED` with its event, nested stacks
//! traversed in turn, and the stack's own state recorded at the end.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::services::Services;
use super::{events, graph, lifecycle, scheduler};
use crate::resources::{ResourceContext, ResourceError, StackIdentity};
use crate::store::{ResourceRow, StackRow};
use crate::template::Template;

/// A traversal action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traversal {
    /// `SUSPEND`.
    Suspend,
    /// `RESUME`.
    Resume,
    /// `CHECK`.
    Check,
}

impl Traversal {
    /// Heat's action name.
    pub fn action(self) -> &'static str {
        match self {
            Traversal::Suspend => "SUSPEND",
            Traversal::Resume => "RESUME",
            Traversal::Check => "CHECK",
        }
    }

    /// From Heat's name.
    pub fn from_action(action: &str) -> Option<Self> {
        match action {
            "SUSPEND" => Some(Traversal::Suspend),
            "RESUME" => Some(Traversal::Resume),
            "CHECK" => Some(Traversal::Check),
            _ => None,
        }
    }
}

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Runs the traversal over `stack` (whose `<ACTION> IN_PROGRESS` state is already recorded)
/// and records its final state. `Err` carries the failure reason.
pub(crate) fn run<'a>(services: &'a Arc<Services>, stack: &'a StackRow, t: Traversal) -> Boxed<'a> {
    Box::pin(async move {
        let action = t.action();
        // As Heat disables a suspended stack's users: its resource credentials stop working
        // while it is suspended.
        let disable = match t {
            Traversal::Suspend => Some(true),
            Traversal::Resume => Some(false),
            Traversal::Check => None,
        };
        if let Some(disabled) = disable
            && let Err(e) = services
                .store
                .set_credentials_disabled(&stack.id, disabled)
                .await
        {
            tracing::error!(stack_id = %stack.id, error = %e, "could not change the stack's credentials");
        }
        let result = traverse(services, stack, t).await;
        let (status, reason) = match &result {
            Ok(()) => ("COMPLETE", format!("Stack {action} completed successfully")),
            Err(reason) => ("FAILED", format!("Resource {action} failed: {reason}")),
        };
        if let Err(e) =
            events::stack_state(services, &stack.id, &stack.name, action, status, &reason).await
        {
            tracing::error!(stack_id = %stack.id, error = %e, "could not record the stack's final state");
        }
        result
    })
}

async fn traverse(services: &Arc<Services>, stack: &StackRow, t: Traversal) -> Result<(), String> {
    let store = &services.store;
    let rows = store
        .stack_resources(&stack.id)
        .await
        .map_err(|e| e.to_string())?;
    let deps = Template::parse(&stack.template)
        .map(|t| graph::dependencies(&t))
        .unwrap_or_default();
    let waits_for = match t {
        Traversal::Suspend => graph::dependents(&deps),
        _ => deps,
    };
    let children: HashMap<String, StackRow> = store
        .nested_stacks(&stack.id)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|c| Some((c.owner_resource.clone()?, c)))
        .collect();
    let nodes: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let by_name: HashMap<String, ResourceRow> =
        rows.into_iter().map(|r| (r.name.clone(), r)).collect();
    let ident = lifecycle::identity(stack);
    scheduler::run_graph(&nodes, &waits_for, 16, |name| {
        let services = services.clone();
        let ident = ident.clone();
        let row = by_name.get(&name).cloned();
        let child = children.get(&name).cloned();
        async move {
            match row {
                Some(row) => act_one(&services, &ident, &row, child, t).await,
                None => Ok(()),
            }
        }
    })
    .await
    .map_err(|f| f.reason)
}

/// Python's `str` of a state tuple, as Heat's messages show it.
fn state_text(row: &ResourceRow) -> String {
    format!("('{}', '{}')", row.action, row.status)
}

async fn act_one(
    services: &Arc<Services>,
    stack: &StackIdentity,
    row: &ResourceRow,
    child: Option<StackRow>,
    t: Traversal,
) -> Result<(), String> {
    let action = t.action();
    let record = |status: &'static str, reason: String| async move {
        events::resource_state(
            services,
            &stack.id,
            &row.name,
            &row.resource_type,
            &row.physical_id,
            action,
            status,
            &reason,
        )
        .await
        .map_err(|e| e.to_string())
    };
    let fail = |message: String| async move {
        let reason = format!("Error: resources.{}: {message}", row.name);
        record("FAILED", reason.clone()).await?;
        Err::<(), String>(reason)
    };
    let never_created = row.action == "INIT";
    let rtype = services.registry.get(&row.resource_type);
    match t {
        Traversal::Suspend => {
            if never_created {
                return Ok(());
            }
            if row.action == "DELETE" || (row.action != "SUSPEND" && row.status != "COMPLETE") {
                return fail(format!("State {} invalid for suspend", state_text(row))).await;
            }
        }
        Traversal::Resume => {
            if never_created {
                return Ok(());
            }
            let resumable = matches!(
                (row.action.as_str(), row.status.as_str()),
                ("SUSPEND", "COMPLETE") | ("RESUME", "FAILED") | ("RESUME", "COMPLETE")
            );
            if !resumable {
                return fail(format!("State {} invalid for resume", state_text(row))).await;
            }
        }
        Traversal::Check => {
            let supported = child.is_some() || rtype.as_ref().is_some_and(|r| r.supports_check());
            if !supported {
                if never_created {
                    return Ok(());
                }
                return record(
                    "COMPLETE",
                    format!("CHECK not supported for {}", row.resource_type),
                )
                .await;
            }
            if never_created {
                record(
                    "FAILED",
                    format!("Can not check {}, resource not created yet.", row.name),
                )
                .await?;
                return Err(format!(
                    "Exception: resources.{}: Resource {} not created yet.",
                    row.name, row.name
                ));
            }
        }
    }
    record("IN_PROGRESS", "state changed".into()).await?;
    let result: Result<(), String> = match (&child, &rtype) {
        (Some(child), _) => {
            events::stack_state(
                services,
                &child.id,
                &child.name,
                action,
                "IN_PROGRESS",
                &format!("Stack {action} started"),
            )
            .await
            .map_err(|e| e.to_string())?;
            run(services, child, t).await
        }
        (None, Some(rtype)) => {
            let ctx = ResourceContext::new(services, stack, &row.name);
            let outcome: Result<(), ResourceError> = match t {
                Traversal::Suspend => rtype.suspend(&ctx, row).await,
                Traversal::Resume => rtype.resume(&ctx, row).await,
                Traversal::Check => rtype.check(&ctx, row).await,
            };
            outcome.map_err(|e| super::converge::failure_reason(&row.name, &e))
        }
        (None, None) => Ok(()),
    };
    match result {
        Ok(()) => record("COMPLETE", "state changed".into()).await,
        Err(reason) => {
            record("FAILED", reason.clone()).await?;
            Err(reason)
        }
    }
}
