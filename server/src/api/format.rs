//! JSON shapes of the native API (reference heat-server.md §3.3), and request helpers.

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::store::{EventRow, ResourceRow, StackRow};

/// `http://host[:port]` as the client addressed us.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// `…/v1/{project}/stacks/{name}/{id}`.
pub fn stack_href(base: &str, stack: &StackRow) -> String {
    format!(
        "{base}/v1/{}/stacks/{}/{}",
        stack.project, stack.name, stack.id
    )
}

/// `ACTION_STATUS`.
pub fn status(action: &str, status: &str) -> String {
    format!("{action}_{status}")
}

/// The stack summary used in lists.
pub fn stack_summary(base: &str, s: &StackRow) -> Value {
    json!({
        "id": s.id,
        "links": [{"href": stack_href(base, s), "rel": "self"}],
        "stack_name": s.name,
        "description": "",
        "stack_status": status(&s.action, &s.status),
        "stack_status_reason": s.status_reason,
        "creation_time": s.created_at,
        "updated_time": s.updated_at,
        "deletion_time": s.deleted_at,
        "stack_owner": null,
        "parent": s.owner_id,
        "stack_user_project_id": s.project,
        "tags": s.tags,
    })
}

/// Field `key` of resource `name` in its stack's template as submitted: HOT's `key` or
/// CFN's capitalised `Key`.
pub fn template_field<'a>(stack: &'a StackRow, name: &str, key: &str) -> Option<&'a Value> {
    let cfn_key: String = key
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
        .collect();
    let definition = stack
        .template
        .get("resources")
        .or_else(|| stack.template.get("Resources"))?
        .get(name)?;
    definition.get(key).or_else(|| definition.get(&cfn_key))
}

/// The type a resource has in its stack's template, as Heat shows it: the name the template
/// gives (`My::Server`, `inner.yaml`), not what the environment's registry resolved it to
/// (which the resource row keeps, to find its implementation).
pub fn declared_type<'a>(stack: &'a StackRow, r: &'a ResourceRow) -> &'a str {
    template_field(stack, &r.name, "type")
        .and_then(Value::as_str)
        .unwrap_or(&r.resource_type)
}

/// A resource summary.
pub fn resource(base: &str, stack: &StackRow, r: &ResourceRow, required_by: &[String]) -> Value {
    let stack_href = stack_href(base, stack);
    json!({
        "resource_name": r.name,
        "logical_resource_id": r.name,
        "physical_resource_id": r.physical_id,
        "resource_type": declared_type(stack, r),
        "resource_status": status(&r.action, &r.status),
        "resource_status_reason": r.status_reason,
        "creation_time": r.created_at,
        "updated_time": r.updated_at.clone().unwrap_or_else(|| r.created_at.clone()),
        "required_by": required_by,
        "links": [
            {"href": format!("{stack_href}/resources/{}", r.name), "rel": "self"},
            {"href": stack_href, "rel": "stack"},
        ],
    })
}

/// An event summary.
pub fn event(base: &str, stack: &StackRow, e: &EventRow) -> Value {
    let stack_href = stack_href(base, stack);
    json!({
        "id": e.id,
        "links": [
            {"href": format!("{stack_href}/resources/{}/events/{}", e.resource_name, e.id), "rel": "self"},
            {"href": format!("{stack_href}/resources/{}", e.resource_name), "rel": "resource"},
            {"href": stack_href, "rel": "stack"},
        ],
        "event_time": e.created_at,
        "logical_resource_id": e.resource_name,
        "resource_name": e.resource_name,
        "physical_resource_id": e.physical_resource_id,
        "resource_status": status(&e.resource_action, &e.resource_status),
        "resource_status_reason": e.resource_status_reason,
    })
}
