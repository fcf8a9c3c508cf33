//! Resource endpoints: list, show, metadata, signal.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
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

/// `GET /stacks/{name}/{id}/resources`.
pub async fn list(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let rows = state
        .engine
        .services()
        .store
        .stack_resources(&stack.id)
        .await?;
    let base = base_url(&headers);
    let deps = required_by(&stack);
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            format::resource(
                &base,
                &stack,
                r,
                deps.get(&r.name).map(Vec::as_slice).unwrap_or_default(),
            )
        })
        .collect();
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
