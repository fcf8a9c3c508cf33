//! Resource endpoints: list, show, metadata, signal.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::format::{self, base_url};
use super::query::Query;
use super::stacks::{canonical_stack, json_body};
use super::{ApiError, ApiState};
use crate::store::StackRow;
use crate::template::Template;

/// For each resource, the resources that depend on it (`required_by`).
fn required_by(stack: &StackRow) -> HashMap<String, Vec<String>> {
    Template::parse(&stack.template)
        .map(|t| crate::engine::graph::dependents(&crate::engine::graph::dependencies(&t)))
        .unwrap_or_default()
}

fn resource_not_found(resource: &str, stack: &StackRow) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource ({resource}) could not be found in Stack {}.",
            stack.name
        ),
    )
}

/// Heat's `extract_int` for `nested_depth`: a non-negative integer.
pub fn nested_depth(query: &Query) -> Result<usize, ApiError> {
    Ok(query.count("nested_depth")?.unwrap_or(0))
}

/// A resource's `description` in its stack's template (HOT or CFN), `""` without one.
fn description(stack: &StackRow, resource: &str) -> String {
    format::template_field(stack, resource, "description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Whether a resource matches one of Heat's resource filters (`status=COMPLETE` or the
/// full `CREATE_COMPLETE`).
fn matches(stack: &StackRow, r: &crate::store::ResourceRow, key: &str, value: &str) -> bool {
    match key {
        "type" => format::declared_type(stack, r) == value || r.resource_type == value,
        "status" => r.status == value || format::status(&r.action, &r.status) == value,
        "name" => r.name == value,
        "action" => r.action == value,
        "id" => r.id == value,
        "physical_resource_id" => r.physical_id == value,
        _ => true,
    }
}

/// The stack and the stacks nested in it down to `depth` levels, parents first.
pub async fn stack_tree(
    state: &ApiState,
    stack: StackRow,
    depth: usize,
) -> Result<Vec<StackRow>, ApiError> {
    let store = &state.engine.services().store;
    let depth = depth.min(state.engine.services().limits.max_nested_depth.max(0) as usize);
    let mut out = vec![stack];
    let mut level = 0;
    let mut frontier = 0..1;
    while level < depth && !frontier.is_empty() {
        let start = out.len();
        for i in frontier.clone() {
            let id = out[i].id.clone();
            out.extend(store.nested_stacks(&id).await?);
        }
        frontier = start..out.len();
        level += 1;
    }
    Ok(out)
}

const RESOURCE_FILTERS: &[&str] = &[
    "type",
    "status",
    "name",
    "action",
    "id",
    "physical_resource_id",
];

/// `GET /stacks/{name}/{id}/resources` with `nested_depth` and Heat's filters.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/resources", tag = "resources", params(("nested_depth" = Option<u32>, Query, description = "Levels of nested stacks"), ("with_detail" = Option<bool>, Query, description = "Descriptions and attributes"), ("type" = Option<String>, Query, description = "Filter"), ("status" = Option<String>, Query, description = "Filter"), ("name" = Option<String>, Query, description = "Filter"), ("action" = Option<String>, Query, description = "Filter"), ("id" = Option<String>, Query, description = "Filter"), ("physical_resource_id" = Option<String>, Query, description = "Filter")), responses((status = 200, description = "Resources", body = crate::api::openapi::schemas::ResourceList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    for key in query.keys() {
        if !RESOURCE_FILTERS.contains(&key) && key != "nested_depth" && key != "with_detail" {
            return Err(ApiError::bad_request(format!(
                "Invalid filter parameters ['{key}']"
            )));
        }
    }
    let depth = nested_depth(&query)?;
    let with_detail = query.flag("with_detail", false)?;
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let tree = stack_tree(&state, stack, depth).await?;
    let store = &state.engine.services().store;
    let base = base_url(&headers);
    let mut list = Vec::new();
    for stack in &tree {
        let deps = required_by(stack);
        // Which of its resources own a nested stack (their `nested` link), below the
        // requested depth too.
        let nested: HashMap<String, StackRow> = store
            .nested_stacks(&stack.id)
            .await?
            .into_iter()
            .filter_map(|child| Some((child.owner_resource.clone()?, child)))
            .collect();
        for r in store.stack_resources(&stack.id).await? {
            let keep = RESOURCE_FILTERS.iter().all(|key| {
                let values = query.all(key);
                values.is_empty() || values.iter().any(|v| matches(stack, &r, key, v))
            });
            if !keep {
                continue;
            }
            let mut item = format::resource(
                &base,
                stack,
                &r,
                deps.get(&r.name).map(Vec::as_slice).unwrap_or_default(),
            );
            if let Some(child) = nested.get(&r.name).filter(|c| c.id == r.physical_id) {
                add_nested_link(&mut item, &base, child);
            }
            if let Some(parent) = &stack.owner_resource {
                item["parent_resource"] = json!(parent);
            }
            if with_detail {
                item["description"] = json!(description(stack, &r.name));
                item["attributes"] = Value::Object(r.attributes.clone());
            }
            list.push(item);
        }
    }
    Ok(Json(json!({"resources": list})))
}

/// `GET /stacks/{name}/{id}/resources/{resource}`: summary + description + attributes
/// (every attribute the resource has resolved, so `with_attr` names nothing more).
#[utoipa::path(get, path = "/stacks/{stack}/{id}/resources/{resource}", tag = "resources", params(("with_attr" = Option<String>, Query, description = "Extra attributes (all are shown)")), responses((status = 200, description = "The resource", body = crate::api::openapi::schemas::ResourceShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let row = state
        .engine
        .services()
        .store
        .resource(&stack.id, &resource)
        .await?
        .ok_or_else(|| resource_not_found(&resource, &stack))?;
    let deps = required_by(&stack);
    let mut body = format::resource(
        &base_url(&headers),
        &stack,
        &row,
        deps.get(&row.name).map(Vec::as_slice).unwrap_or_default(),
    );
    body["description"] = json!(description(&stack, &row.name));
    body["attributes"] = Value::Object(row.attributes.clone());
    if !row.physical_id.is_empty()
        && let Some(child) = state
            .engine
            .services()
            .store
            .stack(&row.physical_id)
            .await?
            .filter(|c| c.owner_id.as_deref() == Some(stack.id.as_str()) && c.deleted_at.is_none())
    {
        add_nested_link(&mut body, &base_url(&headers), &child);
    }
    Ok(Json(json!({"resource": body})))
}

/// Heat's `nested` link of a resource owning a nested stack.
fn add_nested_link(item: &mut Value, base: &str, child: &StackRow) {
    if let Some(links) = item["links"].as_array_mut() {
        links.push(json!({"href": format::stack_href(base, child), "rel": "nested"}));
    }
}

/// `GET /stacks/{name}/{id}/resources/{resource}/metadata`: for a server, its metadata
/// document (what the `heat` collector polls).
#[utoipa::path(get, path = "/stacks/{stack}/{id}/resources/{resource}/metadata", tag = "resources", responses((status = 200, description = "Its metadata (a server: what its agent polls)", body = crate::api::openapi::schemas::MetadataShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn metadata(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let store = &state.engine.services().store;
    let row = store
        .resource(&stack.id, &resource)
        .await?
        .ok_or_else(|| resource_not_found(&resource, &stack))?;
    let document = if row.physical_id.is_empty() {
        None
    } else {
        store.metadata(&row.physical_id).await?.map(|m| m.document)
    };
    // Not a server: a wait condition handle's metadata is its signals (Heat keeps them
    // there), anything else's its template `metadata`.
    let document = document
        .or_else(|| {
            row.data
                .get(crate::resources::heat::wait_condition_handle::SIGNALS_KEY)
                .cloned()
        })
        .or_else(|| format::template_field(&stack, &resource, "metadata").cloned());
    Ok(Json(
        json!({"metadata": document.unwrap_or_else(|| json!({}))}),
    ))
}

/// `POST /stacks/{name}/{id}/resources/{resource}/signal`: 200 `null`.
#[utoipa::path(post, path = "/stacks/{stack}/{id}/resources/{resource}/signal", tag = "resources", request_body = Object, responses((status = 200, description = "Taken (body null)"), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn signal(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let body = json_body(&body)?;
    state
        .engine
        .signal_resource(&stack, &resource, Value::Object(body))
        .await?;
    Ok(Json(Value::Null))
}
