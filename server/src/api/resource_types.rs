//! `GET /resource_types` and `GET /resource_types/{type}`: the built-in types and their
//! property and attribute schemas, in Heat's shapes (reference §3.2).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::query::Query;
use super::{ApiError, ApiState};
use crate::resources::ResourceType;
use crate::resources::properties::{PropType, PropertySchema};

/// Heat's `support_status` of a type that is plainly supported.
fn supported() -> Value {
    json!({"status": "SUPPORTED", "message": null, "version": null, "previous_status": null})
}

fn type_word(t: PropType) -> &'static str {
    match t {
        PropType::String => "string",
        PropType::Integer => "integer",
        PropType::Number => "number",
        PropType::Boolean => "boolean",
        PropType::Map => "map",
        PropType::List => "list",
        PropType::Any => "any",
    }
}

fn property(p: &PropertySchema) -> Value {
    let mut constraints = Vec::new();
    if !p.allowed_values.is_empty() {
        constraints.push(json!({"allowed_values": p.allowed_values}));
    }
    if p.min.is_some() || p.max.is_some() {
        let mut range = Map::new();
        if let Some(min) = p.min {
            range.insert("min".into(), json!(min));
        }
        if let Some(max) = p.max {
            range.insert("max".into(), json!(max));
        }
        constraints.push(json!({"range": range}));
    }
    let mut out = json!({
        "type": type_word(p.prop_type),
        "description": "",
        "required": p.required,
        "update_allowed": p.update_allowed,
        "immutable": false,
        "constraints": constraints,
    });
    if let Some(default) = p
        .default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    {
        out["default"] = default;
    }
    if !p.entries.is_empty() {
        let entries = schema_map(p.entries);
        out["schema"] = match p.prop_type {
            // Each item of the list is a map with these keys.
            PropType::List => json!({"*": {"type": "map", "schema": entries, "required": false,
                "update_allowed": p.update_allowed, "immutable": false, "description": "", "constraints": []}}),
            _ => entries,
        };
    }
    out
}

fn schema_map(schema: &[PropertySchema]) -> Value {
    Value::Object(
        schema
            .iter()
            .map(|p| (p.name.to_string(), property(p)))
            .collect(),
    )
}

fn type_schema(t: &dyn ResourceType) -> Value {
    let mut attributes: Map<String, Value> = t
        .attributes()
        .iter()
        .map(|a| (a.to_string(), json!({"description": ""})))
        .collect();
    attributes.insert(
        "show".into(),
        json!({"description": "Detailed information about resource.", "type": "map"}),
    );
    json!({
        "resource_type": t.type_name(),
        "properties": schema_map(t.properties_schema()),
        "attributes": attributes,
        "support_status": supported(),
        "description": "",
    })
}

/// `GET /resource_types`: names (or `{resource_type, description}` with
/// `with_description`), filtered by `name` (a regular expression matched at the start, as
/// Heat's `re.match`) and `support_status` (every type here is `SUPPORTED`).
#[utoipa::path(get, path = "/resource_types", tag = "templates", params(("name" = Option<String>, Query, description = "Regular expression, matched at the start"), ("support_status" = Option<String>, Query, description = "SUPPORTED, DEPRECATED, …"), ("with_description" = Option<bool>, Query, description = "Descriptions too"), ("version" = Option<String>, Query, description = "Ignored")), responses((status = 200, description = "Type names", body = crate::api::openapi::schemas::ResourceTypeList), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn list(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let with_description = query.flag("with_description", false)?;
    let pattern = match query.get("name") {
        Some(name) => Some(regex::Regex::new(&format!("^(?:{name})")).map_err(|e| {
            ApiError::bad_request(format!("Invalid resource type name pattern {name}: {e}"))
        })?),
        None => None,
    };
    let wanted_status = query.get("support_status");
    if wanted_status.is_some_and(|s| {
        ![
            "UNKNOWN",
            "SUPPORTED",
            "DEPRECATED",
            "UNSUPPORTED",
            "HIDDEN",
        ]
        .contains(&s)
    }) {
        return Err(ApiError::bad_request(format!(
            "Invalid support status and should be one of ('UNKNOWN', 'SUPPORTED', 'DEPRECATED', 'UNSUPPORTED', 'HIDDEN'), not {}",
            wanted_status.unwrap_or_default()
        )));
    }
    let types: Vec<Value> = state
        .engine
        .services()
        .registry
        .listed()
        .iter()
        .filter(|t| pattern.as_ref().is_none_or(|p| p.is_match(t.type_name())))
        .filter(|_| wanted_status.is_none_or(|s| s == "SUPPORTED"))
        .map(|t| {
            if with_description {
                json!({"resource_type": t.type_name(), "description": ""})
            } else {
                json!(t.type_name())
            }
        })
        .collect();
    Ok(Json(json!({"resource_types": types})))
}

/// `GET /resource_types/{type}`: the type's schema.
#[utoipa::path(get, path = "/resource_types/{type}", tag = "templates", responses((status = 200, description = "The schema of the type", body = crate::api::openapi::schemas::ResourceTypeSchema), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn show(
    State(state): State<ApiState>,
    Path((_project, type_name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let found = find(&state, &type_name)?;
    Ok(Json(type_schema(found.as_ref())))
}

/// Heat's parameter type for a property type, HOT and CFN spellings.
fn parameter_type(t: PropType) -> (&'static str, &'static str) {
    match t {
        PropType::Integer | PropType::Number => ("number", "Number"),
        PropType::Boolean => ("boolean", "Boolean"),
        PropType::Map | PropType::Any => ("json", "Json"),
        PropType::List => ("comma_delimited_list", "CommaDelimitedList"),
        PropType::String => ("string", "String"),
    }
}

/// Heat's `resource_to_template`: a provider template that mirrors the type — each property
/// a parameter, each attribute an output — in HOT (`hot`) or Heat's CFN format (the default).
fn provider_template(t: &dyn ResourceType, hot: bool) -> Value {
    // Heat names the resource after the implementing class; the type's last word is ours.
    let name = t.type_name().rsplit("::").next().unwrap_or(t.type_name());
    let mut parameters = Map::new();
    let mut properties = Map::new();
    for p in t.properties_schema() {
        let (hot_type, cfn_type) = parameter_type(p.prop_type);
        let mut param = Map::new();
        if hot {
            param.insert("type".into(), json!(hot_type));
            param.insert("description".into(), json!(""));
            if let Some(d) = p
                .default
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
            {
                param.insert("default".into(), d);
            }
            let mut constraints = Vec::new();
            if !p.allowed_values.is_empty() {
                constraints.push(json!({"allowed_values": p.allowed_values}));
            }
            if p.min.is_some() || p.max.is_some() {
                let mut range = Map::new();
                p.min.map(|m| range.insert("min".into(), json!(m)));
                p.max.map(|m| range.insert("max".into(), json!(m)));
                constraints.push(json!({"range": range}));
            }
            if !constraints.is_empty() {
                param.insert("constraints".into(), Value::Array(constraints));
            }
            properties.insert(p.name.into(), json!({"get_param": p.name}));
        } else {
            param.insert("Type".into(), json!(cfn_type));
            param.insert("Description".into(), json!(""));
            if let Some(d) = p
                .default
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
            {
                param.insert("Default".into(), d);
            }
            if !p.allowed_values.is_empty() {
                param.insert("AllowedValues".into(), json!(p.allowed_values));
            }
            p.min.map(|m| param.insert("MinValue".into(), json!(m)));
            p.max.map(|m| param.insert("MaxValue".into(), json!(m)));
            let reference = json!({"Ref": p.name});
            let value = if p.prop_type == PropType::List {
                json!({"Fn::Split": [",", reference]})
            } else {
                reference
            };
            properties.insert(p.name.into(), value);
        }
        parameters.insert(p.name.into(), Value::Object(param));
    }
    let mut attributes: Vec<&str> = t.attributes().to_vec();
    attributes.push("show");
    let outputs: Map<String, Value> = attributes
        .iter()
        .map(|a| {
            let output = if hot {
                json!({"description": "", "value": {"get_attr": [name, a]}})
            } else {
                json!({"Description": "", "Value": {"Fn::GetAtt": [name, a]}})
            };
            (a.to_string(), output)
        })
        .collect();
    let description = format!("Initial template of {name}");
    if hot {
        json!({
            "heat_template_version": "2016-10-14",
            "description": description,
            "parameters": parameters,
            "resources": {name: {"type": t.type_name(), "properties": properties}},
            "outputs": outputs,
        })
    } else {
        json!({
            "HeatTemplateFormatVersion": "2012-12-12",
            "Description": description,
            "Parameters": parameters,
            "Resources": {name: {"Type": t.type_name(), "Properties": properties}},
            "Outputs": outputs,
        })
    }
}

/// `GET /resource_types/{type}/template[?template_type=hot|cfn]`: a provider template that
/// mirrors the type.
#[utoipa::path(get, path = "/resource_types/{type}/template", tag = "templates", params(("template_type" = Option<String>, Query, description = "hot or cfn (default)")), responses((status = 200, description = "A provider template mirroring the type", body = Object), (status = 400, description = "Bad request", body = crate::api::openapi::schemas::ErrorBody), (status = 401, description = "Not authenticated", body = crate::api::openapi::schemas::ErrorBody), (status = 404, description = "Not found", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn template(
    State(state): State<ApiState>,
    Path((_project, type_name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref());
    let hot = match query.get("template_type") {
        None | Some("cfn") => false,
        Some("hot") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Template type is not supported: Invalid template type \"{other}\", valid types are: cfn, hot."
            )));
        }
    };
    let found = find(&state, &type_name)?;
    Ok(Json(provider_template(found.as_ref(), hot)))
}

fn find(state: &ApiState, type_name: &str) -> Result<std::sync::Arc<dyn ResourceType>, ApiError> {
    state
        .engine
        .services()
        .registry
        .listed()
        .into_iter()
        .find(|t| t.type_name() == type_name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "EntityNotFound",
                format!("The Resource Type ({type_name}) could not be found."),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;

    #[test]
    fn schemas_carry_heat_keys() {
        let registry = Registry::builtin();
        let listed = registry.listed();
        assert!(
            listed
                .iter()
                .all(|t| t.type_name() != "OS::Heat::SoftwareDeployments")
        );
        let deployment = listed
            .iter()
            .find(|t| t.type_name() == "OS::Heat::SoftwareDeployment")
            .unwrap();
        let schema = type_schema(deployment.as_ref());
        let action = &schema["properties"]["actions"];
        assert_eq!(action["type"], "list");
        assert!(schema["attributes"]["deploy_stdout"].is_object());
        assert!(schema["attributes"]["show"].is_object());
        assert_eq!(schema["support_status"]["status"], "SUPPORTED");
        let server = &schema["properties"]["server"];
        assert_eq!(server["required"], true);

        let value = listed
            .iter()
            .find(|t| t.type_name() == "OS::Heat::Value")
            .unwrap();
        let hot = provider_template(value.as_ref(), true);
        assert_eq!(hot["resources"]["Value"]["type"], "OS::Heat::Value");
        assert_eq!(
            hot["resources"]["Value"]["properties"]["value"],
            json!({"get_param": "value"})
        );
        assert_eq!(
            hot["outputs"]["value"]["value"],
            json!({"get_attr": ["Value", "value"]})
        );
        assert_eq!(hot["description"], "Initial template of Value");
        let cfn = provider_template(value.as_ref(), false);
        assert_eq!(cfn["HeatTemplateFormatVersion"], "2012-12-12");
        assert_eq!(
            cfn["Resources"]["Value"]["Properties"]["value"],
            json!({"Ref": "value"})
        );
        assert_eq!(
            cfn["Outputs"]["show"]["Value"],
            json!({"Fn::GetAtt": ["Value", "show"]})
        );
    }
}
