//! `POST /stacks/{name}/{id}/actions` (suspend, resume, check, cancel_update,
//! cancel_without_rollback) and `PATCH /stacks/{name}/{id}/resources/{resource}`
//! (mark-unhealthy): 200 `null`, as Heat.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::Value;

use super::stacks::{canonical_stack, json_body, live_stack};
use super::{ApiError, ApiState};
use crate::engine::StackAction;

/// `POST …/actions` with exactly one key.
#[utoipa::path(post, path = "/stacks/{stack}/{id}/actions", tag = "stacks", request_body = crate::api::openapi::schemas::ActionRequest, responses((status = 200, description = "Started (body null)"), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn action(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let body = json_body(&body)?;
    let key = match body.len() {
        0 => return Err(ApiError::bad_request("No action specified")),
        1 => body.keys().next().cloned().unwrap_or_default(),
        _ => return Err(ApiError::bad_request("Multiple actions specified")),
    };
    let action = StackAction::parse(&key)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid action {key} specified")))?;
    state.engine.stack_action(&stack, action).await?;
    Ok(Json(Value::Null))
}

/// Heat's `extract_bool`: a JSON boolean or the strings `true`/`false` (any case).
fn extract_bool(name: &str, value: &Value) -> Result<bool, ApiError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ApiError::bad_request(format!(
            "Unrecognized value \"{}\" for \"{name}\", acceptable values are: true, false.",
            match other {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            }
        ))),
    }
}

/// `PATCH …/resources/{resource}`: `{"mark_unhealthy": bool, "resource_status_reason": str}`.
#[utoipa::path(patch, path = "/stacks/{stack}/{id}/resources/{resource}", tag = "resources", request_body = crate::api::openapi::schemas::MarkUnhealthyRequest, responses((status = 200, description = "Marked (body null)"), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn mark_unhealthy(
    State(state): State<ApiState>,
    Path((project, name, id, resource)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let body = json_body(&body)?;
    let invalid: Vec<String> = body
        .keys()
        .filter(|k| *k != "mark_unhealthy" && *k != "resource_status_reason")
        .map(|k| format!("'{k}'"))
        .collect();
    if !invalid.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Invalid keys in resource mark unhealthy {{{}}}",
            invalid.join(", ")
        )));
    }
    let Some(flag) = body.get("mark_unhealthy") else {
        return Err(ApiError::bad_request(
            "Missing mandatory (mark_unhealthy) key from mark unhealthy request",
        ));
    };
    let unhealthy = extract_bool("mark_unhealthy", flag)?;
    let reason = body.get("resource_status_reason").and_then(Value::as_str);
    state
        .engine
        .mark_unhealthy(&stack, &resource, unhealthy, reason)
        .await?;
    Ok(Json(Value::Null))
}
