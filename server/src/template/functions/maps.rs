//! `map_merge: [map, ...]` and `map_replace: [map, {keys, values}]`.

use serde_json::{Map, Value};

use super::{EvalContext, Function, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `map_merge`.
pub struct MapMerge;

/// `map_replace`.
pub struct MapReplace;

const MERGE_SHAPE: &str = "Incorrect arguments to \"map_merge\" should be: \"map_merge\" : [ { \"key1\": \"val1\" }, { \"key2\": \"val2\" } ]";
const REPLACE_EXAMPLE: &str = "\"map_replace\" : [ { \"key1\": \"val1\" }, {\"keys\": {\"key1\": \"key2\"}, \"values\": {\"val1\": \"val2\"}}]";

impl Function for MapMerge {
    fn name(&self) -> &'static str {
        "map_merge"
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        // A string is a sequence to Python: its characters are the "maps".
        let items: Vec<Value> = match args {
            Value::Array(items) => items,
            Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
            _ => return Err(err(MERGE_SHAPE.into())),
        };
        let mut out = Map::new();
        for item in items {
            match item {
                Value::Null => {}
                Value::Object(m) => out.extend(m),
                other => {
                    return Err(err(format!(
                        "Incorrect arguments: Items to merge must be maps. {} is type {} instead of a dict",
                        python::short_repr(&other),
                        python::type_repr(&other)
                    )));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// `None` as `{}`, a map as itself, anything else an error.
fn ensure_map(value: Option<&Value>) -> Result<Map<String, Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(format!(
            "Incorrect arguments: to \"map_replace\", arguments must be a list of maps. Example:  {REPLACE_EXAMPLE}"
        )),
    }
}

/// A replacement key as a JSON key; containers cannot be keys in Python either.
fn as_key(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Array(_) | Value::Object(_) => {
            Err(format!("unhashable type: '{}'", python::type_name(value)))
        }
        other => Ok(other.to_string()),
    }
}

impl Function for MapReplace {
    fn name(&self) -> &'static str {
        "map_replace"
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let shape = || {
            err(format!(
                "Incorrect arguments to \"map_replace\" should be: {REPLACE_EXAMPLE}"
            ))
        };
        let Value::Array(items) = &args else {
            return Err(shape());
        };
        let Some(first) = items.first() else {
            return Err(shape());
        };
        let input = ensure_map(Some(first)).map_err(err)?;
        let Some(second) = items.get(1) else {
            return Err(shape());
        };
        let replacements = ensure_map(Some(second)).map_err(err)?;
        if items.len() > 2 || replacements.keys().any(|k| k != "keys" && k != "values") {
            return Err(shape());
        }
        let keys = ensure_map(replacements.get("keys")).map_err(err)?;
        let values = ensure_map(replacements.get("values")).map_err(err)?;
        let mut out = Map::with_capacity(input.len());
        for (k, v) in &input {
            let key = match keys.get(k) {
                None | Some(Value::Null) => k.clone(),
                Some(new) => {
                    let new = as_key(new).map_err(err)?;
                    if new != *k && input.contains_key(&new) {
                        return Err(err(format!(
                            "key replacement {new} collides with a key in the input map"
                        )));
                    }
                    if out.contains_key(&new) {
                        return Err(err(format!(
                            "key replacement {new} collides with a key in the output map"
                        )));
                    }
                    new
                }
            };
            // Only strings can equal the (string) keys of `values`.
            let value = match v {
                Value::String(s) => values.get(s).cloned().unwrap_or_else(|| v.clone()),
                other => other.clone(),
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    #[test]
    fn map_merge() {
        let ctx = FixedContext::default();
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"map_merge": [{"a": 1, "b": 1}, null, {"b": 2}]}),
                    Ok(json!({"a": 1, "b": 2})),
                ),
                (
                    json!({"map_merge": [{"a": 1}, "x"]}),
                    Err(
                        "outputs.o.map_merge: Incorrect arguments: Items to merge must be maps. 'x' is type <class 'str'> instead of a dict",
                    ),
                ),
                (
                    json!({"map_merge": {"a": 1}}),
                    Err(
                        "outputs.o.map_merge: Incorrect arguments to \"map_merge\" should be: \"map_merge\" : [ { \"key1\": \"val1\" }, { \"key2\": \"val2\" } ]",
                    ),
                ),
            ],
        );
        check_cases(
            hot(HotVersion::V2015_10_15),
            &ctx,
            &[(json!({"map_merge": [{}]}), Ok(json!({"map_merge": [{}]})))],
        );
    }

    #[test]
    fn map_replace() {
        let ctx = FixedContext::default();
        let shape = "outputs.o.map_replace: Incorrect arguments to \"map_replace\" should be: \"map_replace\" : [ { \"key1\": \"val1\" }, {\"keys\": {\"key1\": \"key2\"}, \"values\": {\"val1\": \"val2\"}}]";
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"map_replace": [{"k1": "v1", "k2": "v2", "k3": 3}, {"keys": {"k1": "K1"}, "values": {"v2": "V2"}}]}),
                    Ok(json!({"K1": "v1", "k2": "V2", "k3": 3})),
                ),
                (
                    json!({"map_replace": [{"a": 1}, {"keys": {"a": "a"}}]}),
                    Ok(json!({"a": 1})),
                ),
                (
                    json!({"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "b"}}]}),
                    Err(
                        "outputs.o.map_replace: key replacement b collides with a key in the input map",
                    ),
                ),
                (
                    json!({"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "c", "b": "c"}}]}),
                    Err(
                        "outputs.o.map_replace: key replacement c collides with a key in the output map",
                    ),
                ),
                (json!({"map_replace": [{"a": 1}]}), Err(shape)),
                (
                    json!({"map_replace": [{"a": 1}, {"other": {}}]}),
                    Err(shape),
                ),
                (
                    json!({"map_replace": ["x", {}]}),
                    Err(
                        "outputs.o.map_replace: Incorrect arguments: to \"map_replace\", arguments must be a list of maps. Example:  \"map_replace\" : [ { \"key1\": \"val1\" }, {\"keys\": {\"key1\": \"key2\"}, \"values\": {\"val1\": \"val2\"}}]",
                    ),
                ),
            ],
        );
    }
}
