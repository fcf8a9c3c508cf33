//! Heat's deployment rules that depend on the source config, shared by
//! `OS::Heat::SoftwareDeployment` and `OS::Heat::StructuredDeployment` (and so by the
//! deployment groups' members): which actions a deployment acts on (a `component` config's
//! own actions), the structured `{get_input: …}` substitution, and `replace_on_change`.

use serde_json::{Map, Value};

use super::software_component::component_actions;
use crate::resources::ResourceError;
use crate::store::{ConfigRow, ResourceRow, Store};

/// The property that makes a deployment structured: only StructuredDeployment's schema has
/// it (with a default), so validated properties carry it exactly for that type.
pub const INPUT_KEY: &str = "input_key";

/// The source config named by a deployment's `config` property, if any.
async fn source_config(
    store: &Store,
    props: &Map<String, Value>,
) -> Result<Option<ConfigRow>, ResourceError> {
    match props
        .get("config")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(id) => Ok(store.config(id).await?),
        None => Ok(None),
    }
}

/// Whether the deployment acts on `action`: for a `component` config, when one of its
/// entries names the action (the `actions` property is not looked at, as Heat); otherwise
/// when `actions` has it.
pub async fn acts_on(
    store: &Store,
    props: &Map<String, Value>,
    action: &str,
) -> Result<bool, ResourceError> {
    if let Some(config) = source_config(store, props).await?
        && let Some(actions) = component_actions(&config)
    {
        return Ok(actions.iter().any(|a| a == action));
    }
    Ok(props
        .get("actions")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(action))))
}

/// The derived config's `config`: the source's as it is, except for a StructuredDeployment,
/// whose `input_key` references are replaced by the derived inputs' values ([`substitute`]).
pub fn derive_config(
    props: &Map<String, Value>,
    source: Value,
    inputs: &[Value],
) -> Result<Value, ResourceError> {
    let Some(key) = props.get(INPUT_KEY).and_then(Value::as_str) else {
        return Ok(source);
    };
    let strict = props.get("input_values_validate").and_then(Value::as_str) == Some("STRICT");
    let values: Map<String, Value> = inputs
        .iter()
        .filter_map(|i| {
            let name = i.get("name")?.as_str()?;
            Some((
                name.to_string(),
                i.get("value").cloned().unwrap_or(Value::Null),
            ))
        })
        .collect();
    substitute(&source, key, &values, strict).map_err(|name| ResourceError::Raised {
        heat_type: "UserParameterMissing",
        message: format!("The Parameter ({name}) was not provided."),
    })
}

/// Replaces every single-key map `{key: "<name>"}` in `value` (at any depth, in lists too)
/// by `inputs[name]`: null when there is none, or `Err(name)` when `strict`.
pub fn substitute(
    value: &Value,
    key: &str,
    inputs: &Map<String, Value>,
    strict: bool,
) -> Result<Value, String> {
    match value {
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(name)) = map.get(key)
            {
                return match inputs.get(name) {
                    Some(v) => Ok(v.clone()),
                    None if strict => Err(name.clone()),
                    None => Ok(Value::Null),
                };
            }
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, key, inputs, strict)?)))
                .collect::<Result<Map<String, Value>, String>>()
                .map(Value::Object)
        }
        Value::Array(items) => items
            .iter()
            .map(|v| substitute(v, key, inputs, strict))
            .collect::<Result<Vec<Value>, String>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Heat's `replace_on_change`: whether an update must replace the deployment because an
/// input the (new) source config declares `replace_on_change: true` now has another value
/// than the one deployed last (inputs the last derived config did not have do not count).
pub async fn replace_on_change(
    store: &Store,
    current: &ResourceRow,
    props: &Map<String, Value>,
) -> Result<bool, ResourceError> {
    if current.physical_id.is_empty() {
        return Ok(false);
    }
    let Some(deployment) = store.deployment(&current.physical_id).await? else {
        return Ok(false);
    };
    let Some(previous) = store.config(&deployment.config_id).await? else {
        return Ok(false);
    };
    let Some(source) = source_config(store, props).await? else {
        return Ok(false);
    };
    let empty = Map::new();
    let input_values = props
        .get("input_values")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let old_value = |name: &str| {
        previous
            .inputs
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(name))
            .map(|i| i.get("value").cloned().unwrap_or(Value::Null))
    };
    for input in source.inputs.as_array().into_iter().flatten() {
        if input.get("replace_on_change").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let Some(name) = input.get("name").and_then(Value::as_str) else {
            continue;
        };
        let new_value = input_values
            .get(name)
            .or_else(|| input.get("default"))
            .cloned()
            .unwrap_or(Value::Null);
        if old_value(name).is_some_and(|old| old != new_value) {
            tracing::debug!(
                input = name,
                "replacing a deployment: replace_on_change input changed"
            );
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn substitution_reaches_every_depth_and_only_single_key_maps() {
        let inputs = json!({"port": 8080, "deploy_action": "CREATE", "tags": ["a"]});
        let inputs = inputs.as_object().unwrap();
        let config = json!({
            "listen": {"get_input": "port"},
            "list": [{"get_input": "deploy_action"}, [{"get_input": "tags"}], "plain"],
            "two_keys": {"get_input": "port", "other": 1},
            "not_a_name": {"get_input": ["port"]},
            "missing": {"get_input": "nope"}
        });
        assert_eq!(
            substitute(&config, "get_input", inputs, false).unwrap(),
            json!({
                "listen": 8080,
                "list": ["CREATE", [["a"]], "plain"],
                "two_keys": {"get_input": "port", "other": 1},
                "not_a_name": {"get_input": ["port"]},
                "missing": null
            })
        );
        assert_eq!(
            substitute(&config, "get_input", inputs, true).unwrap_err(),
            "nope"
        );
        // Another input key leaves get_input alone.
        assert_eq!(
            substitute(
                &json!({"a": {"get_input": "port"}, "b": {"ref": "port"}}),
                "ref",
                inputs,
                true
            )
            .unwrap(),
            json!({"a": {"get_input": "port"}, "b": 8080})
        );
    }

    #[test]
    fn only_structured_properties_substitute() {
        let inputs = vec![json!({"name": "x", "value": 1})];
        let config = json!({"v": {"get_input": "x"}, "w": {"get_input": "y"}});
        let plain = Map::new();
        assert_eq!(
            derive_config(&plain, config.clone(), &inputs).unwrap(),
            config
        );
        let strict = json!({"input_key": "get_input", "input_values_validate": "STRICT"});
        let err = derive_config(strict.as_object().unwrap(), config, &inputs).unwrap_err();
        assert_eq!(err.heat_type(), "UserParameterMissing");
        assert_eq!(err.to_string(), "The Parameter (y) was not provided.");
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::resources::ResourceType;
    use crate::resources::heat::deployed_server::DeployedServer;
    use crate::resources::heat::software_component::SoftwareComponent;
    use crate::resources::heat::software_config::SoftwareConfig;
    use crate::resources::heat::software_deployment::SoftwareDeployment;
    use crate::resources::heat::test_support::Harness;
    use serde_json::json;

    #[tokio::test]
    async fn a_component_deployment_acts_only_on_its_configs_actions() {
        let h = Harness::new().await;
        let store = &h.services.store;
        let server = h
            .create(&DeployedServer, "server", json!({}))
            .await
            .unwrap();
        let comp = h
            .create(
                &SoftwareComponent,
                "comp",
                json!({"configs": [{"actions": ["UPDATE"], "config": "echo u", "tool": "script"}]}),
            )
            .await
            .unwrap();
        let props = json!({"config": comp.physical_id, "server": server.physical_id,
            "signal_transport": "NO_SIGNAL", "actions": ["CREATE"]});
        let dep = h
            .create(&SoftwareDeployment, "dep", props.clone())
            .await
            .unwrap();
        // CREATE is in no entry: nothing derived, nothing published.
        assert!(store.deployment(&dep.physical_id).await.unwrap().is_none());
        let document = store.metadata(&server.physical_id).await.unwrap().unwrap();
        assert_eq!(document.document["deployments"], json!([]), "{document:?}");
        // UPDATE is, whatever `actions` says.
        let mut changed = props;
        changed["input_values"] = json!({"x": 1});
        let (_, updated) = h.update(&SoftwareDeployment, &dep, changed).await;
        updated.unwrap().unwrap();
        let row = store.deployment(&dep.physical_id).await.unwrap().unwrap();
        assert_eq!(row.action, "UPDATE");
        let derived = store.config(&row.config_id).await.unwrap().unwrap();
        assert_eq!(derived.group, "component");
        assert_eq!(derived.config["configs"][0]["tool"], json!("script"));
    }

    #[tokio::test]
    async fn replace_on_change_inputs_replace_the_deployment() {
        let h = Harness::new().await;
        let server = h
            .create(&DeployedServer, "server", json!({}))
            .await
            .unwrap();
        let cfg = h
            .create(
                &SoftwareConfig,
                "cfg",
                json!({"group": "script", "config": "x", "inputs": [
                    {"name": "version", "replace_on_change": true, "default": "1"},
                    {"name": "colour"}
                ]}),
            )
            .await
            .unwrap();
        let props = |values: Value| {
            Harness::validate(
                &SoftwareDeployment,
                "dep",
                json!({"config": cfg.physical_id, "server": server.physical_id,
                    "signal_transport": "NO_SIGNAL", "input_values": values}),
            )
            .unwrap()
        };
        let dep = h
            .create(
                &SoftwareDeployment,
                "dep",
                Value::Object(props(json!({"colour": "red"}))),
            )
            .await
            .unwrap();
        let replaces = |values: Value| {
            let new = props(values);
            let dep = dep.clone();
            let services = &h.services;
            async move {
                SoftwareDeployment
                    .replaces_on_update(services, &dep, &new)
                    .await
                    .unwrap()
            }
        };
        assert!(!replaces(json!({"colour": "blue"})).await);
        assert!(!replaces(json!({"colour": "blue", "version": "1"})).await);
        assert!(replaces(json!({"colour": "red", "version": "2"})).await);
    }
}
