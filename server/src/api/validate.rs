//! `POST /validate`: Heat's template validation, with its response shape
//! (`Description`, `Parameters`, `ParameterGroups`, `Environment`).
//!
//! As Heat's non-strict validation, parameter values may be missing; declarations,
//! defaults, groups, resources, functions, properties and cycles are all checked and
//! every problem is returned (joined with newlines) in a 400 `HTTPBadRequest`.
//!
//! Unlike Heat, a hidden parameter's user-supplied value (`Value`, a `Default` taken from
//! `parameter_defaults`, and its entries in the returned `Environment`) is shown as
//! `******`: secrets are never echoed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use serde_json::{Map, Value, json};
use updraft_hooks::python_json::truthy;

use super::stacks::{json_body, stack_request};
use super::{ApiError, ApiState};
use crate::engine::validate::{Values, check_stack};
use crate::template::constraints::{ConstraintKind, MASK};
use crate::template::parameters::ParameterDecl;

/// The error codes `ignore_errors` may name (Heat's `ERROR_CODE_MAP`).
const IGNORABLE_CODES: &[&str] = &["99001"];

fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// One parameter as Heat's `format_validate_parameter` shows it.
pub fn parameter_view(
    name: &str,
    decl: &ParameterDecl,
    user_values: &Map<String, Value>,
    parameter_defaults: &Map<String, Value>,
) -> Value {
    let mask = |v: &Value| {
        if decl.hidden {
            Value::String(MASK.into())
        } else {
            v.clone()
        }
    };
    let mut out = Map::new();
    out.insert("Type".into(), json!(decl.param_type.api_name()));
    out.insert("Description".into(), json!(decl.description));
    out.insert(
        "NoEcho".into(),
        json!(if decl.hidden { "true" } else { "false" }),
    );
    out.insert(
        "Label".into(),
        json!(decl.label.clone().unwrap_or_else(|| name.to_string())),
    );
    match parameter_defaults.get(name).filter(|v| !v.is_null()) {
        Some(user_default) => {
            out.insert("Default".into(), mask(user_default));
        }
        None => {
            if let Some(default) = &decl.raw_default {
                out.insert("Default".into(), default.clone());
            }
        }
    }
    if let Some(value) = user_values.get(name).filter(|v| truthy(v)) {
        out.insert("Value".into(), mask(value));
    }
    if !decl.tags.is_empty() {
        out.insert("Tags".into(), Value::Array(decl.tags.clone()));
    }
    let mut descriptions = vec![];
    for c in &decl.constraints {
        match &c.kind {
            ConstraintKind::Length { min, max } => {
                if let Some(m) = min {
                    out.insert("MinLength".into(), json!(m));
                }
                if let Some(m) = max {
                    out.insert("MaxLength".into(), json!(m));
                }
            }
            ConstraintKind::Range { min, max } => {
                if let Some(m) = min {
                    out.insert("MinValue".into(), Value::Number(m.clone()));
                }
                if let Some(m) = max {
                    out.insert("MaxValue".into(), Value::Number(m.clone()));
                }
            }
            ConstraintKind::Modulo { step, offset } => {
                out.insert("Step".into(), Value::Number(step.clone()));
                out.insert("Offset".into(), Value::Number(offset.clone()));
            }
            ConstraintKind::AllowedValues(values) => {
                out.insert("AllowedValues".into(), Value::Array(values.clone()));
            }
            ConstraintKind::AllowedPattern { pattern, .. } => {
                out.insert("AllowedPattern".into(), json!(pattern));
            }
            ConstraintKind::Custom(name) => {
                out.insert("CustomConstraint".into(), json!(name));
            }
        }
        if let Some(d) = c.description.as_ref().filter(|d| !d.is_empty()) {
            descriptions.push(d.clone());
        }
    }
    if !descriptions.is_empty() {
        out.insert(
            "ConstraintDescription".into(),
            json!(descriptions.join(" ")),
        );
    }
    Value::Object(out)
}

/// `POST /validate`.
#[utoipa::path(post, path = "/validate", tag = "templates", request_body = crate::api::openapi::schemas::ValidateRequest, params(("show_nested" = Option<bool>, Query, description = "Nested parameters too"), ("ignore_errors" = Option<String>, Query, description = "Comma list of error codes")), responses((status = 200, description = "Parameters and description", body = crate::api::openapi::schemas::Validation), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn validate(
    State(state): State<ApiState>,
    Path(_project): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    for (key, value) in query_params(query.as_deref()) {
        match key.as_str() {
            // Updraft has no nested stacks, so there are never `NestedParameters`.
            "show_nested" if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") => {
                return Err(ApiError::bad_request(format!(
                    "Unrecognized value \"{value}\" for \"show_nested\", acceptable values are: true, false."
                )));
            }
            // The only ignorable code (a cloud service being unavailable) never occurs here.
            "ignore_errors" => {
                let invalid: Vec<String> = value
                    .split(',')
                    .filter(|c| !IGNORABLE_CODES.contains(c))
                    .map(|c| format!("'{c}'"))
                    .collect();
                if !invalid.is_empty() {
                    return Err(ApiError::bad_request(format!(
                        "Invalid codes in ignore_errors : [{}]",
                        invalid.join(", ")
                    )));
                }
            }
            _ => {}
        }
    }
    let body = json_body(&body)?;
    let request = stack_request(&body)?;
    let registry = &state.engine.services().registry;
    let checked = check_stack(registry, &request, Values::DeclarationsOnly)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let template = &checked.template;
    let env = &checked.environment;
    // As Heat: the request's `parameters` are merged into the environment's.
    let mut user_values = env.parameters.clone();
    user_values.extend(request.parameters.clone());
    let parameters: Map<String, Value> = template
        .parameters
        .iter()
        .map(|(name, decl)| {
            (
                name.clone(),
                parameter_view(name, decl, &user_values, &env.parameter_defaults),
            )
        })
        .collect();
    let description = if template.description.is_empty() {
        "No description".to_string()
    } else {
        template.description.clone()
    };
    let mut result = Map::new();
    result.insert("Description".into(), json!(description));
    result.insert("Parameters".into(), Value::Object(parameters));
    if truthy(&template.parameter_groups) {
        result.insert("ParameterGroups".into(), template.parameter_groups.clone());
    }
    let masked = |section: &Map<String, Value>| -> Value {
        Value::Object(
            section
                .iter()
                .map(|(k, v)| {
                    let hidden = template.parameters.get(k).is_some_and(|d| d.hidden);
                    let v = if hidden {
                        Value::String(MASK.into())
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    };
    // Heat's `user_env_as_dict`: these four sections.
    result.insert(
        "Environment".into(),
        json!({
            "resource_registry": env.stored.get("resource_registry").cloned().unwrap_or(json!({"resources": {}})),
            "parameters": masked(&user_values),
            "parameter_defaults": masked(&env.parameter_defaults),
            "event_sinks": env.stored.get("event_sinks").cloned().unwrap_or(json!([])),
        }),
    );
    Ok(Json(Value::Object(result)))
}
