//! Property schemas and their validation, shared by every resource type.

use serde_json::{Map, Value};

use crate::template::error::{TemplateError, index, join};

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    /// A string (numbers are accepted and turned into strings, as Heat does).
    String,
    /// An integer (numeric strings accepted).
    Integer,
    /// A boolean (Heat's strict boolean strings accepted).
    Boolean,
    /// A map.
    Map,
    /// A list.
    List,
    /// Anything.
    Any,
}

/// One property of a resource type.
#[derive(Debug, Clone, Copy)]
pub struct PropertySchema {
    /// Property name.
    pub name: &'static str,
    /// Type.
    pub prop_type: PropType,
    /// Must be given.
    pub required: bool,
    /// Default as JSON text.
    pub default: Option<&'static str>,
    /// Can change without replacing the resource.
    pub update_allowed: bool,
    /// Allowed values (strings, or list items for lists).
    pub allowed_values: &'static [&'static str],
}

impl PropertySchema {
    /// An optional property of `prop_type` with no default.
    pub const fn new(name: &'static str, prop_type: PropType) -> Self {
        PropertySchema {
            name,
            prop_type,
            required: false,
            default: None,
            update_allowed: false,
            allowed_values: &[],
        }
    }
    /// Marks it required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Sets a default (JSON text).
    pub const fn default(mut self, json: &'static str) -> Self {
        self.default = Some(json);
        self
    }
    /// Marks it updatable in place.
    pub const fn update_allowed(mut self) -> Self {
        self.update_allowed = true;
        self
    }
    /// Restricts its values.
    pub const fn allowed(mut self, values: &'static [&'static str]) -> Self {
        self.allowed_values = values;
        self
    }
}

fn type_error(path: &str, expected: &str, value: &Value) -> TemplateError {
    TemplateError::at(
        path,
        format!("Value must be {expected}, not {}", describe(value)),
    )
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a map".into(),
    }
}

fn check_allowed(schema: &PropertySchema, value: &str, path: &str) -> Result<(), TemplateError> {
    if schema.allowed_values.is_empty() || schema.allowed_values.contains(&value) {
        return Ok(());
    }
    Err(TemplateError::at(
        path,
        format!(
            "\"{value}\" is not an allowed value [{}]",
            schema.allowed_values.join(", ")
        ),
    ))
}

/// Checks and coerces one value against its schema.
fn coerce(schema: &PropertySchema, value: &Value, path: &str) -> Result<Value, TemplateError> {
    match schema.prop_type {
        PropType::Any => Ok(value.clone()),
        PropType::String => {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(type_error(path, "a string", other)),
            };
            check_allowed(schema, &s, path)?;
            Ok(Value::String(s))
        }
        PropType::Integer => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| TemplateError::at(path, format!("Value '{s}' is not an integer"))),
            other => Err(type_error(path, "an integer", other)),
        },
        PropType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) => crate::template::parameters::parse_bool(s)
                .map(Value::Bool)
                .ok_or_else(|| {
                    TemplateError::at(path, format!("Unrecognized value '{s}' for a boolean"))
                }),
            other => Err(type_error(path, "a boolean", other)),
        },
        PropType::Map => match value {
            Value::Object(_) => Ok(value.clone()),
            other => Err(type_error(path, "a map", other)),
        },
        PropType::List => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !schema.allowed_values.is_empty() {
                        let s = item
                            .as_str()
                            .ok_or_else(|| type_error(&index(path, i), "a string", item))?;
                        check_allowed(schema, s, &index(path, i))?;
                    }
                }
                Ok(value.clone())
            }
            other => Err(type_error(path, "a list", other)),
        },
    }
}

/// Validates resolved properties at `path` (`resources.x.properties`), filling defaults.
/// Values still holding function calls (`is_unresolved`) are kept as they are (checked at
/// run time). The first problem is the error; [`validate_all`] reports every one.
pub fn validate(
    schema: &[PropertySchema],
    properties: &Value,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> Result<Map<String, Value>, TemplateError> {
    let (out, errors) = validate_all(schema, properties, path, is_unresolved);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Like [`validate`], but collects every problem: unknown properties, missing required
/// ones, and values of the wrong type or not allowed.
pub fn validate_all(
    schema: &[PropertySchema],
    properties: &Value,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> (Map<String, Value>, Vec<TemplateError>) {
    let empty = Map::new();
    let given = properties.as_object().unwrap_or(&empty);
    let mut errors = vec![];
    for key in given.keys() {
        if !schema.iter().any(|s| s.name == key) {
            errors.push(
                TemplateError::at(path, format!("Unknown Property {key}"))
                    .pointing_at(join(path, key)),
            );
        }
    }
    let mut out = Map::new();
    for s in schema {
        let ppath = join(path, s.name);
        match given.get(s.name) {
            Some(v) if is_unresolved(v) => {
                out.insert(s.name.to_string(), v.clone());
            }
            Some(Value::Null) | None => {
                if let Some(default) = s.default {
                    let v: Value = serde_json::from_str(default).unwrap_or(Value::Null);
                    out.insert(s.name.to_string(), v);
                } else if s.required {
                    errors.push(TemplateError::at(
                        path,
                        format!("Property {} not assigned", s.name),
                    ));
                }
            }
            Some(v) => match coerce(s, v, &ppath) {
                Ok(v) => {
                    out.insert(s.name.to_string(), v);
                }
                Err(e) => errors.push(e),
            },
        }
    }
    (out, errors)
}

/// Names of properties whose value differs between `old` and `new`.
pub fn changed(old: &Value, new: &Map<String, Value>) -> Vec<String> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let mut keys: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    keys.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &[PropertySchema] = &[
        PropertySchema::new("s", PropType::String)
            .allowed(&["A", "B"])
            .default("\"A\""),
        PropertySchema::new("n", PropType::Integer).required(),
        PropertySchema::new("l", PropType::List).allowed(&["X"]),
    ];

    #[test]
    fn defaults_coercion_and_errors() {
        let never = |_: &Value| false;
        let v = validate(SCHEMA, &json!({"n": "3"}), "resources.r.properties", &never).unwrap();
        assert_eq!(Value::Object(v), json!({"s": "A", "n": 3}));
        let e = validate(SCHEMA, &json!({}), "resources.r.properties", &never).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties: Property n not assigned"
        );
        let e = validate(
            SCHEMA,
            &json!({"n": 1, "s": "C"}),
            "resources.r.properties",
            &never,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.s: \"C\" is not an allowed value [A, B]"
        );
        let e = validate(
            SCHEMA,
            &json!({"n": 1, "l": ["Y"]}),
            "resources.r.properties",
            &never,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.l[0]: \"Y\" is not an allowed value [X]"
        );
        let e = validate(
            SCHEMA,
            &json!({"n": 1, "zz": 1}),
            "resources.r.properties",
            &never,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "resources.r.properties: Unknown Property zz");
        let e = validate(SCHEMA, &json!({"n": [1]}), "resources.r.properties", &never).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.n: Value must be an integer, not a list"
        );
    }
}
