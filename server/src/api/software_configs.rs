//! The software-configs API (reference heat-server.md §3.2): `POST /software_configs`
//! (200, as Heat), `GET /software_configs` (`limit`, `marker`), `GET` and `DELETE
//! /software_configs/{id}`. Configs are immutable; the inputs and outputs are checked and
//! normalised as the config resources do (`resources/heat/software_config.rs`), so a config
//! made here and one made by a template look the same to a deployment.
//!
//! Deviation: deleting a config a deployment still uses is 409 `InvalidRestrictedAction`
//! with Heat's message (Heat answers 500 for it).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use super::query::Query;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{ApiError, ApiState};
use crate::resources::heat::software_config::{
    UNGROUPED, normalise_inputs, normalise_outputs, validate_io,
};
use crate::store::{ConfigRow, now_timestamp};

/// A config as the API shows it.
fn config_body(c: &ConfigRow) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "group": c.group,
        "creation_time": c.created_at,
        "config": c.config,
        "inputs": c.inputs,
        "outputs": c.outputs,
        "options": c.options,
    })
}

fn not_found(id: &str) -> ApiError {
    // Heat's wording, sic.
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("Software config with id {id} not found"),
    )
}

/// A config of `project`, or 404.
async fn project_config(state: &ApiState, project: &str, id: &str) -> Result<ConfigRow, ApiError> {
    match state.engine.services().store.config(id).await? {
        Some(c) if c.project == project => Ok(c),
        _ => Err(not_found(id)),
    }
}

/// `inputs` without their `value`s: a derived config made by a client (`openstack software
/// deployment create` builds it itself) carries them, which Heat's input schema allows
/// here though a template's config resource may not.
fn without_values(list: &Value) -> Value {
    match list {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Object(m) => {
                        let mut m = m.clone();
                        m.remove("value");
                        Value::Object(m)
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The normalised inputs with each given `value` put back.
fn with_values(normalised: Value, given: Option<&Value>) -> Value {
    let (Value::Array(mut items), Some(Value::Array(given))) = (normalised, given) else {
        return Value::Array(Vec::new());
    };
    for (item, source) in items.iter_mut().zip(given) {
        if let (Value::Object(m), Some(v)) = (item, source.get("value")) {
            m.insert("value".into(), v.clone());
        }
    }
    Value::Array(items)
}

/// `POST /v1/{project}/software_configs`.
#[utoipa::path(post, path = "/software_configs", tag = "software", request_body = crate::api::openapi::schemas::SoftwareConfigRequest, responses((status = 200, description = "The config", body = crate::api::openapi::schemas::SoftwareConfigShow), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not JSON: {e}")))?;
    let Value::Object(body) = body else {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object",
        ));
    };
    let text = |key: &str, default: &str| -> Result<String, ApiError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(ApiError::bad_request(format!(
                "{key}: must be a string, not {other}"
            ))),
        }
    };
    let name = text("name", "")?;
    let group = text("group", UNGROUPED)?;
    for (key, outputs) in [("inputs", false), ("outputs", true)] {
        match body.get(key) {
            None | Some(Value::Null | Value::Array(_)) => {}
            Some(_) => return Err(ApiError::bad_request(format!("{key}: must be a list"))),
        }
        if let Some(list) = body.get(key) {
            validate_io(&without_values(list), key, outputs)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
    }
    let options = match body.get("options") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(ApiError::bad_request("options: must be a map")),
    };
    let row = ConfigRow {
        id: uuid::Uuid::new_v4().to_string(),
        project,
        name,
        group,
        config: body.get("config").cloned().unwrap_or(Value::Null),
        inputs: with_values(normalise_inputs(body.get("inputs")), body.get("inputs")),
        outputs: normalise_outputs(body.get("outputs")),
        options,
        created_at: now_timestamp(),
    };
    state.engine.services().store.insert_config(&row).await?;
    Ok(Json(json!({"software_config": config_body(&row)})))
}

/// `GET /v1/{project}/software_configs`: `{"software_configs": [{id, name, group,
/// creation_time}]}`, oldest first, after `marker`, at most `limit`.
#[utoipa::path(get, path = "/software_configs", tag = "software", params(("limit" = Option<u32>, Query, description = "Page size"), ("marker" = Option<String>, Query, description = "Last id of the previous page")), responses((status = 200, description = "Configs", body = crate::api::openapi::schemas::SoftwareConfigList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "The marker is no config of the project", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let limit = match query.get("limit") {
        None | Some("") => None,
        Some(_) => query.count("limit")?,
    };
    let configs = state
        .engine
        .services()
        .store
        .project_configs(&project)
        .await?;
    let start = match query.get("marker").filter(|m| !m.is_empty()) {
        None => 0,
        Some(marker) => match configs.iter().position(|c| c.id == marker) {
            Some(i) => i + 1,
            None => return Err(not_found(marker)),
        },
    };
    let listed: Vec<Value> = configs
        .iter()
        .skip(start)
        .take(limit.unwrap_or(usize::MAX))
        .map(|c| {
            json!({"id": c.id, "name": c.name, "group": c.group, "creation_time": c.created_at})
        })
        .collect();
    Ok(Json(json!({"software_configs": listed})))
}

/// `GET /v1/{project}/software_configs/{id}`.
#[utoipa::path(get, path = "/software_configs/{config_id}", tag = "software", responses((status = 200, description = "The config", body = crate::api::openapi::schemas::SoftwareConfigShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let config = project_config(&state, &project, &id).await?;
    Ok(Json(json!({"software_config": config_body(&config)})))
}

/// `DELETE /v1/{project}/software_configs/{id}`: 204, or 409 while a deployment uses it.
#[utoipa::path(delete, path = "/software_configs/{config_id}", tag = "software", responses((status = 204, description = "Deleted"), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Path((project, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let config = project_config(&state, &project, &id).await?;
    let store = &state.engine.services().store;
    if store.config_in_use(&config.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "InvalidRestrictedAction",
            format!(
                "Software config with id {} can not be deleted as it is referenced.",
                config.id
            ),
        ));
    }
    store.delete_config(&config.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
