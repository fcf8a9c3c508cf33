//! Template parameters: declarations, type coercion and value precedence.
//!
//! Types as Heat: `string`, `number`, `json`, `comma_delimited_list`, `boolean` (strict
//! oslo booleans). Value precedence: request `parameters` > environment `parameters` >
//! environment `parameter_defaults` > the declared `default`.

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::constraints::{self, Constraint, ConstraintKind, MASK};
use super::error::{TemplateError, TemplateErrorKind, index, join};
use super::version::HotVersion;
use updraft_hooks::deployment::python_str;

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

    /// The name written in templates (`comma_delimited_list`).
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Number => "number",
            ParamType::Json => "json",
            ParamType::CommaDelimitedList => "comma_delimited_list",
            ParamType::Boolean => "boolean",
        }
    }

    /// The name `POST /validate` shows (`CommaDelimitedList`).
    pub fn api_name(self) -> &'static str {
        match self {
            ParamType::String => "String",
            ParamType::Number => "Number",
            ParamType::Json => "Json",
            ParamType::CommaDelimitedList => "CommaDelimitedList",
            ParamType::Boolean => "Boolean",
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub struct ParameterDecl {
    /// Declared type.
    pub param_type: ParamType,
    /// Declared default, already coerced (`None` when absent or not of the type).
    pub default: Option<Value>,
    /// Declared default as written (what `POST /validate` shows).
    pub raw_default: Option<Value>,
    /// Shown as `******`, never logged, never quoted in error messages.
    pub hidden: bool,
    /// Description (`""` when absent).
    pub description: String,
    /// `label:` (validate shows the name when absent).
    pub label: Option<String>,
    /// An update may not change the value.
    pub immutable: bool,
    /// `tags:` (2018-03-02+).
    pub tags: Vec<Value>,
    /// Constraints that apply to the type, in template order.
    pub constraints: Vec<Constraint>,
    /// The default was declared but could not be used (already reported).
    pub default_invalid: bool,
}

impl ParameterDecl {
    /// A declaration of `param_type` with nothing else set.
    pub fn new(param_type: ParamType) -> Self {
        ParameterDecl {
            param_type,
            default: None,
            raw_default: None,
            hidden: false,
            description: String::new(),
            label: None,
            immutable: false,
            tags: vec![],
            constraints: vec![],
            default_invalid: false,
        }
    }

    /// How a value of this parameter appears in messages.
    fn shown(&self, value: &Value) -> String {
        if self.hidden {
            MASK.to_string()
        } else {
            python_str(value)
        }
    }

    /// Checks a coerced value against the constraints (`custom`: also custom ones).
    fn check(&self, value: &Value, custom: bool) -> Vec<String> {
        self.constraints
            .iter()
            .filter(|c| custom || !matches!(c.kind, ConstraintKind::Custom(_)))
            .filter_map(|c| c.check(value, self.param_type, self.hidden).err())
            .collect()
    }
}

/// What parsing the `parameters` section found.
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    /// The usable declarations, in template order.
    pub decls: IndexMap<String, ParameterDecl>,
    /// Parameters declared so badly that they cannot be used (they still exist for
    /// `get_param`, so references to them are not reported twice).
    pub invalid: Vec<String>,
    /// Every problem, in template order.
    pub errors: Vec<TemplateError>,
}

const PARAM_KEYS: &[&str] = &[
    "type",
    "description",
    "default",
    "schema",
    "hidden",
    "label",
    "constraints",
    "immutable",
];

/// `Parameter 'name' is invalid: …`, pointing at `path`.
fn invalid(name: &str, pointer: String, message: impl std::fmt::Display) -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::Validation,
        format!("Parameter '{name}' is invalid: {message}"),
    )
    .pointing_at(pointer)
}

/// Parses the `parameters` section, collecting every problem (Heat's messages).
pub fn parse_declarations(section: &Value, version: HotVersion) -> Declarations {
    let mut out = Declarations::default();
    let Some(map) = section.as_object() else {
        if !section.is_null() {
            out.errors.push(TemplateError::at(
                "parameters",
                "must be a mapping of parameter names to declarations",
            ));
        }
        return out;
    };
    for (name, decl) in map {
        match parse_one(name, decl, version, &mut out.errors) {
            Some(d) => {
                out.decls.insert(name.clone(), d);
            }
            None => out.invalid.push(name.clone()),
        }
    }
    out
}

fn parse_one(
    name: &str,
    decl: &Value,
    version: HotVersion,
    errors: &mut Vec<TemplateError>,
) -> Option<ParameterDecl> {
    let path = join("parameters", name);
    let Some(decl) = decl.as_object() else {
        errors.push(TemplateError::at(
            &path,
            format!("Invalid parameter ({name}), expected a mapping"),
        ));
        return None;
    };
    let with_tags = version >= HotVersion::V2018_03_02;
    for key in decl.keys() {
        if !(PARAM_KEYS.contains(&key.as_str()) || (with_tags && key == "tags")) {
            errors.push(TemplateError::at(
                &path,
                format!("Invalid key '{key}' for parameter ({name})"),
            ));
        }
    }
    let Some(type_value) = decl.get("type") else {
        errors.push(TemplateError::at(
            &path,
            format!("Missing parameter type for parameter: {name}"),
        ));
        return None;
    };
    let Some(param_type) = type_value.as_str().and_then(ParamType::parse) else {
        errors.push(TemplateError::at(
            join(&path, "type"),
            format!("Invalid type ({})", python_str(type_value)),
        ));
        return None;
    };
    let mut out = ParameterDecl::new(param_type);
    out.hidden = decl.get("hidden").is_some_and(truthy);
    out.immutable = decl.get("immutable").is_some_and(truthy);
    out.description = match decl.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(v) => python_str(v),
    };
    out.label = match decl.get("label") {
        None | Some(Value::Null) => None,
        Some(v) => Some(python_str(v)),
    };
    if with_tags {
        match decl.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(tags)) => out.tags = tags.clone(),
            Some(_) => errors.push(TemplateError::at(
                join(&path, "tags"),
                format!("Tags property should be a list for parameter: {name}"),
            )),
        }
    }
    match decl.get("constraints") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, def) in list.iter().enumerate() {
                let cpath = index(&join(&path, "constraints"), i);
                match constraints::parse(def, version) {
                    Err(message) => errors.push(TemplateError::at(cpath, message)),
                    Ok(c) if !c.kind.valid_for(param_type) => errors.push(invalid(
                        name,
                        cpath,
                        format!(
                            "{} constraint invalid for {}",
                            c.kind.class_name(),
                            param_type.name()
                        ),
                    )),
                    Ok(c) => out.constraints.push(c),
                }
            }
        }
        Some(_) => errors.push(TemplateError::at(
            join(&path, "constraints"),
            format!("Invalid parameter constraints for parameter {name}, expected a list"),
        )),
    }
    match decl.get("default") {
        None | Some(Value::Null) => {}
        Some(raw) => {
            out.raw_default = Some(raw.clone());
            let dpath = join(&path, "default");
            match coerce(param_type, raw, out.hidden) {
                Err(m) => {
                    out.default_invalid = true;
                    errors.push(invalid(name, dpath, m));
                }
                Ok(v) => {
                    // As Heat: custom constraints are not applied to template defaults here.
                    for m in out.check(&v, false) {
                        errors.push(invalid(
                            name,
                            dpath.clone(),
                            format!("Invalid default {} ({m})", out.shown(raw)),
                        ));
                    }
                    out.default = Some(v);
                }
            }
        }
    }
    Some(out)
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

/// Coerces a supplied value to the parameter type, as Heat does. With `hidden`, the
/// message never quotes the value.
pub fn coerce(param_type: ParamType, value: &Value, hidden: bool) -> Result<Value, String> {
    let shown = |v: &str| {
        if hidden {
            MASK.to_string()
        } else {
            v.to_string()
        }
    };
    match param_type {
        ParamType::String => Ok(match value {
            Value::String(_) => value.clone(),
            Value::Null => Value::String(String::new()),
            other => Value::String(python_str(other)),
        }),
        ParamType::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => constraints::str_to_num(s)
                .map(Value::Number)
                .ok_or_else(|| format!("could not convert string to float: '{}'", shown(s))),
            other => Err(format!(
                "could not convert string to float: '{}'",
                shown(&python_str(other))
            )),
        },
        ParamType::Json => match value {
            Value::Object(_) | Value::Array(_) => Ok(value.clone()),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Object(Map::new())),
            Value::String(s) => match serde_json::from_str::<Value>(s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(v),
                Ok(_) => Err("Value must be valid JSON: a map or a list is expected".into()),
                Err(e) => Err(format!("Value must be valid JSON: {e}")),
            },
            Value::Null => Ok(Value::Object(Map::new())),
            _ => Err("Value must be valid JSON: a map or a list is expected".into()),
        },
        // Heat splits on `,` without trimming (`"a, b"` is `["a", " b"]`).
        ParamType::CommaDelimitedList => match value {
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Value::String(_) => i.clone(),
                        other => Value::String(python_str(other)),
                    })
                    .collect(),
            )),
            Value::String(s) if s.is_empty() => Ok(Value::Array(vec![])),
            Value::String(s) => Ok(Value::Array(
                s.split(',').map(|p| Value::String(p.to_string())).collect(),
            )),
            Value::Null => Ok(Value::Array(vec![])),
            other => Ok(Value::Array(vec![Value::String(python_str(other))])),
        },
        ParamType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) => parse_bool(s).map(Value::Bool).ok_or_else(|| {
                format!(
                    "Unrecognized value '{}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
                    shown(s)
                )
            }),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Bool(n.as_i64() == Some(1)))
            }
            other => Err(format!(
                "Unrecognized value '{}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'",
                shown(&python_str(other))
            )),
        },
    }
}

/// Supplied names the template does not declare (`UnknownUserParameter`).
pub fn unknown_parameters(
    decls: &IndexMap<String, ParameterDecl>,
    invalid: &[String],
    supplied: &Map<String, Value>,
) -> Vec<TemplateError> {
    supplied
        .keys()
        .filter(|name| !decls.contains_key(*name) && !invalid.contains(name))
        .map(|name| {
            TemplateError::new(
                TemplateErrorKind::UnknownParameter,
                format!("The Parameter ({name}) was not defined in template."),
            )
        })
        .collect()
}

/// Resolves every declared parameter's value by precedence (request/environment
/// `parameters` > `parameter_defaults` > the declared default) and checks it against
/// the constraints; reports unknown and missing ones, every problem at once.
pub fn resolve_values(
    decls: &IndexMap<String, ParameterDecl>,
    supplied: &Map<String, Value>,
    parameter_defaults: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<TemplateError>> {
    let mut errors = unknown_parameters(decls, &[], supplied);
    let mut out = Map::new();
    for (name, decl) in decls {
        let pointer = join("parameters", name);
        let given = supplied
            .get(name)
            .filter(|v| !v.is_null())
            .or_else(|| parameter_defaults.get(name).filter(|v| !v.is_null()));
        let value = match given {
            Some(v) => match coerce(decl.param_type, v, decl.hidden) {
                Ok(value) => {
                    errors.extend(
                        decl.check(&value, true)
                            .into_iter()
                            .map(|m| invalid(name, pointer.clone(), m)),
                    );
                    value
                }
                Err(m) => {
                    errors.push(invalid(name, pointer, m));
                    continue;
                }
            },
            None => match &decl.default {
                Some(default) => {
                    // Other constraints were checked when the template was parsed.
                    let custom: Vec<&Constraint> = decl
                        .constraints
                        .iter()
                        .filter(|c| matches!(c.kind, ConstraintKind::Custom(_)))
                        .collect();
                    for c in custom {
                        if let Err(m) = c.check(default, decl.param_type, decl.hidden) {
                            errors.push(invalid(name, join(&pointer, "default"), m));
                        }
                    }
                    default.clone()
                }
                None if decl.default_invalid => continue,
                None => {
                    errors.push(
                        TemplateError::new(
                            TemplateErrorKind::ParameterMissing,
                            format!("The Parameter ({name}) was not provided."),
                        )
                        .pointing_at(pointer),
                    );
                    continue;
                }
            },
        };
        out.insert(name.clone(), value);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The values of an already validated stack: precedence and coercion only. Constraints
/// are not checked again: some depend on time (`expiration`), and a stored stack must
/// keep showing its parameters and outputs.
pub fn stored_values(
    decls: &IndexMap<String, ParameterDecl>,
    supplied: &Map<String, Value>,
    parameter_defaults: &Map<String, Value>,
) -> Map<String, Value> {
    decls
        .iter()
        .filter_map(|(name, decl)| {
            let given = supplied
                .get(name)
                .filter(|v| !v.is_null())
                .or_else(|| parameter_defaults.get(name).filter(|v| !v.is_null()));
            let value = match given {
                Some(v) => coerce(decl.param_type, v, decl.hidden).ok()?,
                None => decl.default.clone()?,
            };
            Some((name.clone(), value))
        })
        .collect()
}

/// The `immutable: true` parameters (declared in both templates) whose value an update
/// changes, in template order.
pub fn immutable_modified(
    new_decls: &IndexMap<String, ParameterDecl>,
    old_values: &Map<String, Value>,
    new_values: &Map<String, Value>,
) -> Vec<String> {
    new_decls
        .iter()
        .filter(|(_, d)| d.immutable)
        .filter_map(
            |(name, _)| match (old_values.get(name), new_values.get(name)) {
                (Some(old), Some(new)) if old != new => Some(name.clone()),
                _ => None,
            },
        )
        .collect()
}

/// Heat's `ImmutableParameterModified` for `names`.
pub fn immutable_error(names: &[String]) -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::ImmutableParameterModified,
        format!(
            "The following parameters are immutable and may not be updated: {}",
            names.join(", ")
        ),
    )
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

    fn decls(section: Value) -> IndexMap<String, ParameterDecl> {
        let d = parse_declarations(&section, HotVersion::V2021_04_16);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        d.decls
    }

    fn errors(section: Value, version: HotVersion) -> Vec<String> {
        parse_declarations(&section, version)
            .errors
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn coercions_follow_heat() {
        let n = ParamType::Number;
        assert_eq!(coerce(n, &json!("42"), false).unwrap(), json!(42));
        assert_eq!(coerce(n, &json!("1.5"), false).unwrap(), json!(1.5));
        assert_eq!(
            coerce(n, &json!("x"), false).unwrap_err(),
            "could not convert string to float: 'x'"
        );
        assert_eq!(
            coerce(ParamType::Boolean, &json!("Yes"), false).unwrap(),
            json!(true)
        );
        assert!(coerce(ParamType::Boolean, &json!("maybe"), false).is_err());
        assert_eq!(
            coerce(ParamType::CommaDelimitedList, &json!("a, b"), false).unwrap(),
            json!(["a", " b"])
        );
        assert_eq!(
            coerce(ParamType::CommaDelimitedList, &json!(""), false).unwrap(),
            json!([])
        );
        assert_eq!(
            coerce(ParamType::Json, &json!("{\"a\": 1}"), false).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            coerce(ParamType::String, &json!(5), false).unwrap(),
            json!("5")
        );
        let e = coerce(ParamType::Boolean, &json!("s3cret"), true).unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let e = coerce(n, &json!("s3cret"), true).unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn precedence_and_errors() {
        let decls = decls(json!({
            "a": {"type": "string", "default": "d"},
            "b": {"type": "number"},
            "c": {"type": "string", "default": "x"}
        }));
        let v = resolve_values(
            &decls,
            &obj(json!({"b": "3"})),
            &obj(json!({"a": "pd", "b": 9})),
        )
        .unwrap();
        assert_eq!(Value::Object(v), json!({"a": "pd", "b": 3, "c": "x"}));
        let err = resolve_values(&decls, &Map::new(), &Map::new()).unwrap_err();
        assert_eq!(err[0].to_string(), "The Parameter (b) was not provided.");
        assert_eq!(err[0].location_path(), "parameters.b");
        let err = resolve_values(&decls, &obj(json!({"zz": 1, "yy": 2})), &Map::new()).unwrap_err();
        assert_eq!(err[0].kind, TemplateErrorKind::UnknownParameter);
        assert_eq!(err.len(), 3, "two unknown, one missing: {err:?}");
    }

    #[test]
    fn declarations_follow_heats_rules() {
        let v = HotVersion::V2021_04_16;
        assert_eq!(
            errors(json!({"p": {"type": "string", "foo": 1}}), v),
            ["parameters.p: Invalid key 'foo' for parameter (p)"]
        );
        assert_eq!(
            errors(json!({"p": {"default": 1}}), v),
            ["parameters.p: Missing parameter type for parameter: p"]
        );
        assert_eq!(
            errors(json!({"p": {"type": "strin"}}), v),
            ["parameters.p.type: Invalid type (strin)"]
        );
        assert_eq!(
            errors(json!({"p": "x"}), v),
            ["parameters.p: Invalid parameter (p), expected a mapping"]
        );
        assert_eq!(
            errors(
                json!({"p": {"type": "string", "tags": ["a"]}}),
                HotVersion::V2017_09_01
            ),
            ["parameters.p: Invalid key 'tags' for parameter (p)"]
        );
        assert_eq!(
            errors(json!({"p": {"type": "string", "tags": "a"}}), v),
            ["parameters.p.tags: Tags property should be a list for parameter: p"]
        );
        assert_eq!(
            errors(
                json!({"p": {"type": "string", "constraints": {"range": {"min": 1}}}}),
                v
            ),
            [
                "parameters.p.constraints: Invalid parameter constraints for parameter p, expected a list"
            ]
        );
        assert_eq!(
            errors(
                json!({"p": {"type": "string", "constraints": [{"range": {"min": 1}}]}}),
                v
            ),
            ["Parameter 'p' is invalid: Range constraint invalid for string"]
        );
        assert_eq!(
            errors(
                json!({"p": {"type": "number", "default": 0, "constraints": [{"range": {"min": 1}}]}}),
                v
            ),
            ["Parameter 'p' is invalid: Invalid default 0 (0 is out of range (min: 1, max: None))"]
        );
        assert_eq!(
            errors(json!({"p": {"type": "number", "default": "x"}}), v),
            ["Parameter 'p' is invalid: could not convert string to float: 'x'"]
        );
        // Every problem is reported, not just the first.
        let all = errors(
            json!({
                "a": {"type": "string", "constraints": [{"length": {"min": "x"}}, {"allowed_values": 1}]},
                "b": {"type": "nope"},
                "c": {"type": "string", "default": "UP", "constraints": [{"allowed_pattern": "[a-z]+", "description": "lower case"}]}
            }),
            v,
        );
        assert_eq!(
            all,
            [
                "parameters.a.constraints[0]: min/max must be numeric",
                "parameters.a.constraints[1]: AllowedValues must be a list",
                "parameters.b.type: Invalid type (nope)",
                "Parameter 'c' is invalid: Invalid default UP (lower case)",
            ]
        );
    }

    #[test]
    fn custom_constraints_apply_to_values_not_to_default_declarations() {
        let section = json!({"ip": {"type": "string", "default": "nope", "constraints": [{"custom_constraint": "ip_addr"}]}});
        let d = parse_declarations(&section, HotVersion::V2021_04_16);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let err = resolve_values(&d.decls, &Map::new(), &Map::new()).unwrap_err();
        assert_eq!(
            err[0].to_string(),
            "Parameter 'ip' is invalid: Error validating value 'nope': Invalid IP address"
        );
        let ok = resolve_values(&d.decls, &obj(json!({"ip": "10.0.0.1"})), &Map::new()).unwrap();
        assert_eq!(ok["ip"], json!("10.0.0.1"));
    }

    #[test]
    fn hidden_values_never_appear_in_errors() {
        let d = decls(json!({
            "pw": {"type": "string", "hidden": true, "constraints": [
                {"length": {"min": 20}}, {"allowed_pattern": "[a-z]+"}, {"allowed_values": ["x"]}
            ]},
            "n": {"type": "number", "hidden": true}
        }));
        let err = resolve_values(
            &d,
            &obj(json!({"pw": "Hunter2", "n": "Hunter2"})),
            &Map::new(),
        )
        .unwrap_err();
        assert_eq!(err.len(), 4, "{err:?}");
        for e in err {
            assert!(!e.to_string().contains("Hunter2"), "{e}");
        }
        let section = json!({"pw": {"type": "string", "hidden": true, "default": "Hunter2",
            "constraints": [{"allowed_pattern": "[0-9]+"}]}});
        for e in errors(section, HotVersion::V2021_04_16) {
            assert!(!e.contains("Hunter2"), "{e}");
            assert!(e.contains("******"), "{e}");
        }
    }

    #[test]
    fn immutable_changes_are_named() {
        let d = decls(json!({
            "a": {"type": "string", "immutable": true},
            "b": {"type": "string"},
            "c": {"type": "number", "immutable": true}
        }));
        let old = obj(json!({"a": "1", "b": "1", "c": 1}));
        let new = obj(json!({"a": "2", "b": "2", "c": 1}));
        assert_eq!(immutable_modified(&d, &old, &new), ["a"]);
        // Stored values are not re-checked (an `expiration` may have passed since).
        let d = decls(
            json!({"e": {"type": "string", "constraints": [{"custom_constraint": "expiration"}]}}),
        );
        let v = stored_values(&d, &obj(json!({"e": "2000-01-01T00:00:00Z"})), &Map::new());
        assert_eq!(v["e"], json!("2000-01-01T00:00:00Z"));
        assert_eq!(
            immutable_error(&["a".into()]).to_string(),
            "The following parameters are immutable and may not be updated: a"
        );
    }
}
