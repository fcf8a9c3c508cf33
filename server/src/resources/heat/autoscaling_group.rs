//! `OS::Heat::AutoScalingGroup`: copies of `resource` in a nested stack, members named by
//! Heat's random 12-character short ids, resized by `ScalingPolicy` signals ([`adjust`]).
//!
//! Members are ordered as Heat's group inspector orders them (failed first, then by creation
//! time, then by name): shrinking removes from the front (failed, then oldest), growing adds
//! new names. A property update that changes `resource` replaces members in batches
//! (`rolling_updates`: `max_batch_size`, `min_in_service`, `pause_time`), then the group is
//! resized to `desired_capacity` (or kept at its size) within `min_size..=max_size`.
//!
//! Concurrency: a resize started by a signal runs in the background holding the group's
//! scaling lock (in-process, keyed by stack id and resource name). A signal that finds the
//! lock held is ignored ("due to scaling activity", as Heat's `scaling_in_progress`); one that
//! arrives while the stack (or its root) has an action in progress is refused (409). An
//! update of the group waits for a running resize to finish, and a delete stops it first, so
//! the nested stack never has two actions at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use tokio::task::AbortHandle;

use super::group_members::{self, AttributeForm, FORM_KEY, GroupMember, MEMBERS_KEY};
use super::scaling::{self, CFN_EXACT_CAPACITY, Cooldown, EXACT_CAPACITY};
use crate::engine::nested::{self, NestedDefinition, NestedState};
use crate::engine::services::Services;
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, StackIdentity,
};
use crate::store::{ResourceRow, StackRow};
use crate::template::TemplateError;

/// `OS::Heat::AutoScalingGroup`.
pub struct AutoScalingGroup;

/// The type name, as policies check it.
pub const TYPE_NAME: &str = "OS::Heat::AutoScalingGroup";

const RESOURCE_DEF: &[PropertySchema] = &[
    PropertySchema::new("type", PropType::String).required(),
    PropertySchema::new("properties", PropType::Map),
    PropertySchema::new("metadata", PropType::Map),
];
const ROLLING_UPDATES: &[PropertySchema] = &[
    PropertySchema::new("min_in_service", PropType::Integer)
        .default("0")
        .range(Some(0), None),
    PropertySchema::new("max_batch_size", PropType::Integer)
        .default("1")
        .range(Some(1), None),
    PropertySchema::new("pause_time", PropType::Number)
        .default("0")
        .range(Some(0), None),
];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("resource", PropType::Map)
        .required()
        .update_allowed()
        .entries(RESOURCE_DEF),
    PropertySchema::new("max_size", PropType::Integer)
        .required()
        .update_allowed()
        .range(Some(0), None),
    PropertySchema::new("min_size", PropType::Integer)
        .required()
        .update_allowed()
        .range(Some(0), None),
    PropertySchema::new("cooldown", PropType::Integer).update_allowed(),
    PropertySchema::new("desired_capacity", PropType::Integer).update_allowed(),
    PropertySchema::new("rolling_updates", PropType::Map)
        .update_allowed()
        .default(r#"{"min_in_service": 0, "max_batch_size": 1, "pause_time": 0}"#)
        .entries(ROLLING_UPDATES),
];

/// A group's scaling lock and the resize running under it.
#[derive(Default)]
struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    resize: Option<AbortHandle>,
}

static SLOTS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Mutex::default);

fn slot_key(stack_id: &str, name: &str) -> String {
    format!("{stack_id}/{name}")
}

fn slots() -> std::sync::MutexGuard<'static, HashMap<String, Slot>> {
    SLOTS.lock().unwrap_or_else(|p| p.into_inner())
}

fn scaling_lock(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    slots().entry(key.to_string()).or_default().lock.clone()
}

fn int(props: &Map<String, Value>, key: &str) -> Option<i64> {
    props.get(key).and_then(Value::as_i64)
}

/// Python's `x or y` for an optional integer property: absent or zero takes `or`.
fn int_or(props: &Map<String, Value>, key: &str, or: i64) -> i64 {
    int(props, key).filter(|v| *v != 0).unwrap_or(or)
}

/// The definition every new member gets: `resource` as given (type, properties, metadata).
fn member_definition(props: &Map<String, Value>) -> Value {
    let def = props.get("resource").and_then(Value::as_object);
    let mut out = Map::new();
    for key in ["type", "properties", "metadata"] {
        if let Some(v) = def.and_then(|d| d.get(key)).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// The nested stack and its resources, if the group has one.
async fn live(
    services: &Services,
    physical_id: &str,
) -> Result<Option<(StackRow, Vec<ResourceRow>)>, ResourceError> {
    if physical_id.is_empty() {
        return Ok(None);
    }
    match services.store.stack(physical_id).await? {
        Some(child) if child.deleted_at.is_none() => {
            let rows = services.store.stack_resources(&child.id).await?;
            Ok(Some((child, rows)))
        }
        _ => Ok(None),
    }
}

/// Heat's member order: failed first, then by creation time, then by name.
fn ordered(rows: &[ResourceRow]) -> Vec<&ResourceRow> {
    let mut out: Vec<&ResourceRow> = rows.iter().collect();
    out.sort_by(|a, b| {
        (a.status != "FAILED", &a.created_at, &a.name).cmp(&(
            b.status != "FAILED",
            &b.created_at,
            &b.name,
        ))
    });
    out
}

/// Members that did not fail, in order (Heat's `get_size` counts these).
fn members(rows: &[ResourceRow]) -> Vec<GroupMember> {
    ordered(rows)
        .into_iter()
        .filter(|r| r.status != "FAILED")
        .map(group_members::member)
        .collect()
}

/// The current members' (name, definition), in removal order, from the nested template.
fn old_definitions(child: &StackRow, rows: &[ResourceRow]) -> Vec<(String, Value)> {
    let resources = child
        .template
        .get("resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out: Vec<(String, Value)> = ordered(rows)
        .into_iter()
        .filter_map(|r| resources.get(&r.name).map(|d| (r.name.clone(), d.clone())))
        .collect();
    for (name, def) in &resources {
        if !out.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), def.clone()));
        }
    }
    out
}

/// The nested template for these members, with Heat's `refs_map` output.
fn nested_template(defs: &[(String, Value)]) -> Value {
    let resources: Map<String, Value> = defs.iter().cloned().collect();
    let refs: Map<String, Value> = defs
        .iter()
        .map(|(n, _)| (n.clone(), json!({"get_resource": n})))
        .collect();
    json!({
        "heat_template_version": "2015-04-30",
        "resources": resources,
        "outputs": {"refs_map": {"value": refs}},
    })
}

/// The nested stack for `count` members after `old` (Heat's `_create_template`), `num_new`
/// of them with the current definition, with the owner's environment and files.
async fn definition(
    ctx: &ResourceContext<'_>,
    old: &[(String, Value)],
    props: &Map<String, Value>,
    count: usize,
    num_new: usize,
) -> Result<NestedDefinition, ResourceError> {
    let mut taken: Vec<String> = old.iter().map(|(n, _)| n.clone()).collect();
    let defs = scaling::member_definitions(old, &member_definition(props), count, num_new, || {
        let id = scaling::short_id(&taken);
        taken.push(id.clone());
        id
    });
    let owner = nested::owner(ctx).await?;
    Ok(NestedDefinition {
        template: nested_template(&defs),
        parameters: Map::new(),
        environment: super::stack_resource::child_environment(
            &owner.environment,
            Some(ctx.name),
            None,
        ),
        files: owner.files.clone(),
        timeout_mins: None,
    })
}

/// Brings the nested stack to `count` members, `num_new` of them with the current definition
/// (Heat's `_create_template` + `update_with_template`); creates it when there is none.
async fn apply(
    ctx: &ResourceContext<'_>,
    physical_id: &str,
    props: &Map<String, Value>,
    count: usize,
    num_new: usize,
) -> Result<NestedState, ResourceError> {
    let current = live(ctx.services, physical_id).await?;
    let old = current
        .as_ref()
        .map(|(child, rows)| old_definitions(child, rows))
        .unwrap_or_default();
    let def = definition(ctx, &old, props, count, num_new).await?;
    match current {
        Some((child, _)) => {
            let row = ResourceRow {
                physical_id: child.id.clone(),
                ..crate::engine::lifecycle::init_row(&ctx.stack.id, ctx.name, TYPE_NAME)
            };
            nested::update(ctx, &row, def).await
        }
        None => nested::create(ctx, def).await,
    }
}

/// What the group's row records: members, attribute form, `refs`, `refs_map`,
/// `current_size`; `data` keeps the rest (the cooldown).
fn outcome(child_id: &str, rows: &[ResourceRow], mut data: Map<String, Value>) -> ResourceOutcome {
    let members = members(rows);
    let mut attributes = group_members::static_attributes(&members, &[]);
    attributes.remove("removed_rsrc_list");
    attributes.insert("current_size".into(), json!(members.len()));
    data.insert(MEMBERS_KEY.into(), json!(members));
    data.insert(
        FORM_KEY.into(),
        json!(AttributeForm::AutoScaling.recorded_as()),
    );
    ResourceOutcome {
        physical_id: child_id.to_string(),
        reference_id: None,
        attributes,
        data,
    }
}

/// The size a new group starts with: `desired_capacity`, or `min_size` when it is absent or 0.
fn initial_size(props: &Map<String, Value>) -> i64 {
    int_or(
        props,
        "desired_capacity",
        int(props, "min_size").unwrap_or(0),
    )
}

/// Heat's `_replace`: members get the new definition in batches.
async fn rolling_replace(
    ctx: &ResourceContext<'_>,
    physical_id: &str,
    props: &Map<String, Value>,
) -> Result<(), ResourceError> {
    let Some((_, rows)) = live(ctx.services, physical_id).await? else {
        return Ok(());
    };
    let policy = props.get("rolling_updates").and_then(Value::as_object);
    let setting = |key: &str, default: f64| {
        policy
            .and_then(|p| p.get(key))
            .and_then(Value::as_f64)
            .unwrap_or(default)
    };
    let min_in_service = setting("min_in_service", 0.0) as i64;
    let batch_size = setting("max_batch_size", 1.0) as i64;
    let pause = setting("pause_time", 0.0).max(0.0);
    let capacity = rows.len() as i64;
    let target = int_or(props, "desired_capacity", capacity).min(capacity);
    let batches = scaling::batches(target, capacity, batch_size, min_in_service);
    let owner = nested::owner(ctx).await?;
    let timeout = owner.timeout_mins.filter(|m| *m > 0).unwrap_or(60) as f64 * 60.0;
    if pause * (batches.len().saturating_sub(1) as f64) >= timeout {
        return Err(ResourceError::Raised {
            heat_type: "ValueError",
            message: "The current update policy will result in stack update timeout.".into(),
        });
    }
    for (index, (size, batch)) in batches.iter().enumerate() {
        apply(
            ctx,
            physical_id,
            props,
            (*size).max(0) as usize,
            (*batch).max(0) as usize,
        )
        .await?;
        if index + 1 < batches.len() && pause > 0.0 {
            super::sleep_secs(pause).await;
        }
    }
    Ok(())
}

fn exact_reason(size: usize) -> String {
    format!("{CFN_EXACT_CAPACITY} : {size}")
}

#[async_trait]
impl ResourceType for AutoScalingGroup {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[
            "outputs",
            "outputs_list",
            "current_size",
            "refs",
            "refs_map",
        ]
    }
    fn validate(&self, props: &Map<String, Value>, path: &str) -> Result<(), TemplateError> {
        let (Some(min), Some(max)) = (int(props, "min_size"), int(props, "max_size")) else {
            return Ok(());
        };
        if max < min {
            return Err(TemplateError::at(
                path,
                "MinSize can not be greater than MaxSize",
            ));
        }
        if let Some(desired) = int(props, "desired_capacity")
            && (desired < min || desired > max)
        {
            return Err(TemplateError::at(
                path,
                "DesiredCapacity must be between MinSize and MaxSize",
            ));
        }
        Ok(())
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // Resuming an interrupted create keeps the member names it recorded.
        let resumed = ctx.resumed_physical_id().unwrap_or_default().to_string();
        let count = initial_size(props).max(0) as usize;
        let state = match live(ctx.services, &resumed).await? {
            Some((child, rows)) => {
                let old = old_definitions(&child, &rows);
                nested::create(ctx, definition(ctx, &old, props, count, count).await?).await?
            }
            None => apply(ctx, "", props, count, count).await?,
        };
        let mut data = ctx
            .resuming
            .as_ref()
            .map(|r| r.data.clone())
            .unwrap_or_default();
        let size = members(&state.rows).len();
        scaling::finished_scaling(
            &mut data,
            &Cooldown::from_property(props.get("cooldown")),
            exact_reason(size),
            true,
            chrono::Utc::now(),
        );
        Ok(outcome(&state.stack.id, &state.rows, data))
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // A resize started by a signal finishes first; its result is read afresh below.
        let lock = scaling_lock(&slot_key(&ctx.stack.id, ctx.name));
        let _scaling = lock.lock().await;
        let row = ctx
            .services
            .store
            .resource(&ctx.stack.id, ctx.name)
            .await?
            .unwrap_or_else(|| current.clone());
        let physical_id = if current.physical_id.is_empty() {
            row.physical_id.clone()
        } else {
            current.physical_id.clone()
        };
        if current.properties.get("resource") != props.get("resource") {
            rolling_replace(ctx, &physical_id, props).await?;
        }
        let capacity = live(ctx.services, &physical_id)
            .await?
            .map(|(_, rows)| members(&rows).len() as i64)
            .unwrap_or(0);
        let desired = int_or(props, "desired_capacity", capacity);
        let size = scaling::new_capacity(
            capacity,
            desired as f64,
            EXACT_CAPACITY,
            None,
            int(props, "min_size").unwrap_or(0),
            int(props, "max_size").unwrap_or(0),
        );
        let state = apply(ctx, &physical_id, props, size.max(0) as usize, 0).await?;
        let mut data = row.data.clone();
        scaling::finished_scaling(
            &mut data,
            &Cooldown::from_property(props.get("cooldown")),
            exact_reason(members(&state.rows).len()),
            true,
            chrono::Utc::now(),
        );
        Ok(outcome(&state.stack.id, &state.rows, data))
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        let key = slot_key(&ctx.stack.id, ctx.name);
        let running = slots().get_mut(&key).and_then(|s| s.resize.take());
        if let Some(resize) = running {
            resize.abort();
        }
        let lock = scaling_lock(&key);
        let _scaling = lock.lock().await;
        let result = nested::delete(ctx, current).await;
        slots().remove(&key);
        result
    }
}

/// What a policy asks of its group.
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// `scaling_adjustment` as given (its text goes into the cooldown reason).
    pub adjustment: Value,
    /// `adjustment_type`.
    pub adjustment_type: String,
    /// `min_adjustment_step`.
    pub min_adjustment_step: Option<i64>,
    /// The policy's `cooldown`; the group's when absent.
    pub cooldown: Option<Value>,
}

fn in_progress(stack: &StackRow) -> Option<ResourceError> {
    (stack.status == "IN_PROGRESS").then(|| {
        ResourceError::ActionInProgress(format!(
            "Stack {} already has an action ({}) in progress.",
            stack.name, stack.action
        ))
    })
}

/// Refuses when the stack, or the root of its tree, has an action in progress.
async fn check_stack_idle(services: &Services, stack: &StackIdentity) -> Result<(), ResourceError> {
    let store = &services.store;
    let Some(own) = store.stack(&stack.id).await? else {
        return Ok(());
    };
    if let Some(e) = in_progress(&own) {
        return Err(e);
    }
    if own.root() != own.id
        && let Some(root) = store.stack(own.root()).await?
        && let Some(e) = in_progress(&root)
    {
        return Err(e);
    }
    Ok(())
}

/// Heat's `adjust`: resizes group `group` of `stack` by `adj` unless nothing would change,
/// the group is not `COMPLETE`, in cooldown or already scaling (`NoActionRequired`), or the
/// stack tree has an action in progress (`ActionInProgress`). The resize runs in the
/// background; this returns once it has started.
pub async fn adjust(
    services: &Services,
    stack: &StackIdentity,
    group: &str,
    adj: Adjustment,
) -> Result<(), ResourceError> {
    let store = &services.store;
    // Checked before taking the scaling lock (a group being updated holds it: 409 rather
    // than "scaling activity") and again after (an update may have started in between).
    check_stack_idle(services, stack).await?;
    let key = slot_key(&stack.id, group);
    let guard = scaling_lock(&key).try_lock_owned().map_err(|_| {
        ResourceError::NoActionRequired(scaling::no_action(group, "due to scaling activity"))
    })?;
    check_stack_idle(services, stack).await?;
    let row = store.resource(&stack.id, group).await?.ok_or_else(|| {
        ResourceError::Failed(format!("The Resource ({group}) could not be found."))
    })?;
    if row.status != "COMPLETE" {
        return Err(ResourceError::NoActionRequired(scaling::no_action(
            group,
            &format!("its state is {}_{}", row.action, row.status),
        )));
    }
    let props = row.properties.as_object().cloned().unwrap_or_default();
    let capacity = live(services, &row.physical_id)
        .await?
        .map(|(_, rows)| members(&rows).len() as i64)
        .unwrap_or(0);
    let new_capacity = scaling::new_capacity(
        capacity,
        adj.adjustment.as_f64().unwrap_or(0.0),
        &adj.adjustment_type,
        adj.min_adjustment_step,
        int(&props, "min_size").unwrap_or(0),
        int(&props, "max_size").unwrap_or(0),
    );
    if new_capacity == capacity {
        return Err(ResourceError::NoActionRequired(scaling::no_action(
            group,
            "there is no change in capacity",
        )));
    }
    let cooldown = Cooldown::from_property(adj.cooldown.as_ref().or(props.get("cooldown")));
    scaling::check_cooldown(group, &row.data, &cooldown, chrono::Utc::now())
        .map_err(ResourceError::NoActionRequired)?;
    tracing::info!(stack = %stack.name, group, from = capacity, to = new_capacity, "scaling");
    let services = Arc::new(services.clone());
    let stack = stack.clone();
    let name = group.to_string();
    let reason = format!("{} : {}", adj.adjustment_type, adj.adjustment);
    let task = tokio::spawn(async move {
        let _scaling = guard;
        let ctx = ResourceContext::new(&services, &stack, &name);
        let result = apply(&ctx, &row.physical_id, &props, new_capacity as usize, 0).await;
        if let Err(e) = finish_resize(&ctx, &row, cooldown, reason, result).await {
            tracing::error!(stack = %stack.name, group = %name, error = %e, "could not record a resize");
        }
    });
    slots().entry(key).or_default().resize = Some(task.abort_handle());
    Ok(())
}

/// Records a finished resize on the group's row: members and attributes from the nested
/// stack, and (when it succeeded) the cooldown.
async fn finish_resize(
    ctx: &ResourceContext<'_>,
    row: &ResourceRow,
    cooldown: Cooldown,
    reason: String,
    result: Result<NestedState, ResourceError>,
) -> Result<(), ResourceError> {
    let size_changed = match &result {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(stack = %ctx.stack.name, group = %ctx.name, error = %e, "resize failed");
            false
        }
    };
    let store = &ctx.services.store;
    let Some((child, rows)) = live(ctx.services, &row.physical_id).await? else {
        return Ok(());
    };
    let mut data = store
        .resource(&ctx.stack.id, ctx.name)
        .await?
        .map(|r| r.data)
        .unwrap_or_else(|| row.data.clone());
    scaling::finished_scaling(
        &mut data,
        &cooldown,
        reason,
        size_changed,
        chrono::Utc::now(),
    );
    let out = outcome(&child.id, &rows, data);
    // The cooldown first: once the new size shows, it is in force.
    store
        .set_resource_data(&ctx.stack.id, ctx.name, &out.data)
        .await?;
    store
        .set_resource_attributes(&ctx.stack.id, ctx.name, &out.attributes)
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "autoscaling_group_tests.rs"]
mod tests;
