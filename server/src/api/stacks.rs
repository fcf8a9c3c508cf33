//! Stack endpoints: list, create, show (with outputs), update, delete, name redirects.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::format::{self, base_url, stack_href};
use super::query::Query;
use super::{ApiError, ApiState};
use crate::engine::StackRequest;
use crate::store::StackRow;
use crate::template::loader::load_document;

/// Heat's `max_template_size`.
const MAX_TEMPLATE_BYTES: usize = 524_288;

/// Sub-paths that name-only URLs redirect for (`/stacks/{name}/resources` → canonical).
const REDIRECT_SUBPATHS: &[&str] = &[
    "resources",
    "events",
    "template",
    "outputs",
    "environment",
    "files",
    "actions",
];

/// Parses a JSON request body; an empty body is `{}`.
pub fn json_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "Malformed JSON in request body: {e}"
        ))),
    }
}

/// Finds a live stack of `project` by name or id.
pub async fn find_stack(
    state: &ApiState,
    project: &str,
    name_or_id: &str,
) -> Result<StackRow, ApiError> {
    let store = &state.engine.services().store;
    if uuid::Uuid::parse_str(name_or_id).is_ok()
        && let Some(s) = store
            .stack(name_or_id)
            .await?
            .filter(|s| s.project == project)
    {
        return Ok(s);
    }
    store
        .stack_by_name(project, name_or_id)
        .await?
        .ok_or_else(|| ApiError::stack_not_found(name_or_id))
}

/// Loads the stack at a canonical `/stacks/{name}/{id}` path; a name that does not match
/// the id is a 404, as in Heat. Deleted stacks are found by id.
pub async fn canonical_stack(
    state: &ApiState,
    project: &str,
    name: &str,
    id: &str,
) -> Result<StackRow, ApiError> {
    let stack = state.engine.services().store.stack(id).await?;
    match stack {
        Some(s) if s.project == project && s.name == name => Ok(s),
        _ => Err(ApiError::stack_not_found(name)),
    }
}

/// The live (not deleted) stack at a canonical path: what every change to a stack acts on.
pub(super) async fn live_stack(
    state: &ApiState,
    project: &str,
    name: &str,
    id: &str,
) -> Result<StackRow, ApiError> {
    let stack = canonical_stack(state, project, name, id).await?;
    if stack.deleted_at.is_some() {
        return Err(ApiError::stack_not_found(name));
    }
    Ok(stack)
}

fn redirect_to(location: String) -> Response {
    let body = json!({
        "message": format!("The resource was found at <a href=\"{location}\">{location}</a>;\nyou should be redirected automatically.\n\n"),
        "code": "302 Found",
        "title": "Found",
    });
    (
        StatusCode::FOUND,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response()
}

fn canonical_location(
    headers: &HeaderMap,
    stack: &StackRow,
    sub: Option<&str>,
    query: Option<String>,
) -> String {
    let mut location = stack_href(&base_url(headers), stack);
    if let Some(sub) = sub {
        location.push('/');
        location.push_str(sub);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        location.push('?');
        location.push_str(&q);
    }
    location
}

/// `* /stacks/{name_or_id}` → 302 to the canonical URL (clients re-send method and body).
/// The body is read, though unused: a connection whose request body is left unread is
/// closed after the reply, and clients re-sending on the same kept-alive connection then see
/// it drop (python-requests reports `RemoteDisconnected` for the re-sent POST).
#[utoipa::path(method(get, put, patch, delete, post), path = "/stacks/{stack}", tag = "stacks", responses((status = 302, description = "Found: the canonical URL (method, body and query kept)", body = crate::api::openapi::schemas::WebobBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn redirect(
    State(state): State<ApiState>,
    Path((project, stack)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    _body: Bytes,
) -> Result<Response, ApiError> {
    let stack = find_stack(&state, &project, &stack).await?;
    Ok(redirect_to(canonical_location(
        &headers, &stack, None, query,
    )))
}

/// Reads the stack fields of a create or update body.
pub(super) fn stack_request(body: &Map<String, Value>) -> Result<StackRequest, ApiError> {
    if body.contains_key("template_url") && !body.contains_key("template") {
        return Err(ApiError::bad_request(
            "template_url is not supported by this server: send the template inline (heatclient does this for local files)",
        ));
    }
    let template_size = match body.get("template") {
        Some(Value::String(text)) => text.len(),
        Some(other) => other.to_string().len(),
        None => 0,
    };
    if template_size > MAX_TEMPLATE_BYTES {
        return Err(ApiError::bad_request(format!(
            "Request limit exceeded: Template size ({template_size} bytes) exceeds maximum allowed size ({MAX_TEMPLATE_BYTES} bytes)."
        ))
        .with_type("RequestLimitExceeded"));
    }
    let template = match body.get("template") {
        Some(Value::String(text)) => {
            load_document(text).map_err(|e| ApiError::bad_request(e.message))?
        }
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "The template is not a JSON object or YAML mapping.",
            ));
        }
        None => return Err(ApiError::bad_request("No template specified")),
    };
    let parameters = match body.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(ApiError::bad_request("parameters must be a JSON object")),
    };
    let timeout_mins = match body.get("timeout_mins") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => Some(s.parse().map_err(|_| {
            ApiError::bad_request(format!("timeout_mins must be an integer, not \"{s}\""))
        })?),
        Some(_) => return Err(ApiError::bad_request("timeout_mins must be an integer")),
    };
    let disable_rollback = match body.get("disable_rollback") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => crate::template::parameters::parse_bool(s).ok_or_else(|| {
            ApiError::bad_request(format!("disable_rollback must be a boolean, not \"{s}\""))
        })?,
        Some(_) => return Err(ApiError::bad_request("disable_rollback must be a boolean")),
    };
    let files = body.get("files").cloned().unwrap_or(json!({}));
    // With environment_files the server merges the named files itself, in order; the
    // request's own environment is then not the base (heatclient sends both).
    let environment = match body.get("environment_files") {
        Some(Value::Array(names)) if !names.is_empty() => {
            let names: Vec<String> = names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            let empty = Map::new();
            crate::template::environment::merge_files(&names, files.as_object().unwrap_or(&empty))?
        }
        _ => body.get("environment").cloned().unwrap_or(Value::Null),
    };
    Ok(StackRequest {
        template,
        parameters,
        environment,
        files,
        timeout_mins,
        disable_rollback,
        tags: tags(body)?,
    })
}

/// Heat's longest tag.
const MAX_TAG_CHARS: usize = 80;

/// `tags`: a comma-separated string, as clients send it (a list of strings is accepted too).
fn tags(body: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let tags: Vec<String> = match body.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad_request("tags must be a comma-separated string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "tags must be a comma-separated string",
            ));
        }
    };
    if let Some(long) = tags.iter().find(|t| t.chars().count() > MAX_TAG_CHARS) {
        return Err(ApiError::bad_request(format!(
            "Tag {long} is longer than {MAX_TAG_CHARS} characters"
        )));
    }
    Ok((!tags.is_empty()).then_some(tags))
}

/// `POST /stacks`: 201 `{"stack": {"id", "links"}}`.
#[utoipa::path(post, path = "/stacks", tag = "stacks", request_body = crate::api::openapi::schemas::StackCreateRequest, responses((status = 201, description = "Accepted; created in the background", body = crate::api::openapi::schemas::StackCreated), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 403, description = "Not allowed", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn create(
    State(state): State<ApiState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let name = body
        .get("stack_name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("No stack name specified"))?
        .to_string();
    let stack = match body.get("adopt_stack_data").filter(|d| !d.is_null()) {
        Some(data) => super::abandon::adopt(&state, &project, &name, &body, data).await?,
        None => {
            let request = stack_request(&body)?;
            state.engine.create_stack(&project, &name, request).await?
        }
    };
    let href = stack_href(&base_url(&headers), &stack);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, href.clone())],
        Json(json!({"stack": {"id": stack.id, "links": [{"href": href, "rel": "self"}]}})),
    )
        .into_response())
}

/// `POST /stacks/{name}/{actions|resources|events|template}`: the name-only redirect (Heat
/// answers 302 and clients re-send the body); any other `POST /stacks/{name}/{id}` is 405.
#[utoipa::path(post, path = "/stacks/{stack}/{id}", tag = "stacks", responses((status = 302, description = "`/stacks/{name}/actions|resources|events|template`: the canonical URL", body = crate::api::openapi::schemas::WebobBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 405, description = "Method not allowed", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn post_redirect(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    _body: Bytes,
) -> Result<Response, ApiError> {
    if !["actions", "resources", "events", "template"].contains(&id.as_str()) {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "HTTPMethodNotAllowed",
            "The method is not allowed for this resource.",
        ));
    }
    let stack = find_stack(&state, &project, &name).await?;
    Ok(redirect_to(canonical_location(
        &headers,
        &stack,
        Some(&id),
        query,
    )))
}

/// `GET /stacks/{name}/{id}` (and the name-only sub-path redirects that share its shape).
#[utoipa::path(get, path = "/stacks/{stack}/{id}", tag = "stacks", params(("resolve_outputs" = Option<bool>, Query, description = "Resolve outputs (default true)")), responses((status = 200, description = "The stack", body = crate::api::openapi::schemas::StackShow), (status = 302, description = "A name-only sub-path: the canonical URL", body = crate::api::openapi::schemas::WebobBody), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if REDIRECT_SUBPATHS.contains(&id.as_str()) {
        let stack = find_stack(&state, &project, &name).await?;
        return Ok(redirect_to(canonical_location(
            &headers,
            &stack,
            Some(&id),
            query,
        )));
    }
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let query = Query::parse(query.as_deref());
    let resolve_outputs = query.flag("resolve_outputs", true)?;
    let body = stack_detail(&state, &base_url(&headers), &stack, resolve_outputs).await;
    Ok(Json(json!({"stack": body})).into_response())
}

/// The full stack object of `show` and `GET /stacks/detail` (reference §3.3).
pub(super) async fn stack_detail(
    state: &ApiState,
    base: &str,
    stack: &StackRow,
    resolve_outputs: bool,
) -> Value {
    let template = Template(&stack.template);
    let mut body = json!({
        "stack_name": stack.name,
        "id": stack.id,
        "links": [{"href": stack_href(base, stack), "rel": "self"}],
        "creation_time": stack.created_at,
        "updated_time": stack.updated_at,
        "deletion_time": stack.deleted_at,
        "notification_topics": [],
        "parameters": state.engine.display_parameters(stack),
        "description": template.description(),
        "template_description": template.description(),
        "capabilities": [],
        "disable_rollback": stack.disable_rollback,
        "timeout_mins": stack.timeout_mins,
        "stack_owner": null,
        "parent": stack.owner_id,
        "stack_user_project_id": stack.project,
        "tags": stack.tags.clone().unwrap_or_default(),
        "stack_status": format::status(&stack.action, &stack.status),
        "stack_status_reason": stack.status_reason,
    });
    if resolve_outputs {
        let outputs = state.engine.outputs(stack).await.unwrap_or_default();
        body["outputs"] = Value::Array(outputs);
    }
    body
}

struct Template<'a>(&'a Value);

impl Template<'_> {
    fn description(&self) -> &str {
        // HOT says `description`, CFN `Description`.
        self.0
            .get("description")
            .or_else(|| self.0.get("Description"))
            .and_then(Value::as_str)
            .unwrap_or("No description")
    }
}

pub(super) fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({"message": "The request is accepted for processing.<br /><br />\n\n\n", "code": "202 Accepted", "title": "Accepted"})),
    )
        .into_response()
}

/// `PUT /stacks/{name}/{id}`: replace template and parameters; 202.
#[utoipa::path(put, path = "/stacks/{stack}/{id}", tag = "stacks", request_body = crate::api::openapi::schemas::StackUpdateRequest, responses((status = 202, description = "Accepted", body = crate::api::openapi::schemas::WebobBody), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn update(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let stack = live_stack(&state, &project, &name, &id).await?;
    let body = json_body(&body)?;
    let mut request = stack_request(&body)?;
    // As Heat: an update that does not say keeps the stack's rollback setting.
    if body.get("disable_rollback").is_none_or(Value::is_null) {
        request.disable_rollback = stack.disable_rollback;
    }
    state.engine.update_stack(&stack, request).await?;
    Ok(accepted())
}

/// `DELETE /stacks/{name}/{id}`: 204, deletion runs in the background.
#[utoipa::path(delete, path = "/stacks/{stack}/{id}", tag = "stacks", responses((status = 204, description = "Deleting in the background"), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody), (status = 409, description = "Conflict", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn delete(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    state.engine.delete_stack(&stack).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /stacks/{name}/{id}/outputs`: keys and descriptions, unresolved.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/outputs", tag = "stacks", responses((status = 200, description = "Output keys", body = crate::api::openapi::schemas::OutputList), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn outputs(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let outputs = state.engine.outputs(&stack).await?;
    let list: Vec<Value> = outputs
        .iter()
        .map(|o| json!({"output_key": o["output_key"], "description": o["description"]}))
        .collect();
    Ok(Json(json!({"outputs": list})))
}

/// `GET /stacks/{name}/{id}/outputs/{key}`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/outputs/{key}", tag = "stacks", responses((status = 200, description = "The resolved output", body = crate::api::openapi::schemas::OutputShow), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn output(
    State(state): State<ApiState>,
    Path((project, name, id, key)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    let outputs = state.engine.outputs(&stack).await?;
    outputs
        .into_iter()
        .find(|o| o["output_key"] == key.as_str())
        .map(|o| Json(json!({"output": o})))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("Specified output key {key} not found."),
            )
        })
}

/// `GET /stacks/{name}/{id}/template`.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/template", tag = "stacks", responses((status = 200, description = "The stored template", body = Object), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn template(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    Ok(Json(stack.template))
}

/// `GET /stacks/{name}/{id}/environment`: the stored environment (its five sections).
#[utoipa::path(get, path = "/stacks/{stack}/{id}/environment", tag = "stacks", responses((status = 200, description = "The stored environment", body = Object), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn environment(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    Ok(Json(stack.environment))
}

/// `GET /stacks/{name}/{id}/files`: the files map.
#[utoipa::path(get, path = "/stacks/{stack}/{id}/files", tag = "stacks", responses((status = 200, description = "The files map", body = Object), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn files(
    State(state): State<ApiState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let stack = canonical_stack(&state, &project, &name, &id).await?;
    Ok(Json(stack.files))
}
