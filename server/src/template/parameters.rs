//! Template parameters: declarations, type coercion and value precedence.
//!
//! Types as Heat: `string`, `number`, `json`, `comma_delimited_list`, `boolean` (strict
//! oslo booleans). Value precedence: request `parameters` > environment `parameters` >
//! environment `parameter_defaults` > the declared `default`.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::error::{TemplateError, TemplateErrorKind, join};

/// A declared parameter type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `string`
    String,
    /// `number`
    Number,
    /// `json`
    Json,
    /// `comma_delimited_list`
    CommaDelimitedList,
    /// `boolean`
    Boolean,
}

impl ParamType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => ParamType::String,
            "number" => ParamType::Number,
            "json" => ParamType::Json,
            "comma_delimited_list" => ParamType::CommaDelimitedList,
            "boolean" => ParamType::Boolean,
            _ => return None,
        })
    }
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub struct ParameterDecl {
    /// Declared type.
    pub param_type: ParamType,
    /// Declared default, already coerced.
    pub default: Option<Value>,
    /// Shown as `******` and never logged.
    pub hidden: bool,
    /// Description (`""` when absent).
    pub description: String,
}

const PARAM_KEYS: &[&str] = &[
    "type",
    "description",
    "default",
    "hidden",
    "label",
    "constraints",
    "immutable",
    "tags",
];

/// Parses the `parameters` section.
pub fn parse_declarations(
    section: &Value,
) -> Result<IndexMap<String, ParameterDecl>, TemplateError> {
    let mut out = IndexMap::new();
    let Some(map) = section.as_object() else {
        if section.is_null() {
            return Ok(out);
        }
        return Err(TemplateError::at(
            "parameters",
            "must be a mapping of parameter names to declarations",
        ));
    };
    for (name, decl) in map {
        let path = join("parameters", name);
        let Some(decl) = decl.as_object() else {
            return Err(TemplateError::at(
                path,
                "the parameter declaration must be a mapping",
            ));
        };
        for key in decl.keys() {
            if !PARAM_KEYS.contains(&key.as_str()) {
                return Err(TemplateError::at(
                    &path,
                    format!("Invalid key '{key}' for parameter ({name})"),
                ));
            }
        }
        let type_name = decl.get("type").and_then(Value::as_str).ok_or_else(|| {
            TemplateError::at(
                &path,
                format!("Missing parameter type for parameter: {name}"),
            )
        })?;
        let param_type = ParamType::parse(type_name).ok_or_else(|| {
            TemplateError::at(
                join(&path, "type"),
                format!("Invalid type ({type_name}); expected one of string, number, json, comma_delimited_list, boolean"),
            )
        })?;
        let default = match decl.get("default") {
            None => None,
            Some(v) => Some(coerce(param_type, v).map_err(|m| {
                TemplateError::at(
                    join(&path, "default"),
                    format!("Parameter '{name}' is invalid: {m}"),
                )
            })?),
        };
        out.insert(
            name.clone(),
            ParameterDecl {
                param_type,
                default,
                hidden: decl.get("hidden").map(truthy).unwrap_or(false),
                description: decl
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            },
        );
    }
    Ok(out)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => parse_bool(s).unwrap_or(false),
        _ => false,
    }
}

/// oslo's strict `bool_from_string`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "t" | "y" => Some(true),
        "false" | "no" | "off" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// Coerces a supplied value to the parameter type, as Heat does.
pub fn coerce(param_type: ParamType, value: &Value) -> Result<Value, String> {
    match param_type {
        ParamType::String => Ok(match value {
            Value::String(_) => value.clone(),
            Value::Null => Value::String(String::new()),
            Value::Bool(b) => Value::String(if *b { "True".into() } else { "False".into() }),
            Value::Number(n) => Value::String(n.to_string()),
            other => Value::String(other.to_string()),
        }),
        ParamType::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Value::from(i))
                } else if let Ok(f) = t.parse::<f64>() {
                    Ok(Value::from(f))
                } else {
                    Err(format!("Value '{s}' is not a number"))
                }
            }
            other => Err(format!("Value '{other}' is not a number")),
        },
        ParamType::Json => match value {
            Value::Object(_) | Value::Array(_) => Ok(value.clone()),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Object(Map::new())),
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(v),
                _ => Err(format!("Value must be valid JSON: {s}")),
            },
            Value::Null => Ok(Value::Object(Map::new())),
            other => Err(format!("Value must be valid JSON: {other}")),
        },
        ParamType::CommaDelimitedList => match value {
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Value::String(_) => i.clone(),
                        other => Value::String(updraft_hooks::deployment::python_str(other)),
                    })
                    .collect(),
            )),
            Value::String(s) if s.is_empty() => Ok(Value::Array(vec![])),
            Value::String(s) => Ok(Value::Array(
                s.split(',').map(|p| Value::String(p.trim().to_string())).collect(),
            )),
            Value::Null => Ok(Value::Array(vec![])),
            other => Ok(Value::Array(vec![Value::String(updraft_hooks::deployment::python_str(other))])),
        },
        ParamType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) => parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| format!("Unrecognized value '{s}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Bool(n.as_i64() == Some(1)))
            }
            other => Err(format!("Unrecognized value '{other}' for a boolean")),
        },
    }
}

/// Resolves every declared parameter's value by precedence, rejecting unknown and missing ones.
pub fn resolve_values(
    decls: &IndexMap<String, ParameterDecl>,
    supplied: &Map<String, Value>,
    parameter_defaults: &Map<String, Value>,
) -> Result<Map<String, Value>, TemplateError> {
    for name in supplied.keys() {
        if !decls.contains_key(name) {
            return Err(TemplateError::new(
                TemplateErrorKind::UnknownParameter,
                format!("The Parameter ({name}) was not defined in template."),
            ));
        }
    }
    let mut out = Map::new();
    for (name, decl) in decls {
        let value = match supplied.get(name).or_else(|| parameter_defaults.get(name)) {
            Some(v) => coerce(decl.param_type, v).map_err(|m| {
                TemplateError::at(
                    join("parameters", name),
                    format!("Parameter '{name}' is invalid: {m}"),
                )
            })?,
            None => decl.default.clone().ok_or_else(|| {
                TemplateError::new(
                    TemplateErrorKind::ParameterMissing,
                    format!("The Parameter ({name}) was not provided."),
                )
            })?,
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// The value as Heat shows it in stack `parameters` (stringified; lists comma-joined).
pub fn display_value(decl: &ParameterDecl, value: &Value) -> Value {
    if decl.hidden {
        return Value::String("******".into());
    }
    Value::String(match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if decl.param_type == ParamType::CommaDelimitedList => items
            .iter()
            .map(updraft_hooks::deployment::python_str)
            .collect::<Vec<_>>()
            .join(","),
        other if decl.param_type == ParamType::Json => other.to_string(),
        other => updraft_hooks::deployment::python_str(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercions_follow_heat() {
        assert_eq!(coerce(ParamType::Number, &json!("42")).unwrap(), json!(42));
        assert_eq!(
            coerce(ParamType::Number, &json!("1.5")).unwrap(),
            json!(1.5)
        );
        assert!(coerce(ParamType::Number, &json!("x")).is_err());
        assert_eq!(
            coerce(ParamType::Boolean, &json!("Yes")).unwrap(),
            json!(true)
        );
        assert!(coerce(ParamType::Boolean, &json!("maybe")).is_err());
        assert_eq!(
            coerce(ParamType::CommaDelimitedList, &json!("a, b")).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(
            coerce(ParamType::CommaDelimitedList, &json!("")).unwrap(),
            json!([])
        );
        assert_eq!(
            coerce(ParamType::Json, &json!("{\"a\": 1}")).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(coerce(ParamType::String, &json!(5)).unwrap(), json!("5"));
    }

    #[test]
    fn precedence_and_errors() {
        let decls = parse_declarations(&json!({
            "a": {"type": "string", "default": "d"},
            "b": {"type": "number"},
            "c": {"type": "string", "default": "x"}
        }))
        .unwrap();
        let supplied = json!({"b": "3"}).as_object().unwrap().clone();
        let defaults = json!({"a": "pd", "b": 9}).as_object().unwrap().clone();
        let v = resolve_values(&decls, &supplied, &defaults).unwrap();
        assert_eq!(Value::Object(v), json!({"a": "pd", "b": 3, "c": "x"}));
        let err = resolve_values(&decls, &Map::new(), &Map::new()).unwrap_err();
        assert_eq!(err.to_string(), "The Parameter (b) was not provided.");
        let bad = json!({"zz": 1}).as_object().unwrap().clone();
        let err = resolve_values(&decls, &bad, &Map::new()).unwrap_err();
        assert_eq!(err.kind, TemplateErrorKind::UnknownParameter);
    }
}
