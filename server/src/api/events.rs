//! Event endpoints: newest first by default, `sort_dir`, `limit`, `marker`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::format::{self, base_url};
use super::stacks::canonical_stack;
use super::{ApiError, ApiState};

/// Query parameters of event listings.
#[derive(Debug, Deserialize, Default)]
pub struct EventQuery {
    sort_dir: Option<String>,
    limit: Option<usize>,
    marker: Option<String>,
    resource_name: Option<String>,
}

async fn events(
    state: &ApiState,
    (project, name, id): (String, String, String),
    resource: Option<String>,
    query: EventQuery,
    headers: &HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(state, &project, &name, &id).await?;
    let mut rows = state
        .engine
        .services()
        .store
        .stack_events(&stack.id)
        .await?;
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
    Ok(Json(
        json!({"events": rows.iter().map(|e| format::event(&base, &stack, e)).collect::<Vec<_>>()}),
    ))
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
