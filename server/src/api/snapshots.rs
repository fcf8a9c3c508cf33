//! Stack snapshots (reference heat-server.md §3.2): `POST /stacks/{name}/{id}/snapshots`
//! (200, the snapshot itself), `GET …/snapshots` (`{"snapshots": [...]}`), `GET` and
//! `DELETE …/snapshots/{sid}`, and `POST …/snapshots/{sid}/restore` (202).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::stacks::{accepted, json_body, live_stack};
use super::{ApiError, ApiState};
use crate::store::SnapshotRow;

/// A snapshot as the API shows it (Heat's `format_snapshot`).
fn snapshot_body(s: &SnapshotRow) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "stack_id": s.stack_id,
        "data": s.data,
        "action": s.action,
        "status": s.status,
        "status_reason": s.status_reason,
        "creation_time": s.created_at,
    })
}

/// `POST /stacks/{name}/{id}/snapshots` `{"name": …}`.
#[utoipa::path(post, path = "/stacks/{stack}/{id}/snapshots", tag = "snapshots", request_body = crate::api::openapi::schemas::SnapshotRequest, responses((status = 200, description = "The snapshot", body = crate::api::openapi::schemas::Snapshot), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let body = json_body(&body)?;
    let snapshot_name = match body.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::bad_request("name: must be a string")),
    };
    let snapshot = state.engine.snapshot_stack(&stack, &snapshot_name).await?;
    Ok(Json(snapshot_body(&snapshot)))
}

/// `GET /stacks/{name}/{id}/snapshots`, oldest first.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/snapshots", tag = "snapshots", responses((status = 200, description = "Snapshots", body = crate::api::openapi::schemas::SnapshotList), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let snapshots = state
        .engine
        .services()
        .store
        .stack_snapshots(&stack.id)
        .await?;
    let listed: Vec<Value> = snapshots.iter().map(snapshot_body).collect();
    Ok(Json(json!({"snapshots": listed})))
}

/// `GET /stacks/{name}/{id}/snapshots/{sid}`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/snapshots/{snapshot}", tag = "snapshots", responses((status = 200, description = "The snapshot", body = crate::api::openapi::schemas::SnapshotShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, name, id, sid)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let snapshot = state.engine.stack_snapshot(&stack, &sid).await?;
    Ok(Json(json!({"snapshot": snapshot_body(&snapshot)})))
}

/// `DELETE /stacks/{name}/{id}/snapshots/{sid}`: 204.
#[utoipa::path(delete, path = "/stacks/{stack}/{id}/snapshots/{snapshot}", tag = "snapshots", responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Path((project, name, id, sid)): Path<(String, String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let snapshot = state.engine.stack_snapshot(&stack, &sid).await?;
    state
        .engine
        .services()
        .store
        .delete_snapshot(&snapshot.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /stacks/{name}/{id}/snapshots/{sid}/restore`: 202; the stack goes
/// `RESTORE_IN_PROGRESS` → `RESTORE_COMPLETE`.
#[utoipa::path(post, path = "/stacks/{stack}/{id}/snapshots/{snapshot}/restore", tag = "snapshots", responses((status = 202, description = "Restoring", body = crate::api::openapi::schemas::WebobBody), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn restore(
    State(state): State<ApiState>,
    Path((project, name, id, sid)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let snapshot = state.engine.stack_snapshot(&stack, &sid).await?;
    state.engine.restore_snapshot(&stack, &snapshot).await?;
    Ok(accepted())
}
