//! Event endpoints: newest first by default, `sort_dir`, `limit`, `marker`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::format::{self, base_url};
use super::stacks::canonical_stack;
use super::{ApiError, ApiState};
use crate::store::StackRow;

/// Query parameters of event listings.
#[derive(Debug, Deserialize, Default)]
pub struct EventQuery {
    sort_dir: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
    resource_name: Option<String>,
    nested_depth: Option<String>,
}

async fn events(
    state: &ApiState,
    (project, name, id): (String, String, String),
    resource: Option<String>,
    query: EventQuery,
    headers: &HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(state, &project, &name, &id).await?;
    let store = &state.engine.services().store;
    let depth = match &query.nested_depth {
        Some(v) => super::resources::nested_depth(&HashMap::from([(
            "nested_depth".to_string(),
            v.clone(),
        )]))?,
        None => 0,
    };
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
    if let Some(r) = resource.as_ref().or(query.resource_name.as_ref()) {
        rows.retain(|e| &e.resource_name == r);
        if rows.is_empty() && resource.is_some() {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "EntityNotFound",
                format!("No events found for resource {r}"),
            ));
        }
    }
    if query.sort_dir.as_deref() != Some("asc") {
        rows.reverse();
    }
    if let Some(marker) = &query.marker
        && let Some(pos) = rows.iter().position(|e| &e.id == marker)
    {
        rows.drain(..=pos);
    }
    if let Some(limit) = query.limit {
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
pub async fn list(
    State(state): State<ApiState>,
    Path(path): Path<(String, String, String)>,
    Query(query): Query<EventQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    events(&state, path, None, query, &headers).await
}

/// `GET /stacks/{name}/{id}/resources/{resource}/events`.
pub async fn list_for_resource(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
    Query(query): Query<EventQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    events(&state, (project, name, id), Some(resource), query, &headers).await
}
