//! Breakpoints (Heat's registry `hooks`): a resource pauses before or after an action
//! until a signal `{"unset_hook": "<hook>"}` clears it.
//!
//! A paused hook is recorded in the resource's data (`hook_<name>`), so a restart keeps
//! waiting instead of running past it, and a node that did not pause it can clear it.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use super::events;
use super::services::Services;
use crate::resources::StackIdentity;
use crate::store::StackRow;
use crate::template::environment;
use crate::template::registry::HOOKS;

fn data_key(hook: &str) -> String {
    format!("hook_{hook}")
}

fn wake_key(stack_id: &str, name: &str) -> String {
    format!("hook:{stack_id}/{name}")
}

/// The hooks the stack's environment sets, by resource name (only names that have some).
pub fn for_stack(
    stack: &StackRow,
    names: impl Iterator<Item = String>,
) -> HashMap<String, Vec<String>> {
    let Ok(env) = environment::parse(&stack.environment) else {
        return HashMap::new();
    };
    names
        .filter_map(|n| {
            let hooks = env.registry.hooks(&n);
            (!hooks.is_empty()).then_some((n, hooks))
        })
        .collect()
}

/// Pauses resource `name` at `hook` (`pre-create`, …) when `hooks` has it: records the
/// hook and the event `<ACTION> paused until Hook <hook> is cleared` (once, even across a
/// restart), then waits until it is cleared.
pub async fn pause(
    services: &Services,
    stack: &StackIdentity,
    name: &str,
    hooks: Option<&Vec<String>>,
    hook: &str,
) -> Result<(), String> {
    if !hooks.is_some_and(|h| h.iter().any(|x| x == hook)) {
        return Ok(());
    }
    let store = &services.store;
    let key = data_key(hook);
    let Some(row) = store
        .resource(&stack.id, name)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    if !row.data.contains_key(&key) {
        let mut data = row.data.clone();
        data.insert(key.clone(), Value::Bool(true));
        store
            .set_resource_data(&stack.id, name, &data)
            .await
            .map_err(|e| e.to_string())?;
        let action = hook
            .split_once('-')
            .map(|(_, a)| a)
            .unwrap_or(hook)
            .to_uppercase();
        events::event(
            services,
            &stack.id,
            name,
            &row.resource_type,
            &row.physical_id,
            &row.action,
            &row.status,
            &format!("{action} paused until Hook {hook} is cleared"),
        )
        .await
        .map_err(|e| e.to_string())?;
        tracing::info!(stack = %stack.name, resource = name, hook, "paused at a breakpoint");
    }
    loop {
        // Woken at once by a signal here; polled for a signal taken by another node.
        services
            .notifier
            .wait_deployment(&wake_key(&stack.id, name), Duration::from_secs(1))
            .await;
        let cleared = store
            .resource(&stack.id, name)
            .await
            .map_err(|e| e.to_string())?
            .is_none_or(|r| !r.data.contains_key(&key));
        if cleared {
            return Ok(());
        }
    }
}

/// Why an `unset_hook` signal was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnsetError {
    /// Not a hook name Heat knows.
    #[error("Invalid hook type \"{0}\"")]
    InvalidType(String),
    /// The resource is not paused at that hook.
    #[error("The \"{hook}\" hook is not defined on {resource}")]
    NotSet {
        /// The hook.
        hook: String,
        /// The resource.
        resource: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Clears `hook` on resource `name` (the `unset_hook` signal) and records
/// `Hook <hook> is cleared`.
pub async fn unset(
    services: &Services,
    stack_id: &str,
    name: &str,
    hook: &str,
) -> Result<(), UnsetError> {
    if !HOOKS.contains(&hook) {
        return Err(UnsetError::InvalidType(hook.to_string()));
    }
    let store = &services.store;
    let key = data_key(hook);
    let row = store.resource(stack_id, name).await?;
    let Some(row) = row.filter(|r| r.data.contains_key(&key)) else {
        return Err(UnsetError::NotSet {
            hook: hook.to_string(),
            resource: name.to_string(),
        });
    };
    let mut data = row.data.clone();
    data.remove(&key);
    store.set_resource_data(stack_id, name, &data).await?;
    events::event(
        services,
        stack_id,
        name,
        &row.resource_type,
        &row.physical_id,
        &row.action,
        &row.status,
        &format!("Hook {hook} is cleared"),
    )
    .await?;
    services
        .notifier
        .deployment_signalled(&wake_key(stack_id, name));
    Ok(())
}
