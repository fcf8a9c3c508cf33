//! Property schemas and their validation, shared by every resource type.

use serde_json::{Map, Value};

use crate::template::constraints::str_to_num;
use crate::template::error::{TemplateError, index, join};
use crate::template::functions::json_text::python_dumps_unsorted;

use super::ResourceType;

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    /// A string (numbers are accepted and turned into strings, as Heat does).
    String,
    /// An integer (numeric strings accepted).
    Integer,
    /// A number, integer or not (numeric strings accepted), Heat's `NUMBER`.
    Number,
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
    /// Inclusive lower bound of an `Integer` or `Number` (Heat's `Range(min=…)`).
    pub min: Option<i64>,
    /// Inclusive upper bound of an `Integer` or `Number`.
    pub max: Option<i64>,
    /// Nested schema: the keys of a `Map`, or the keys of each item of a `List` of maps
    /// (Heat's `schema=`). Empty: not checked.
    pub entries: &'static [PropertySchema],
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
            min: None,
            max: None,
            entries: &[],
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
    /// Restricts a number to `min..=max` (either bound optional).
    pub const fn range(mut self, min: Option<i64>, max: Option<i64>) -> Self {
        self.min = min;
        self.max = max;
        self
    }
    /// Gives a map (or each map in a list) its own schema.
    pub const fn entries(mut self, schema: &'static [PropertySchema]) -> Self {
        self.entries = schema;
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

/// Heat's `AllowedValues` message: the value and the allowed ones as `json.dumps` writes them.
fn not_allowed(schema: &PropertySchema, value: &Value, path: &str) -> TemplateError {
    let allowed: Vec<String> = schema
        .allowed_values
        .iter()
        .map(|a| python_dumps_unsorted(&Value::String((*a).to_string())))
        .collect();
    TemplateError::at(
        path,
        format!(
            "{} is not an allowed value [{}]",
            python_dumps_unsorted(value),
            allowed.join(", ")
        ),
    )
}

fn check_allowed(schema: &PropertySchema, value: &str, path: &str) -> Result<(), TemplateError> {
    if schema.allowed_values.is_empty() || schema.allowed_values.contains(&value) {
        return Ok(());
    }
    Err(not_allowed(schema, &Value::String(value.to_string()), path))
}

/// Heat's `Range` check on a coerced number.
fn check_range(schema: &PropertySchema, value: &Value, path: &str) -> Result<(), TemplateError> {
    let Some(v) = value.as_f64() else {
        return Ok(());
    };
    let below = schema.min.is_some_and(|m| v < m as f64);
    let above = schema.max.is_some_and(|m| v > m as f64);
    if !(below || above) {
        return Ok(());
    }
    let bound = |b: Option<i64>| b.map_or("None".to_string(), |b| b.to_string());
    Err(TemplateError::at(
        path,
        format!(
            "{value} is out of range (min: {}, max: {})",
            bound(schema.min),
            bound(schema.max)
        ),
    ))
}

/// Checks and coerces one value against its schema (nested schemas included); values
/// still holding function calls are kept.
fn coerce(
    schema: &PropertySchema,
    value: &Value,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> Result<Value, Vec<TemplateError>> {
    match schema.prop_type {
        PropType::Map if !schema.entries.is_empty() => match value {
            Value::Object(given) => {
                let (out, errors) = validate_map(schema.entries, given, path, is_unresolved, false);
                if errors.is_empty() {
                    Ok(Value::Object(out))
                } else {
                    Err(errors)
                }
            }
            other => Err(vec![type_error(path, "a map", other)]),
        },
        PropType::List if !schema.entries.is_empty() => match value {
            Value::Array(items) => {
                let item_schema = PropertySchema::new("", PropType::Map).entries(schema.entries);
                let mut out = Vec::with_capacity(items.len());
                let mut errors = vec![];
                for (i, item) in items.iter().enumerate() {
                    if is_unresolved(item) {
                        out.push(item.clone());
                        continue;
                    }
                    match coerce(&item_schema, item, &index(path, i), is_unresolved) {
                        Ok(v) => out.push(v),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
                if errors.is_empty() {
                    Ok(Value::Array(out))
                } else {
                    Err(errors)
                }
            }
            other => Err(vec![type_error(path, "a list", other)]),
        },
        _ => coerce_scalar(schema, value, path).map_err(|e| vec![e]),
    }
}

/// Checks and coerces a value whose schema has no nested schema.
fn coerce_scalar(
    schema: &PropertySchema,
    value: &Value,
    path: &str,
) -> Result<Value, TemplateError> {
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
        PropType::Integer => {
            let v = match value {
                Value::Number(n) if n.is_i64() => value.clone(),
                Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| {
                    TemplateError::at(path, format!("Value '{s}' is not an integer"))
                })?,
                other => return Err(type_error(path, "an integer", other)),
            };
            check_range(schema, &v, path)?;
            Ok(v)
        }
        PropType::Number => {
            let v = match value {
                Value::Number(_) => value.clone(),
                // Python's `int(s)`, then `float(s)`, as Heat's `str_to_num`.
                Value::String(s) => str_to_num(s).map(Value::Number).ok_or_else(|| {
                    TemplateError::at(path, format!("could not convert string to float: '{s}'"))
                })?,
                other => return Err(type_error(path, "a number", other)),
            };
            check_range(schema, &v, path)?;
            Ok(v)
        }
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
                // Heat checks the whole list: every item must be allowed.
                let allowed = |item: &Value| {
                    item.as_str()
                        .is_some_and(|s| schema.allowed_values.contains(&s))
                };
                if !schema.allowed_values.is_empty() && !items.iter().all(allowed) {
                    return Err(not_allowed(schema, value, path));
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
    first_error(validate_all(schema, properties, path, is_unresolved))
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
    validate_map(schema, given, path, is_unresolved, false)
}

/// [`validate`] for a resource type: its schema, and, when it
/// [accepts any properties](ResourceType::accepts_any_properties), properties outside the
/// schema kept as they are instead of reported as unknown.
pub fn validate_for(
    rtype: &dyn ResourceType,
    properties: &Value,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> Result<Map<String, Value>, TemplateError> {
    first_error(validate_all_for(rtype, properties, path, is_unresolved))
}

/// [`validate_all`] for a resource type (see [`validate_for`]).
pub fn validate_all_for(
    rtype: &dyn ResourceType,
    properties: &Value,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> (Map<String, Value>, Vec<TemplateError>) {
    let empty = Map::new();
    let given = properties.as_object().unwrap_or(&empty);
    validate_map(
        rtype.properties_schema(),
        given,
        path,
        is_unresolved,
        rtype.accepts_any_properties(),
    )
}

fn first_error(
    (out, errors): (Map<String, Value>, Vec<TemplateError>),
) -> Result<Map<String, Value>, TemplateError> {
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Validates one map of properties (the top level or a nested `entries` map).
fn validate_map(
    schema: &[PropertySchema],
    given: &Map<String, Value>,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
    accept_unknown: bool,
) -> (Map<String, Value>, Vec<TemplateError>) {
    let mut errors = vec![];
    let mut out = Map::new();
    for (key, value) in given {
        if !schema.iter().any(|s| s.name == key) {
            if accept_unknown {
                out.insert(key.clone(), value.clone());
            } else {
                errors.push(
                    TemplateError::at(path, format!("Unknown Property {key}"))
                        .pointing_at(join(path, key)),
                );
            }
        }
    }
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
            Some(v) => match coerce(s, v, &ppath, is_unresolved) {
                Ok(v) => {
                    out.insert(s.name.to_string(), v);
                }
                Err(mut e) => errors.append(&mut e),
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
            "resources.r.properties.s: \"C\" is not an allowed value [\"A\", \"B\"]"
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
            "resources.r.properties.l: [\"Y\"] is not an allowed value [\"X\"]"
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

    const NESTED: &[PropertySchema] = &[
        PropertySchema::new("wait", PropType::Number)
            .range(Some(0), None)
            .default("0"),
        PropertySchema::new("times", PropType::Map).entries(&[
            PropertySchema::new("create", PropType::Number),
            PropertySchema::new("delete", PropType::Number),
        ]),
        PropertySchema::new("items", PropType::List).entries(&[
            PropertySchema::new("seq", PropType::String).required(),
            PropertySchema::new("min", PropType::Integer)
                .range(Some(1), Some(512))
                .default("1"),
        ]),
    ];

    fn messages(errors: Vec<TemplateError>) -> Vec<String> {
        errors.into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn numbers_ranges_and_nested_schemas() {
        let never = |_: &Value| false;
        let p = "resources.r.properties";
        let v = validate(
            NESTED,
            &json!({"wait": "1.5", "times": {"create": "2"}, "items": [{"seq": "ab"}]}),
            p,
            &never,
        )
        .unwrap();
        assert_eq!(
            Value::Object(v),
            json!({"wait": 1.5, "times": {"create": 2}, "items": [{"seq": "ab", "min": 1}]})
        );
        let (_, errors) = validate_all(
            NESTED,
            &json!({"wait": -1, "times": {"update": 1}, "items": [{"min": 0}, "x"]}),
            p,
            &never,
        );
        assert_eq!(
            messages(errors),
            [
                "resources.r.properties.wait: -1 is out of range (min: 0, max: None)",
                "resources.r.properties.times: Unknown Property update",
                "resources.r.properties.items[0]: Property seq not assigned",
                "resources.r.properties.items[0].min: 0 is out of range (min: 1, max: 512)",
                "resources.r.properties.items[1]: Value must be a map, not a string",
            ]
        );
        let e = validate(NESTED, &json!({"wait": "soon"}), p, &never).unwrap_err();
        assert_eq!(
            e.to_string(),
            "resources.r.properties.wait: could not convert string to float: 'soon'"
        );
        // A function call inside a nested value is kept for run time.
        let call = |v: &Value| v.get("get_param").is_some();
        let v = validate(
            NESTED,
            &json!({"items": [{"get_param": "x"}], "times": {"create": {"get_param": "y"}}}),
            p,
            &call,
        )
        .unwrap();
        assert_eq!(v["items"], json!([{"get_param": "x"}]));
        assert_eq!(v["times"], json!({"create": {"get_param": "y"}}));
    }
}
