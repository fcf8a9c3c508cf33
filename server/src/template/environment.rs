//! The environment: `parameters`, `parameter_defaults` and the other sections Heat keeps.

use serde_json::{Map, Value, json};

use super::error::TemplateError;
use super::loader::load_document;

const SECTIONS: &[&str] = &[
    "parameters",
    "parameter_defaults",
    "resource_registry",
    "event_sinks",
    "encrypted_param_names",
    "parameter_merge_strategies",
];

/// A parsed environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Values for the top-level template's parameters.
    pub parameters: Map<String, Value>,
    /// Defaults for parameters of any template in the stack.
    pub parameter_defaults: Map<String, Value>,
    /// The stored form (Heat's five sections).
    pub stored: Value,
}

/// Parses an environment given as a map or as YAML/JSON text.
pub fn parse(env: &Value) -> Result<Environment, TemplateError> {
    let doc = match env {
        Value::Null => Value::Object(Map::new()),
        Value::String(text) => {
            load_document(text).map_err(|e| TemplateError::at("environment", e.message))?
        }
        other => other.clone(),
    };
    let Some(map) = doc.as_object() else {
        return Err(TemplateError::at(
            "environment",
            "The environment is not a valid YAML mapping data type.",
        ));
    };
    for (key, value) in map {
        if !SECTIONS.contains(&key.as_str()) {
            return Err(TemplateError::at(
                "environment",
                format!("environment has wrong section \"{key}\""),
            ));
        }
        if value.is_null() {
            return Err(TemplateError::at(
                "environment",
                format!("environment has empty section \"{key}\""),
            ));
        }
    }
    let section = |k: &str| -> Result<Map<String, Value>, TemplateError> {
        match map.get(k) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(_) => Err(TemplateError::at(
                format!("environment.{k}"),
                "must be a mapping",
            )),
        }
    };
    let parameters = section("parameters")?;
    let parameter_defaults = section("parameter_defaults")?;
    let mut registry = section("resource_registry")?;
    registry.entry("resources").or_insert_with(|| json!({}));
    let stored = json!({
        "resource_registry": registry,
        "parameters": parameters,
        "parameter_defaults": parameter_defaults,
        "event_sinks": map.get("event_sinks").cloned().unwrap_or(json!([])),
        "encrypted_param_names": map.get("encrypted_param_names").cloned().unwrap_or(json!([])),
    });
    Ok(Environment {
        parameters,
        parameter_defaults,
        stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_checked_and_filled() {
        let env = parse(&json!("parameters: {a: 1}\nparameter_defaults: {b: 2}\n")).unwrap();
        assert_eq!(env.parameters["a"], json!(1));
        assert_eq!(env.stored["resource_registry"], json!({"resources": {}}));
        let e = parse(&json!({"paramters": {}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment: environment has wrong section \"paramters\""
        );
    }
}
