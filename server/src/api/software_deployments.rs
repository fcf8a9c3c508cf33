//! The software-deployments API (reference heat-server.md §3.2): `GET /software_deployments`
//! (`server_id` filter), `POST` (200), `GET`, `PUT` and `DELETE /software_deployments/{id}`,
//! and `GET /software_deployments/metadata/{server_id}`, the derived configs of every
//! deployment to a server (what Heat's `deployments` metadata key holds), readable by the
//! admin and by that server's own stack user.
//!
//! Everything is scoped to the path's project: another project's deployment is 404
//! `NotFound`. Creating or deleting a deployment, or pointing one at another config,
//! republishes the server's metadata document (`engine/server_metadata.rs`), so an agent
//! polling that server sees the change as it would for a `SoftwareDeployment` resource.
//! `PUT` is Heat's plain setter: keys that are Python-false are ignored, and the signal
//! rules of a deployment resource are *not* applied.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::query::Query;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use updraft_hooks::python_json::truthy;

use super::{ApiError, ApiState};
use crate::engine::server_metadata::{self, format_config};
use crate::store::{DeploymentRow, now_timestamp};

/// A deployment as the API shows it (Heat's `format_software_deployment`).
fn deployment_body(d: &DeploymentRow) -> Value {
    json!({
        "id": d.id,
        "server_id": d.server_id,
        "config_id": d.config_id,
        "input_values": d.input_values,
        "output_values": d.output_values,
        "action": d.action,
        "status": d.status,
        "status_reason": d.status_reason,
        "creation_time": d.created_at,
        "updated_time": d.updated_at,
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("Software deployment with id {id} not found"),
    )
}

/// A deployment of `project`, or 404.
async fn project_deployment(
    state: &ApiState,
    project: &str,
    id: &str,
) -> Result<DeploymentRow, ApiError> {
    match state.engine.services().store.deployment(id).await? {
        Some(d) if d.project == project => Ok(d),
        _ => Err(not_found(id)),
    }
}

/// Rebuilds the metadata document of `server_id` and wakes its pollers.
async fn republish(state: &ApiState, server_id: &str) -> Result<(), ApiError> {
    server_metadata::publish(state.engine.services(), server_id).await?;
    Ok(())
}

/// The request body as a JSON object, or 400.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not JSON: {e}")))?;
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
    }
}

/// The string under `key`: `None` when absent or Python-false, 400 when not a string.
fn text(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        Some(v) if !truthy(v) => Ok(None),
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key}: must be a string, not {other}"
        ))),
    }
}

/// The map under `key`: `None` when absent or Python-false, 400 when not a map.
fn map(body: &Map<String, Value>, key: &str) -> Result<Option<Map<String, Value>>, ApiError> {
    match body.get(key) {
        Some(v) if !truthy(v) => Ok(None),
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(_) => Err(ApiError::bad_request(format!("{key}: must be a map"))),
    }
}

/// `GET /v1/{project}/software_deployments[?server_id=]`: `{"software_deployments": [...]}`,
/// oldest first.
#[utoipa::path(get, path = "/software_deployments", tag = "software", params(("server_id" = Option<String>, Query, description = "Only this server")), responses((status = 200, description = "Deployments", body = crate::api::openapi::schemas::SoftwareDeploymentList), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let server = query.get("server_id").filter(|s| !s.is_empty());
    let rows = state
        .engine
        .services()
        .store
        .project_deployments(&project, server)
        .await?;
    let listed: Vec<Value> = rows.iter().map(deployment_body).collect();
    Ok(Json(json!({"software_deployments": listed})))
}

/// `POST /v1/{project}/software_deployments`: `server_id` and `config_id` (a config of this
/// project) are required; `action` defaults to `INIT`, `status` to `COMPLETE`.
#[utoipa::path(post, path = "/software_deployments", tag = "software", request_body = crate::api::openapi::schemas::SoftwareDeploymentCreateRequest, responses((status = 200, description = "The deployment", body = crate::api::openapi::schemas::SoftwareDeploymentShow), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = body_object(&body)?;
    let server_id =
        text(&body, "server_id")?.ok_or_else(|| ApiError::bad_request("server_id is required"))?;
    let config_id =
        text(&body, "config_id")?.ok_or_else(|| ApiError::bad_request("config_id is required"))?;
    let store = &state.engine.services().store;
    match store.config(&config_id).await? {
        Some(c) if c.project == project => {}
        // Heat's wording, sic.
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("Software config with id {config_id} not found"),
            ));
        }
    }
    let row = DeploymentRow {
        id: uuid::Uuid::new_v4().to_string(),
        project,
        server_id,
        config_id,
        input_values: map(&body, "input_values")?.unwrap_or_default(),
        output_values: Map::new(),
        action: text(&body, "action")?.unwrap_or_else(|| "INIT".into()),
        status: text(&body, "status")?.unwrap_or_else(|| "COMPLETE".into()),
        status_reason: text(&body, "status_reason")?.unwrap_or_default(),
        created_at: now_timestamp(),
        updated_at: None,
    };
    store.put_deployment(&row).await?;
    republish(&state, &row.server_id).await?;
    Ok(Json(json!({"software_deployment": deployment_body(&row)})))
}

/// `GET /v1/{project}/software_deployments/{id}`.
#[utoipa::path(get, path = "/software_deployments/{deployment_id}", tag = "software", responses((status = 200, description = "The deployment", body = crate::api::openapi::schemas::SoftwareDeploymentShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let row = project_deployment(&state, &project, &id).await?;
    Ok(Json(json!({"software_deployment": deployment_body(&row)})))
}

/// `PUT /v1/{project}/software_deployments/{id}`: sets the given keys (`config_id`,
/// `input_values`, `output_values`, `action`, `status`, `status_reason`); the server's
/// metadata is republished only when `config_id` changed.
#[utoipa::path(put, path = "/software_deployments/{deployment_id}", tag = "software", request_body = crate::api::openapi::schemas::SoftwareDeploymentRequest, responses((status = 200, description = "The deployment", body = crate::api::openapi::schemas::SoftwareDeploymentShow), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn update(
    State(state): State<ApiState>,
    Path((project, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = body_object(&body)?;
    let mut row = project_deployment(&state, &project, &id).await?;
    let store = &state.engine.services().store;
    let old_config = row.config_id.clone();
    if let Some(config_id) = text(&body, "config_id")? {
        match store.config(&config_id).await? {
            Some(c) if c.project == project => row.config_id = config_id,
            _ => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("Software config with id {config_id} not found"),
                ));
            }
        }
    }
    if let Some(v) = map(&body, "input_values")? {
        row.input_values = v;
    }
    if let Some(v) = map(&body, "output_values")? {
        row.output_values = v;
    }
    for (key, field) in [
        ("action", &mut row.action),
        ("status", &mut row.status),
        ("status_reason", &mut row.status_reason),
    ] {
        if let Some(v) = text(&body, key)? {
            *field = v;
        }
    }
    row.updated_at = Some(now_timestamp());
    store.put_deployment(&row).await?;
    if row.config_id != old_config {
        republish(&state, &row.server_id).await?;
    }
    Ok(Json(json!({"software_deployment": deployment_body(&row)})))
}

/// `DELETE /v1/{project}/software_deployments/{id}`: 204; the server's metadata is
/// republished without it.
#[utoipa::path(delete, path = "/software_deployments/{deployment_id}", tag = "software", responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Path((project, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let row = project_deployment(&state, &project, &id).await?;
    state
        .engine
        .services()
        .store
        .delete_deployment(&row.id)
        .await?;
    republish(&state, &row.server_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/{project}/software_deployments/metadata/{server_id}`: `{"metadata": [...]}`,
/// sorted by config name as in the server's metadata.
#[utoipa::path(get, path = "/software_deployments/metadata/{server_id}", tag = "software", responses((status = 200, description = "Derived configs of the server", body = crate::api::openapi::schemas::ServerMetadata), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn server_metadata(
    State(state): State<ApiState>,
    Path((project, server_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let configs = state
        .engine
        .services()
        .store
        .server_deployment_configs(&server_id)
        .await?;
    let metadata: Vec<Value> = configs
        .iter()
        .filter(|c| c.project == project)
        .map(format_config)
        .collect();
    Ok(Json(json!({"metadata": metadata})))
}
