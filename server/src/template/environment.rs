//! The environment: `parameters`, `parameter_defaults`, `resource_registry`, `event_sinks`,
//! `encrypted_param_names`, `parameter_merge_strategies`, and the server-side merge of
//! `environment_files` (reference heat-server.md §1.7).

use serde_json::{Map, Value, json};

use super::error::TemplateError;
use super::loader::load_document;
use super::registry::ResourceRegistry;

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
    /// Type mappings and per-resource overrides.
    pub registry: ResourceRegistry,
    /// The stored form (Heat's five sections).
    pub stored: Value,
}

/// Loads an environment document given as a map or as YAML/JSON text.
fn load(env: &Value, path: &str) -> Result<Map<String, Value>, TemplateError> {
    let doc = match env {
        Value::Null => Value::Object(Map::new()),
        Value::String(text) => {
            load_document(text).map_err(|e| TemplateError::at(path, e.message))?
        }
        other => other.clone(),
    };
    let Value::Object(map) = doc else {
        return Err(TemplateError::at(
            path,
            "The environment is not a valid YAML mapping data type.",
        ));
    };
    // The legacy "flat" environment: no known section at all means every key is a parameter.
    if !map.is_empty() && !map.keys().any(|k| SECTIONS.contains(&k.as_str())) {
        let mut wrapped = Map::new();
        wrapped.insert("parameters".into(), Value::Object(map));
        return Ok(wrapped);
    }
    for (key, value) in &map {
        if !SECTIONS.contains(&key.as_str()) {
            return Err(TemplateError::at(
                path,
                format!("environment has wrong section \"{key}\""),
            ));
        }
        if value.is_null() {
            return Err(TemplateError::at(
                path,
                format!("environment has empty section \"{key}\""),
            ));
        }
    }
    Ok(map)
}

fn section(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Map<String, Value>, TemplateError> {
    match map.get(key) {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(TemplateError::at(
            format!("{path}.{key}"),
            "must be a mapping",
        )),
    }
}

fn list_section(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Vec<Value>, TemplateError> {
    match map.get(key) {
        None => Ok(vec![]),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(_) => Err(TemplateError::at(format!("{path}.{key}"), "must be a list")),
    }
}

fn build(map: &Map<String, Value>, path: &str) -> Result<Environment, TemplateError> {
    let parameters = section(map, "parameters", path)?;
    let parameter_defaults = section(map, "parameter_defaults", path)?;
    let mut registry_section = section(map, "resource_registry", path)?;
    registry_section
        .entry("resources")
        .or_insert_with(|| json!({}));
    let registry =
        ResourceRegistry::parse(&registry_section, &format!("{path}.resource_registry"))?;
    let stored = json!({
        "resource_registry": registry_section,
        "parameters": parameters,
        "parameter_defaults": parameter_defaults,
        "event_sinks": list_section(map, "event_sinks", path)?,
        "encrypted_param_names": list_section(map, "encrypted_param_names", path)?,
    });
    Ok(Environment {
        parameters,
        parameter_defaults,
        registry,
        stored,
    })
}

/// Parses an environment given as a map or as YAML/JSON text.
pub fn parse(env: &Value) -> Result<Environment, TemplateError> {
    build(&load(env, "environment")?, "environment")
}

/// A parameter merge strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Overwrite,
    Merge,
    DeepMerge,
}

fn strategy_of(
    strategies: &Map<String, Value>,
    param: &str,
    path: &str,
) -> Result<Strategy, TemplateError> {
    let name = strategies
        .get(param)
        .or_else(|| strategies.get("default"))
        .and_then(Value::as_str)
        .unwrap_or("overwrite");
    match name {
        "overwrite" => Ok(Strategy::Overwrite),
        "merge" => Ok(Strategy::Merge),
        "deep_merge" => Ok(Strategy::DeepMerge),
        other => Err(TemplateError::at(
            format!("{path}.parameter_merge_strategies"),
            format!(
                "Invalid merge strategy '{other}' for parameter '{param}'; expected overwrite, merge or deep_merge"
            ),
        )),
    }
}

fn merge_value(old: &Value, new: &Value, strategy: Strategy) -> Value {
    match (strategy, old, new) {
        (Strategy::Overwrite, _, _) => new.clone(),
        (_, Value::String(a), Value::String(b)) => {
            // Comma-delimited lists join with a comma; other strings concatenate.
            if a.contains(',') || b.contains(',') {
                Value::String(format!("{a},{b}"))
            } else {
                Value::String(format!("{a}{b}"))
            }
        }
        (_, Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Value::from(x.saturating_add(y)),
            _ => Value::from(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0)),
        },
        (_, Value::Array(a), Value::Array(b)) => Value::Array(a.iter().chain(b).cloned().collect()),
        (Strategy::Merge, Value::Object(a), Value::Object(b)) => {
            let mut out = a.clone();
            out.extend(b.clone());
            Value::Object(out)
        }
        (Strategy::DeepMerge, Value::Object(a), Value::Object(b)) => {
            let mut out = a.clone();
            for (k, v) in b {
                let merged = match out.get(k) {
                    Some(existing) => merge_value(existing, v, Strategy::DeepMerge),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        _ => new.clone(),
    }
}

fn merge_params(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    strategies: &Map<String, Value>,
    seen: &mut Map<String, Value>,
    path: &str,
) -> Result<(), TemplateError> {
    for (name, value) in from {
        let strategy = strategy_of(strategies, name, path)?;
        let label = Value::String(format!("{strategy:?}"));
        if strategies.contains_key(name) {
            if let Some(previous) = seen.get(name).filter(|p| **p != label) {
                return Err(TemplateError::at(
                    format!("{path}.parameter_merge_strategies"),
                    format!(
                        "Conflicting merge strategy '{}' for parameter '{name}' in file '{path}' (was {previous})",
                        label.as_str().unwrap_or_default()
                    ),
                ));
            }
            seen.insert(name.clone(), label);
        }
        let merged = match into.get(name) {
            Some(old) => merge_value(old, value, strategy),
            None => value.clone(),
        };
        into.insert(name.clone(), merged);
    }
    Ok(())
}

/// The server-side merge of `environment_files`: each named entry of `files` is an
/// environment, merged in order (parameters by their merge strategies, registries and
/// sinks combined). The result is an environment map.
pub fn merge_files(names: &[String], files: &Map<String, Value>) -> Result<Value, TemplateError> {
    let mut parameters = Map::new();
    let mut parameter_defaults = Map::new();
    let mut registry = Map::new();
    let mut registry_resources = Map::new();
    let mut event_sinks = Vec::new();
    let mut seen = Map::new();
    for name in names {
        let path = format!("environment_files.{name}");
        let text = files.get(name).ok_or_else(|| {
            TemplateError::at(
                "environment_files",
                format!("No content found in the \"files\" section for environment file {name}"),
            )
        })?;
        let map = load(text, &path)?;
        let strategies = section(&map, "parameter_merge_strategies", &path)?;
        merge_params(
            &mut parameters,
            &section(&map, "parameters", &path)?,
            &strategies,
            &mut seen,
            &path,
        )?;
        merge_params(
            &mut parameter_defaults,
            &section(&map, "parameter_defaults", &path)?,
            &strategies,
            &mut seen,
            &path,
        )?;
        for (k, v) in section(&map, "resource_registry", &path)? {
            if k == "resources" {
                if let Value::Object(r) = v {
                    for (rk, rv) in r {
                        let merged = match (registry_resources.get(&rk), &rv) {
                            (Some(Value::Object(old)), Value::Object(new)) => {
                                let mut m = old.clone();
                                m.extend(new.clone());
                                Value::Object(m)
                            }
                            _ => rv,
                        };
                        registry_resources.insert(rk, merged);
                    }
                }
            } else {
                registry.insert(k, v);
            }
        }
        event_sinks.extend(list_section(&map, "event_sinks", &path)?);
    }
    registry.insert("resources".into(), Value::Object(registry_resources));
    Ok(json!({
        "parameters": parameters,
        "parameter_defaults": parameter_defaults,
        "resource_registry": registry,
        "event_sinks": event_sinks,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_checked_and_filled() {
        let env = parse(&json!("parameters: {a: 1}\nparameter_defaults: {b: 2}\n")).unwrap();
        assert_eq!(env.parameters["a"], json!(1));
        assert_eq!(env.stored["resource_registry"], json!({"resources": {}}));
        let e = parse(&json!({"parameters": {}, "paramters": {}})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment: environment has wrong section \"paramters\""
        );
        let e = parse(&json!({"parameters": null})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment: environment has empty section \"parameters\""
        );
    }

    #[test]
    fn flat_environments_are_parameters() {
        let env = parse(&json!({"flavor": "m1.small", "count": 2})).unwrap();
        assert_eq!(
            Value::Object(env.parameters),
            json!({"flavor": "m1.small", "count": 2})
        );
    }

    #[test]
    fn environment_files_merge_in_order_by_strategy() {
        let files = json!({
            "a.yaml": "parameters: {name: one, tags: [x], opts: {a: {b: 1}}, n: 1, plain: first}\nresource_registry: {\"My::A\": OS::Heat::Value}\n",
            "b.yaml": "parameter_merge_strategies: {name: merge, tags: merge, opts: deep_merge, n: merge}\nparameters: {name: two, tags: [z], opts: {a: {c: 2}}, n: 2, plain: second}\nevent_sinks: [{type: zaqar-queue, target: q}]\n",
        });
        let merged = merge_files(
            &["a.yaml".into(), "b.yaml".into()],
            files.as_object().unwrap(),
        )
        .unwrap();
        assert_eq!(
            merged["parameters"],
            json!({"name": "onetwo", "tags": ["x", "z"], "opts": {"a": {"b": 1, "c": 2}}, "n": 3, "plain": "second"})
        );
        assert_eq!(
            merged["resource_registry"],
            json!({"My::A": "OS::Heat::Value", "resources": {}})
        );
        assert_eq!(
            merged["event_sinks"],
            json!([{"type": "zaqar-queue", "target": "q"}])
        );
        let e = merge_files(&["missing.yaml".into()], files.as_object().unwrap()).unwrap_err();
        assert!(e.to_string().contains("missing.yaml"), "{e}");
    }
}
