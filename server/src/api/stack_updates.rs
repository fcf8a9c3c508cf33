//! `PATCH /stacks/{name}/{id}` (update keeping what is not given), `PUT|PATCH
//! /stacks/{name}/{id}/preview` (what an update would do) and `POST /stacks/preview`
//! (what a create would build), in Heat's shapes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::format::base_url;
use super::stacks::{accepted, json_body, live_stack, stack_request};
use super::{ApiError, ApiState};
use crate::engine::patch::Patch;
use crate::engine::preview::{PREVIEW_STACK_ID, PreviewResource, UpdatePreview};
use crate::store::StackRow;

/// Whether the body gives `key` (Heat treats `null` as not given).
fn given(body: &Map<String, Value>, key: &str) -> bool {
    body.get(key).is_some_and(|v| !v.is_null())
}

/// Reads a `PATCH` body: the fields of an update, each optional.
fn patch_request(body: &Map<String, Value>) -> Result<Patch, ApiError> {
    let mut fields = body.clone();
    let has_template = given(body, "template");
    if !has_template {
        fields.remove("template");
        if !given(body, "template_url") {
            fields.remove("template_url");
            // The stored template is used; this stands in while the other fields are read.
            fields.insert("template".into(), json!({}));
        }
    }
    // Environment files are looked up in the stored files too, so the engine merges them.
    let environment_files = match fields.remove("environment_files") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::bad_request("environment_files must be a list of file names")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "environment_files must be a list of file names",
            ));
        }
    };
    let clear_parameters = match body.get("clear_parameters") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(names)) => names
            .iter()
            .map(|n| {
                n.as_str().map(str::to_string).ok_or_else(|| {
                    ApiError::bad_request("clear_parameters must be a list of parameter names")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "clear_parameters must be a list of parameter names",
            ));
        }
    };
    let request = stack_request(&fields)?;
    Ok(Patch {
        template: has_template.then_some(request.template),
        parameters: request.parameters,
        clear_parameters,
        environment: if environment_files.is_empty() {
            request.environment
        } else {
            Value::Null
        },
        environment_files,
        files: request.files.as_object().cloned().unwrap_or_default(),
        timeout_mins: request.timeout_mins,
        disable_rollback: given(body, "disable_rollback").then_some(request.disable_rollback),
        tags: request.tags,
    })
}

/// `PATCH /stacks/{name}/{id}`: update with the stored template, parameters, environment
/// and files, changed only where the body says; 202.
#[utoipa::path(patch, path = "/stacks/{stack}/{id}", tag = "stacks", request_body = crate::api::openapi::schemas::StackUpdateRequest, responses((status = 202, description = "Accepted", body = crate::api::openapi::schemas::WebobBody), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn patch(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let patch = patch_request(&json_body(&body)?)?;
    state.engine.patch_stack(&stack, patch).await?;
    Ok(accepted())
}

/// `PUT /stacks/{name}/{id}/preview`: what a `PUT` with this body would do.
#[utoipa::path(put, path = "/stacks/{stack}/{id}/preview", tag = "stacks", request_body = crate::api::openapi::schemas::StackUpdateRequest, responses((status = 200, description = "What would change", body = crate::api::openapi::schemas::UpdatePreview), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn preview_put(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let request = stack_request(&json_body(&body)?)?;
    let preview = state.engine.preview_update(&stack, request).await?;
    Ok(Json(resource_changes(&stack, &preview)))
}

/// `PATCH /stacks/{name}/{id}/preview`: what a `PATCH` with this body would do.
#[utoipa::path(patch, path = "/stacks/{stack}/{id}/preview", tag = "stacks", request_body = crate::api::openapi::schemas::StackUpdateRequest, responses((status = 200, description = "What would change", body = crate::api::openapi::schemas::UpdatePreview), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn preview_patch(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let patch = patch_request(&json_body(&body)?)?;
    let preview = state.engine.preview_patch(&stack, patch).await?;
    Ok(Json(resource_changes(&stack, &preview)))
}

/// `POST /stacks/preview`: 200 `{"stack": {…, "resources": […]}}`; nothing is stored.
#[utoipa::path(post, path = "/stacks/preview", tag = "stacks", request_body = crate::api::openapi::schemas::StackCreateRequest, responses((status = 200, description = "The stack it would be", body = crate::api::openapi::schemas::CreatePreview), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn preview_create(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(&body)?;
    let name = body
        .get("stack_name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("No stack name specified"))?
        .to_string();
    let request = stack_request(&body)?;
    let preview = state
        .engine
        .preview_create(&project, &name, request)
        .await?;
    let target = Target {
        project: &project,
        name: &name,
        id: PREVIEW_STACK_ID,
    };
    let resources: Vec<Value> = preview
        .resources
        .iter()
        .map(|r| target.resource(r))
        .collect();
    let href = format!(
        "{}/v1/{project}/stacks/{name}/{PREVIEW_STACK_ID}",
        base_url(&headers)
    );
    Ok(Json(json!({"stack": {
        "stack_name": preview.name,
        "id": PREVIEW_STACK_ID,
        "links": [{"href": href, "rel": "self"}],
        "creation_time": preview.created_at,
        "updated_time": null,
        "deletion_time": null,
        "notification_topics": [],
        "parameters": preview.parameters,
        "description": preview.description,
        "template_description": preview.description,
        "capabilities": [],
        "disable_rollback": preview.disable_rollback,
        "timeout_mins": preview.timeout_mins,
        "stack_owner": null,
        "parent": null,
        "stack_user_project_id": null,
        "tags": null,
        "outputs": preview.outputs,
        "resources": resources,
    }})))
}

/// The stack previewed resources belong to.
struct Target<'a> {
    project: &'a str,
    name: &'a str,
    id: &'a str,
}

impl Target<'_> {
    fn identity(&self, path: &str) -> Value {
        json!({"tenant": self.project, "stack_name": self.name, "stack_id": self.id, "path": path})
    }

    /// A resource as Heat's engine formats it for previews (action and status apart, the
    /// identities, metadata and attributes; properties for a create preview).
    fn resource(&self, r: &PreviewResource) -> Value {
        let (action, state, reason, physical, created, updated) = match &r.stored {
            Some(row) => (
                row.action.as_str(),
                row.status.as_str(),
                row.status_reason.as_str(),
                row.physical_id.as_str(),
                json!(row.created_at),
                json!(row.updated_at.as_ref().unwrap_or(&row.created_at)),
            ),
            None => ("INIT", "COMPLETE", "", "", Value::Null, Value::Null),
        };
        let mut out = json!({
            "resource_name": r.name,
            "resource_type": r.resource_type,
            "resource_action": action,
            "resource_status": state,
            "resource_status_reason": reason,
            "physical_resource_id": physical,
            "creation_time": created,
            "updated_time": updated,
            "resource_identity": self.identity(&format!("/resources/{}", r.name)),
            "stack_identity": self.identity(""),
            "stack_name": self.name,
            "required_by": r.required_by,
            "description": "",
            "metadata": r.metadata,
            "attributes": r.attributes,
        });
        if let Some(props) = &r.properties {
            out["properties"] = Value::Object(props.clone());
        }
        out
    }
}

fn resource_changes(stack: &StackRow, preview: &UpdatePreview) -> Value {
    let target = Target {
        project: &stack.project,
        name: &stack.name,
        id: &stack.id,
    };
    let list = |items: &[PreviewResource]| -> Vec<Value> {
        items.iter().map(|r| target.resource(r)).collect()
    };
    json!({"resource_changes": {
        "added": list(&preview.added),
        "deleted": list(&preview.deleted),
        "replaced": list(&preview.replaced),
        "unchanged": list(&preview.unchanged),
        "updated": list(&preview.updated),
    }})
}
