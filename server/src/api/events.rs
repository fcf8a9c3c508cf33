//! Event endpoints: newest first by default, `sort_dir`, `limit`, `marker`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use std::collections::HashMap;

use serde_json::{Value, json};

use super::format::{self, base_url};
use super::query::{Query, sort_descending};
use super::stacks::canonical_stack;
use super::{ApiError, ApiState};
use crate::store::{EventRow, StackRow};

/// The filters of event listings (repeat a key for either value).
const EVENT_FILTERS: &[&str] = &[
    "resource_status",
    "resource_action",
    "resource_name",
    "resource_type",
];

fn matches(e: &EventRow, key: &str, value: &str) -> bool {
    match key {
        "resource_status" => {
            e.resource_status == value
                || format::status(&e.resource_action, &e.resource_status) == value
        }
        "resource_action" => e.resource_action == value,
        "resource_name" => e.resource_name == value,
        "resource_type" => e.resource_type == value,
        _ => true,
    }
}

async fn events(
    state: &ApiState,
    (project, name, id): (String, String, String),
    resource: Option<String>,
    query: Query,
    headers: &HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(state, &project, &name, &id).await?;
    let store = &state.engine.services().store;
    let depth = super::resources::nested_depth(&query)?;
    let descending = sort_descending(&query, true)?;
    let limit = query.count("limit")?;
    // With nested_depth, the events of nested stacks too, each shown with its own stack
    // and a `root_stack` link (as Heat).
    let tree = super::resources::stack_tree(state, stack.clone(), depth).await?;
    let by_id: HashMap<String, &StackRow> = tree.iter().map(|s| (s.id.clone(), s)).collect();
    let mut rows = Vec::new();
    for s in &tree {
        rows.extend(store.stack_events(&s.id).await?);
    }
    if tree.len() > 1 {
        rows.sort_by_key(|e| e.seq);
    }
    if let Some(r) = &resource {
        rows.retain(|e| &e.resource_name == r);
        if rows.is_empty() {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "EntityNotFound",
                format!("No events found for resource {r}"),
            ));
        }
    }
    rows.retain(|e| {
        EVENT_FILTERS.iter().all(|key| {
            let values = query.all(key);
            values.is_empty() || values.iter().any(|v| matches(e, key, v))
        })
    });
    if descending {
        rows.reverse();
    }
    if let Some(marker) = query.get("marker")
        && let Some(pos) = rows.iter().position(|e| e.id == marker)
    {
        rows.drain(..=pos);
    }
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    let base = base_url(headers);
    let list: Vec<Value> = rows
        .iter()
        .map(|e| {
            let owner = by_id.get(&e.stack_id).copied().unwrap_or(&stack);
            let mut v = format::event(&base, owner, e);
            if depth > 0
                && let Some(links) = v["links"].as_array_mut()
            {
                links.push(json!({"href": format::stack_href(&base, &stack), "rel": "root_stack"}));
            }
            v
        })
        .collect();
    Ok(Json(json!({"events": list})))
}

/// `GET /stacks/{name}/{id}/events`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/events", tag = "events", params(("limit" = Option<u32>, Query, description = "Page size"), ("marker" = Option<String>, Query, description = "Last event id seen"), ("sort_dir" = Option<crate::api::openapi::schemas::SortDir>, Query, description = "asc or desc (default desc)"), ("nested_depth" = Option<u32>, Query, description = "Levels"), ("resource_status" = Option<String>, Query, description = "Filter"), ("resource_action" = Option<String>, Query, description = "Filter"), ("resource_name" = Option<String>, Query, description = "Filter"), ("resource_type" = Option<String>, Query, description = "Filter")), responses((status = 200, description = "Events, newest first", body = crate::api::openapi::schemas::EventList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path(path): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    events(&state, path, None, Query::parse(raw.as_deref()), &headers).await
}

/// `GET /stacks/{name}/{id}/resources/{resource}/events`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/resources/{resource}/events", tag = "events", params(("limit" = Option<u32>, Query, description = "Page size"), ("marker" = Option<String>, Query, description = "Last event id seen"), ("sort_dir" = Option<crate::api::openapi::schemas::SortDir>, Query, description = "asc or desc")), responses((status = 200, description = "Events of the resource", body = crate::api::openapi::schemas::EventList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list_for_resource(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    events(&state, (project, name, id), Some(resource), query, &headers).await
}

/// `GET /stacks/{name}/{id}/resources/{resource}/events/{event_id}`: the event with its
/// `resource_type` and `resource_properties` (the resource's properties as they are now:
/// events do not keep a copy of their own).
#[utoipa::path(get, path = "/stacks/{stack}/{id}/resources/{resource}/events/{event}", tag = "events", responses((status = 200, description = "The event", body = crate::api::openapi::schemas::EventShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, name, id, resource, event_id)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let store = &state.engine.services().store;
    let event = store
        .stack_events(&stack.id)
        .await?
        .into_iter()
        .find(|e| e.id == event_id && e.resource_name == resource)
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "EntityNotFound",
                format!("The Event ({event_id}) could not be found."),
            )
        })?;
    let properties = store
        .resource(&stack.id, &resource)
        .await?
        .map(|r| r.properties)
        .unwrap_or_else(|| json!({}));
    let mut body = format::event(&base_url(&headers), &stack, &event);
    body["resource_type"] = json!(event.resource_type);
    body["resource_properties"] = properties;
    Ok(Json(json!({"event": body})))
}
