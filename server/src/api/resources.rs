//! Resource endpoints: list, show, metadata, signal.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::format::{self, base_url};
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
pub fn nested_depth(query: &HashMap<String, String>) -> Result<usize, ApiError> {
    match query.get("nested_depth") {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| n as usize)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Only integer is acceptable by 'nested_depth'. Got \"{v}\"."
                ))
                .with_type("HTTPBadRequest")
            }),
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
pub async fn list(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    for key in query.keys() {
        if !RESOURCE_FILTERS.contains(&key.as_str())
            && key != "nested_depth"
            && key != "with_detail"
        {
            return Err(ApiError::bad_request(format!(
                "Invalid filter parameters ['{key}']"
            )));
        }
    }
    let depth = nested_depth(&query)?;
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let tree = stack_tree(&state, stack, depth).await?;
    let store = &state.engine.services().store;
    let base = base_url(&headers);
    // Which resource of which stack owns a nested stack (its `nested` link).
    let nested: HashMap<(String, String), &StackRow> = tree
        .iter()
        .filter_map(|s| Some(((s.owner_id.clone()?, s.owner_resource.clone()?), s)))
        .collect();
    let mut list = Vec::new();
    for stack in &tree {
        let deps = required_by(stack);
        for r in store.stack_resources(&stack.id).await? {
            let keep = query.iter().all(|(k, v)| match k.as_str() {
                "type" => &r.resource_type == v,
                "status" => &r.status == v,
                "name" => &r.name == v,
                "action" => &r.action == v,
                "id" => &r.id == v,
                "physical_resource_id" => &r.physical_id == v,
                _ => true,
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
            if let Some(child) = nested.get(&(stack.id.clone(), r.name.clone()))
                && let Some(links) = item["links"].as_array_mut()
            {
                links.push(json!({"href": format::stack_href(&base, child), "rel": "nested"}));
            }
            if let Some(parent) = &stack.owner_resource {
                item["parent_resource"] = json!(parent);
            }
            list.push(item);
        }
    }
    Ok(Json(json!({"resources": list})))
}

/// `GET /stacks/{name}/{id}/resources/{resource}`: summary + description + attributes.
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
    body["description"] = json!("");
    body["attributes"] = Value::Object(row.attributes.clone());
    Ok(Json(json!({"resource": body})))
}

/// `GET /stacks/{name}/{id}/resources/{resource}/metadata`: for a server, its metadata
/// document (what the `heat` collector polls).
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
    Ok(Json(
        json!({"metadata": document.unwrap_or_else(|| json!({}))}),
    ))
}

/// `POST /stacks/{name}/{id}/resources/{resource}/signal`: 200 `null`.
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
