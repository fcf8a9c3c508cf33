//! Heat's abandon, export and adopt (reference heat-server.md §3.2), behind the server's
//! `--enable-stack-abandon` and `--enable-stack-adopt` switches (400 `NotSupported`
//! otherwise): `DELETE /stacks/{name}/{id}/abandon` and `GET …/export` (200, the abandon
//! data), and `POST /stacks` with `adopt_stack_data` ([`adopt`], called by
//! `stacks::create`). The engine side is `engine/abandon.rs`.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value};
use updraft_hooks::python_json::truthy;

use super::stacks::{live_stack, stack_request};
use super::{ApiError, ApiState};
use crate::store::StackRow;
use crate::template::loader::load_document;

/// `DELETE /stacks/{name}/{id}/abandon`.
#[utoipa::path(delete, path = "/stacks/{stack}/{id}/abandon", tag = "stacks", responses((status = 200, description = "Abandon data; the stack is gone, its resources kept", body = Object), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn abandon(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    Ok(Json(state.engine.abandon_stack(&stack).await?))
}

/// `GET /stacks/{name}/{id}/export`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/export", tag = "stacks", responses((status = 200, description = "Abandon data, nothing deleted", body = Object), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn export(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    Ok(Json(state.engine.export_stack(&stack).await?))
}

/// Creates stack `name` from `data` (the `adopt_stack_data` of a `POST /stacks` body, a
/// JSON or YAML string as heatclient sends it, or a map): the template comes from the
/// data, and so does the environment unless the request has one; the request's
/// `parameters` and `files` apply on top.
pub async fn adopt(
    state: &ApiState,
    project: &str,
    name: &str,
    body: &Map<String, Value>,
    data: &Value,
) -> Result<StackRow, ApiError> {
    if !state.engine.adopt_enabled() {
        return Err(
            ApiError::bad_request("Stack Adopt is not supported.").with_type("NotSupported")
        );
    }
    let data = match data {
        Value::String(text) => load_document(text)
            .map_err(|e| ApiError::bad_request(format!("Invalid adopt data: {}", e.message)))?,
        other => other.clone(),
    };
    let Value::Object(data) = data else {
        return Err(ApiError::bad_request("Invalid adopt data: not a map"));
    };
    let template = data
        .get("template")
        .filter(|t| t.is_object())
        .cloned()
        .ok_or_else(|| ApiError::bad_request("Invalid adopt data: no template"))?;
    let mut request_body = body.clone();
    request_body.insert("template".into(), template);
    if !body.get("environment").is_some_and(truthy)
        && let Some(env) = data.get("environment")
    {
        request_body.insert("environment".into(), env.clone());
    }
    if !body.get("files").is_some_and(truthy)
        && let Some(files) = data.get("files")
    {
        request_body.insert("files".into(), files.clone());
    }
    let request = stack_request(&request_body)?;
    let resources = data
        .get("resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(state
        .engine
        .adopt_stack(project, name, request, &resources)
        .await?)
}
