//! Which configs run, in order: heat-cfntools' `ConfigsetsHandler`.
//!
//! Without `configSets`, the key `config` (and `-c` is an error). With them, the sets
//! named by `-c` (comma-separated) or `default`; each set is a list of config names and
//! `{"ConfigSet": name}` references, expanded in place (upstream's expansion is broken on
//! Python 3; ours works, and a reference cycle is an error instead of a recursion).

use serde_json::{Map, Value};

use super::{INIT_KEY, InitError, kind};

/// The configs to run, in order.
pub fn execution_list(
    init: &Map<String, Value>,
    selected: Option<&str>,
) -> Result<Vec<String>, InitError> {
    let at = format!("{INIT_KEY}.configSets");
    let sets = match init.get("configSets") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.is_empty() => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            return Err(InitError::invalid(
                &at,
                format!("must be a map, not {}", kind(other)),
            ));
        }
    };
    let Some(sets) = sets else {
        if let Some(s) = selected {
            return Err(InitError::invalid(
                INIT_KEY,
                format!("configSets {s:?} requested but the metadata has no configSets"),
            ));
        }
        return Ok(vec!["config".to_string()]);
    };
    let selected = match selected {
        Some(s) => s,
        None if sets.contains_key("default") => "default",
        None => {
            return Err(InitError::invalid(
                &at,
                "there is no default configSet; select one with -c",
            ));
        }
    };
    let mut out = Vec::new();
    for name in selected.split(',').map(str::trim) {
        if !sets.contains_key(name) {
            return Err(InitError::invalid(
                &at,
                format!("the requested configSet {name:?} is not defined"),
            ));
        }
        expand(sets, name, &at, &mut Vec::new(), &mut out)?;
    }
    if out.is_empty() {
        return Err(InitError::invalid(
            &at,
            format!("the requested configSets {selected:?} are empty"),
        ));
    }
    Ok(out)
}

/// Appends the configs of set `name` to `out`; `active` holds the sets being expanded.
fn expand(
    sets: &Map<String, Value>,
    name: &str,
    at: &str,
    active: &mut Vec<String>,
    out: &mut Vec<String>,
) -> Result<(), InitError> {
    let here = format!("{at}.{name}");
    if active.iter().any(|a| a == name) {
        return Err(InitError::invalid(
            &here,
            format!(
                "configSet references form a cycle: {} → {name}",
                active.join(" → ")
            ),
        ));
    }
    let entries: Vec<&Value> = match sets.get(name) {
        Some(Value::Array(list)) => list.iter().collect(),
        // AWS allows a single config name in place of a list.
        Some(v @ Value::String(_)) => vec![v],
        Some(other) => {
            return Err(InitError::invalid(
                &here,
                format!("must be a list, not {}", kind(other)),
            ));
        }
        None => {
            return Err(InitError::invalid(&here, "is referenced but not defined"));
        }
    };
    active.push(name.to_string());
    for (i, entry) in entries.into_iter().enumerate() {
        match entry {
            Value::String(config) => out.push(config.clone()),
            Value::Object(m) => {
                let reference = match (m.len(), m.get("ConfigSet")) {
                    (1, Some(Value::String(r))) => r,
                    _ => {
                        return Err(InitError::invalid(
                            &format!("{here}[{i}]"),
                            "a map entry must be {\"ConfigSet\": \"<name>\"}",
                        ));
                    }
                };
                if !sets.contains_key(reference) {
                    return Err(InitError::invalid(
                        &format!("{here}[{i}]"),
                        format!("references the undefined configSet {reference:?}"),
                    ));
                }
                expand(sets, reference, at, active, out)?;
            }
            other => {
                return Err(InitError::invalid(
                    &format!("{here}[{i}]"),
                    format!(
                        "must be a config name or {{\"ConfigSet\": name}}, not {}",
                        kind(other)
                    ),
                ));
            }
        }
    }
    active.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(init: Value, selected: Option<&str>) -> Result<Vec<String>, String> {
        execution_list(init.as_object().unwrap(), selected).map_err(|e| e.to_string())
    }

    #[test]
    fn without_config_sets_the_config_key_runs() {
        assert_eq!(list(json!({"config": {}}), None).unwrap(), ["config"]);
        assert!(
            list(json!({"config": {}}), Some("x"))
                .unwrap_err()
                .contains("has no configSets")
        );
    }

    #[test]
    fn default_and_selected_sets_expand_nested_references_in_place() {
        let init = json!({"configSets": {
            "default": ["a", {"ConfigSet": "inner"}, "d"],
            "inner": ["b", {"ConfigSet": "deeper"}],
            "deeper": ["c"],
            "other": "z",
        }});
        assert_eq!(list(init.clone(), None).unwrap(), ["a", "b", "c", "d"]);
        assert_eq!(
            list(init.clone(), Some("other, deeper")).unwrap(),
            ["z", "c"]
        );
        assert!(list(init, Some("nope")).unwrap_err().contains("\"nope\""));
    }

    #[test]
    fn bad_config_sets_are_errors_with_their_place() {
        let e = list(json!({"configSets": {"x": ["a"]}}), None).unwrap_err();
        assert!(e.contains("no default configSet"), "{e}");
        let e = list(
            json!({"configSets": {"default": [{"ConfigSet": "missing"}]}}),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e,
            "AWS::CloudFormation::Init.configSets.default[0]: references the undefined configSet \"missing\""
        );
        let e = list(
            json!({"configSets": {"default": [{"ConfigSet": "b"}], "b": [{"ConfigSet": "default"}]}}),
            None,
        )
        .unwrap_err();
        assert!(e.contains("cycle"), "{e}");
        let e = list(json!({"configSets": {"default": [1]}}), None).unwrap_err();
        assert!(e.contains("default[0]"), "{e}");
        let e = list(json!({"configSets": {"default": []}}), None).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = list(json!({"configSets": ["a"]}), None).unwrap_err();
        assert!(e.contains("must be a map"), "{e}");
    }
}
