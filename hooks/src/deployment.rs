//! The deployment document: one entry of `metadata.deployments`, i.e. Heat's derived config.
//!
//! Field order follows what Heat serves (`id, name, group, creation_time, config, inputs,
//! outputs, options`), and unknown fields are kept so a document passes through the agent
//! to a hook unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The group used when a config names none.
pub const UNGROUPED: &str = "Heat::Ungrouped";

/// The group of a SoftwareComponent's config: one entry per set of actions.
pub const COMPONENT: &str = "component";

/// One deployment as delivered to a server in its metadata (`deployments[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Id of the derived config: new for every triggered action, the agent's idempotency key.
    pub id: String,
    /// Deployment name; the server sorts `deployments` by it.
    #[serde(default)]
    pub name: String,
    /// Hook name (`script`, `puppet`, …) or `Heat::Ungrouped`.
    #[serde(default = "default_group")]
    pub group: String,
    /// `YYYY-MM-DDTHH:MM:SSZ` creation time of the derived config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    /// The config body: a script for `script`, a map for structured configs.
    #[serde(default)]
    pub config: Value,
    /// Inputs in Heat's order: declared, undeclared `input_values`, then `deploy_*`.
    #[serde(default)]
    pub inputs: Vec<DeploymentInput>,
    /// Declared outputs.
    #[serde(default)]
    pub outputs: Vec<OutputSchema>,
    /// Hook options (a map, or null).
    #[serde(default)]
    pub options: Value,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_group() -> String {
    UNGROUPED.to_string()
}

fn default_input_type() -> String {
    "String".to_string()
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One input of a deployment, with its resolved `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentInput {
    /// Input name; scripts see it as an environment variable.
    pub name: String,
    /// Description (absent for undeclared inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `String`, `Number`, `CommaDelimitedList`, `Json` or `Boolean`.
    #[serde(rename = "type", default = "default_input_type")]
    pub input_type: String,
    /// Declared default (absent for undeclared and `deploy_*` inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Whether a change of this input replaces the deployment; serialized only when true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub replace_on_change: bool,
    /// The value; keeps its JSON type.
    #[serde(default)]
    pub value: Value,
}

/// One declared output of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputSchema {
    /// Output name: the key in the signal payload and the deployment attribute name.
    pub name: String,
    /// Description (`""` when declared without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Declared type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub output_type: Option<String>,
    /// When true, the presence of this output in a signal fails the deployment.
    #[serde(default)]
    pub error_output: bool,
}

impl Deployment {
    /// The value of input `name`, if the deployment has it.
    pub fn input(&self, name: &str) -> Option<&Value> {
        self.inputs
            .iter()
            .find(|i| i.name == name)
            .map(|i| &i.value)
    }

    /// The value of input `name` when it is a string.
    pub fn input_str(&self, name: &str) -> Option<&str> {
        self.input(name).and_then(Value::as_str)
    }

    /// The action this deployment was triggered for (`deploy_action`), `CREATE` if absent.
    pub fn action(&self) -> &str {
        self.input_str("deploy_action").unwrap_or("CREATE")
    }

    /// Applies heat-config's `component` rule to a deployment of group `component`: the first
    /// entry of `config.configs` whose `actions` contain `deploy_action` becomes the
    /// deployment (its `config` and its `tool` as the group). `false` when none does: the
    /// deployment is to be skipped, neither recorded nor signalled. Other groups are left
    /// alone (`true`).
    pub fn select_component(&mut self) -> bool {
        if self.group != COMPONENT {
            return true;
        }
        let action = self.input("deploy_action").cloned();
        let entry = self
            .config
            .get("configs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|entry| {
                entry
                    .get("actions")
                    .and_then(Value::as_array)
                    .is_some_and(|actions| action.as_ref().is_some_and(|a| actions.contains(a)))
            })
            .cloned();
        let Some(entry) = entry else {
            return false;
        };
        self.config = entry.get("config").cloned().unwrap_or(Value::Null);
        self.group = match entry.get("tool") {
            Some(Value::String(tool)) => tool.clone(),
            _ => String::new(),
        };
        true
    }

    /// Applies heat-config's input sanitising: a `String` input holding a non-string is
    /// turned into its Python `str()` form (`true` → `"True"`, `5` → `"5"`).
    pub fn sanitise_inputs(&mut self) {
        for input in &mut self.inputs {
            if let Some(text) = sanitised(&input.input_type, &input.value) {
                input.value = Value::String(text);
            }
        }
    }
}

/// [`Deployment::sanitise_inputs`] on a deployment document kept as JSON (55-heat-config
/// hands hooks the document as it came, not re-encoded).
pub fn sanitise_document_inputs(document: &mut Value) {
    let inputs = document.get_mut("inputs").and_then(Value::as_array_mut);
    for input in inputs.into_iter().flatten() {
        let input_type = input
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let text = input.get("value").and_then(|v| sanitised(input_type, v));
        if let (Some(text), Some(input)) = (text, input.as_object_mut()) {
            input.insert("value".into(), Value::String(text));
        }
    }
}

/// The string a `String` input holding a non-string becomes; `None` when it stays.
fn sanitised(input_type: &str, value: &Value) -> Option<String> {
    (input_type == "String" && !value.is_string() && !value.is_null()).then(|| python_str(value))
}

/// Python's `str()` of a JSON value, as heat-agents applies it to string inputs.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        // Python would print a repr; JSON is the readable, parseable choice.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_heat_document_and_keeps_unknown_fields() {
        let doc = json!({
            "id": "c1", "name": "n", "group": "script", "creation_time": "2026-11-23T06:59:47Z",
            "config": "#!/bin/sh\n",
            "inputs": [
                {"name": "foo", "description": "", "type": "String", "default": "", "value": "world"},
                {"name": "extra", "type": "String", "value": 42}
            ],
            "outputs": [{"name": "result", "description": "", "type": "String", "error_output": false}],
            "options": {}, "future_field": 1
        });
        let d: Deployment = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(d.input_str("foo"), Some("world"));
        assert_eq!(serde_json::to_value(&d).unwrap(), doc);
    }

    #[test]
    fn a_component_becomes_the_entry_for_its_action() {
        let doc = |action: &str| {
            serde_json::from_value::<Deployment>(json!({
                "id": "c1", "group": "component",
                "config": {"configs": [
                    {"actions": ["CREATE"], "config": "echo create", "tool": "script"},
                    {"actions": ["UPDATE", "DELETE"], "config": {"k": 1}, "tool": "ansible"}
                ]},
                "inputs": [{"name": "deploy_action", "type": "String", "value": action}]
            }))
            .unwrap()
        };
        let mut d = doc("UPDATE");
        assert!(d.select_component());
        assert_eq!((d.group.as_str(), &d.config), ("ansible", &json!({"k": 1})));
        let mut d = doc("CREATE");
        assert!(d.select_component());
        assert_eq!(d.group, "script");
        assert_eq!(d.config, json!("echo create"));
        assert!(!doc("SUSPEND").select_component());
        // Other groups are untouched.
        let mut d = doc("CREATE");
        d.group = "script".into();
        let before = d.clone();
        assert!(d.select_component());
        assert_eq!(d, before);
    }

    #[test]
    fn sanitise_turns_string_typed_values_into_python_strings() {
        let mut d: Deployment = serde_json::from_value(json!({
            "id": "c1",
            "inputs": [
                {"name": "a", "type": "String", "value": true},
                {"name": "b", "type": "String", "value": 5},
                {"name": "c", "type": "Json", "value": {"k": 1}}
            ]
        }))
        .unwrap();
        d.sanitise_inputs();
        assert_eq!(d.input("a"), Some(&json!("True")));
        assert_eq!(d.input("b"), Some(&json!("5")));
        assert_eq!(d.input("c"), Some(&json!({"k": 1})));
        assert_eq!(d.group, "Heat::Ungrouped");
    }
}
