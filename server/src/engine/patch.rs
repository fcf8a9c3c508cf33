//! `PATCH` updates (Heat's `existing=True`): the stored stack plus what the request changes.
//!
//! The template is kept unless one is given; files are merged; the request's environment is
//! loaded over the stored one (parameters and `parameter_defaults` overwrite, the
//! `resource_registry` merges entry by entry with `null` removing an entry, event sinks are
//! appended); `clear_parameters` drops stored values first so those parameters fall back to
//! their defaults; parameters the template does not declare are dropped, as Heat does;
//! `timeout_mins` and `disable_rollback` are kept unless given. The result is an ordinary
//! [`StackRequest`], so a PATCH is validated and converged exactly as a PUT.

use serde_json::{Map, Value};

use super::{Engine, EngineError, StackRequest};
use crate::store::StackRow;
use crate::template::{Template, environment};

/// What a `PATCH` body asks for (absent fields keep what is stored).
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// A new template; `None` keeps the stored one.
    pub template: Option<Value>,
    /// Parameter values to set.
    pub parameters: Map<String, Value>,
    /// Parameters whose stored values are forgotten (back to their defaults).
    pub clear_parameters: Vec<String>,
    /// An environment (map or text) loaded over the stored one; `null` for none.
    pub environment: Value,
    /// Environment files (keys of the merged files map), merged in order; when given, the
    /// request's `environment` is not used (as in Heat).
    pub environment_files: Vec<String>,
    /// Files added to (or replacing entries of) the stored files map.
    pub files: Map<String, Value>,
    /// A new timeout; `None` keeps the stored one.
    pub timeout_mins: Option<i64>,
    /// A new rollback setting; `None` keeps the stored one.
    pub disable_rollback: Option<bool>,
    /// New tags; `None` keeps the stack's.
    pub tags: Option<Vec<String>>,
}

fn section(env: &Value, key: &str) -> Map<String, Value> {
    env.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn list(env: &Value, key: &str) -> Vec<Value> {
    env.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Heat's registry load: maps merge key by key, `null` removes an entry (every entry with
/// the prefix for `name*`), `hooks` and `restricted_actions` and type names replace.
pub fn merge_registry(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        match value {
            Value::Null => match key.strip_suffix('*') {
                Some(prefix) => into.retain(|k, v| v.is_object() || !k.starts_with(prefix)),
                None => {
                    into.remove(key);
                }
            },
            Value::Object(entries) if key != "hooks" && key != "restricted_actions" => {
                let slot = into
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(slot) = slot {
                    merge_registry(slot, entries);
                }
            }
            other => {
                into.insert(key.clone(), other.clone());
            }
        }
    }
}

/// The request a `PATCH` of `stack` amounts to.
pub fn merged_request(stack: &StackRow, patch: Patch) -> Result<StackRequest, EngineError> {
    let template = patch.template.unwrap_or_else(|| stack.template.clone());
    let mut files = stack.files.as_object().cloned().unwrap_or_default();
    files.extend(patch.files);
    let snippet = if patch.environment_files.is_empty() {
        patch.environment
    } else {
        environment::merge_files(&patch.environment_files, &files)?
    };
    let snippet = environment::parse(&snippet)?;

    let stored = &stack.environment;
    let cleared = |name: &String| patch.clear_parameters.contains(name);
    let mut env_params = section(stored, "parameters");
    env_params.retain(|k, _| !cleared(k));
    env_params.extend(snippet.parameters.clone());
    // Request parameters outrank environment ones when the stack is resolved, so a value
    // the new environment sets must not be hidden by an older request value.
    let mut parameters = stack.parameters.clone();
    parameters.retain(|k, _| !cleared(k) && !snippet.parameters.contains_key(k));
    parameters.extend(patch.parameters);
    // Heat drops values for parameters the (new) template does not declare.
    if let Ok(parsed) = Template::parse(&template) {
        parameters.retain(|k, _| parsed.parameters.contains_key(k));
        env_params.retain(|k, _| parsed.parameters.contains_key(k));
    }

    let mut defaults = section(stored, "parameter_defaults");
    defaults.extend(snippet.parameter_defaults.clone());
    let mut registry = section(stored, "resource_registry");
    merge_registry(
        &mut registry,
        &section(&snippet.stored, "resource_registry"),
    );
    let mut sinks = list(stored, "event_sinks");
    sinks.extend(list(&snippet.stored, "event_sinks"));
    // Heat keeps the stored list; a request cannot set it.
    let encrypted = list(stored, "encrypted_param_names");

    let mut env = Map::new();
    env.insert("resource_registry".into(), Value::Object(registry));
    env.insert("parameters".into(), Value::Object(env_params));
    env.insert("parameter_defaults".into(), Value::Object(defaults));
    env.insert("event_sinks".into(), Value::Array(sinks));
    env.insert("encrypted_param_names".into(), Value::Array(encrypted));
    Ok(StackRequest {
        template,
        parameters,
        environment: Value::Object(env),
        files: Value::Object(files),
        timeout_mins: patch.timeout_mins.or(stack.timeout_mins),
        disable_rollback: patch.disable_rollback.unwrap_or(stack.disable_rollback),
        tags: patch.tags.clone().or_else(|| stack.tags.clone()),
    })
}

impl Engine {
    /// Updates the stack with what `patch` changes (`PATCH`); validated and converged as a
    /// `PUT` of the merged request.
    pub async fn patch_stack(&self, stack: &StackRow, patch: Patch) -> Result<(), EngineError> {
        let request = merged_request(stack, patch)?;
        self.update_stack(stack, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored() -> StackRow {
        StackRow {
            id: "id".into(),
            project: "p".into(),
            name: "s".into(),
            action: "CREATE".into(),
            status: "COMPLETE".into(),
            status_reason: String::new(),
            template: json!({
                "heat_template_version": "2018-08-31",
                "parameters": {
                    "a": {"type": "string", "default": "A"},
                    "b": {"type": "string", "default": "B"},
                    "c": {"type": "string", "default": "C"},
                },
            }),
            environment: json!({
                "resource_registry": {"My::One": "OS::Heat::None", "My::Two": "OS::Heat::None",
                                      "resources": {"r": {"hooks": "pre-create"}}},
                "parameters": {"c": "env-c"},
                "parameter_defaults": {"x": 1},
                "event_sinks": [],
                "encrypted_param_names": [],
            }),
            files: json!({"f1": "one", "f2": "two"}),
            parameters: json!({"a": "a1", "b": "b1"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            disable_rollback: false,
            timeout_mins: Some(7),
            ..Default::default()
        }
    }

    #[test]
    fn only_what_is_given_changes() {
        let patch = Patch {
            parameters: json!({"a": "a2"}).as_object().cloned().unwrap_or_default(),
            ..Default::default()
        };
        let merged = merged_request(&stored(), patch).unwrap();
        assert_eq!(merged.template, stored().template);
        assert_eq!(
            Value::Object(merged.parameters),
            json!({"a": "a2", "b": "b1"})
        );
        assert_eq!(merged.environment["parameters"], json!({"c": "env-c"}));
        assert_eq!(merged.files, json!({"f1": "one", "f2": "two"}));
        assert_eq!(merged.timeout_mins, Some(7));
        assert!(!merged.disable_rollback);
    }

    #[test]
    fn cleared_parameters_are_forgotten_everywhere() {
        let patch = Patch {
            clear_parameters: vec!["b".into(), "c".into(), "zz".into()],
            ..Default::default()
        };
        let merged = merged_request(&stored(), patch).unwrap();
        assert_eq!(Value::Object(merged.parameters), json!({"a": "a1"}));
        assert_eq!(merged.environment["parameters"], json!({}));
    }

    #[test]
    fn environments_merge_and_undeclared_parameters_go() {
        let patch = Patch {
            template: Some(json!({
                "heat_template_version": "2018-08-31",
                "parameters": {"a": {"type": "string"}},
            })),
            environment: json!({
                "parameters": {"a": "env-a", "gone": 1},
                "parameter_defaults": {"y": 2},
                "resource_registry": {"My::One": null, "My::Three": "OS::Heat::Value",
                                      "resources": {"r": {"restricted_actions": "replace"}}},
            }),
            files: json!({"f2": "new"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            timeout_mins: Some(3),
            disable_rollback: Some(true),
            ..Default::default()
        };
        let merged = merged_request(&stored(), patch).unwrap();
        // The environment's new value wins over the older request value.
        assert_eq!(Value::Object(merged.parameters), json!({}));
        assert_eq!(merged.environment["parameters"], json!({"a": "env-a"}));
        assert_eq!(
            merged.environment["parameter_defaults"],
            json!({"x": 1, "y": 2})
        );
        assert_eq!(
            merged.environment["resource_registry"],
            json!({"My::Two": "OS::Heat::None", "My::Three": "OS::Heat::Value",
                   "resources": {"r": {"hooks": "pre-create", "restricted_actions": "replace"}}})
        );
        assert_eq!(merged.files, json!({"f1": "one", "f2": "new"}));
        assert_eq!(merged.timeout_mins, Some(3));
        assert!(merged.disable_rollback);
    }

    #[test]
    fn a_glob_null_removes_every_matching_type() {
        let mut registry = json!({"A::x": "T", "A::y": "T", "B": "T", "A::z": {"k": "v"}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merge_registry(
            &mut registry,
            json!({"A::*": null}).as_object().unwrap_or(&Map::new()),
        );
        assert_eq!(
            Value::Object(registry),
            json!({"B": "T", "A::z": {"k": "v"}})
        );
    }

    #[test]
    fn environment_files_come_from_the_merged_files() {
        let patch = Patch {
            environment_files: vec!["env.yaml".into()],
            files: json!({"env.yaml": "parameters: {b: from-file}"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..Default::default()
        };
        let merged = merged_request(&stored(), patch).unwrap();
        assert_eq!(
            merged.environment["parameters"],
            json!({"b": "from-file", "c": "env-c"})
        );
        assert_eq!(Value::Object(merged.parameters), json!({"a": "a1"}));
        let missing = Patch {
            environment_files: vec!["nope.yaml".into()],
            ..Default::default()
        };
        assert!(merged_request(&stored(), missing).is_err());
    }
}
