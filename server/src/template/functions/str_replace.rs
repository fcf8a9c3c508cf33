//! `str_replace: {template, params}` — keys replaced longest first, in one pass.

use serde_json::{Map, Value};

use super::json_text::python_dumps;
use super::{EvalContext, Function, ValidationScope};
use crate::template::error::TemplateError;
use crate::template::version::HotVersion;

/// `str_replace`.
pub struct StrReplace;

fn shape_error(path: &str) -> TemplateError {
    TemplateError::at(
        path,
        "Arguments to \"str_replace\" must be a map with keys \"template\" (a string) and \"params\" (a map)",
    )
}

fn parts(args: &Value) -> Option<(&Value, &Value)> {
    let map = args.as_object()?;
    if map.len() != 2 {
        return None;
    }
    Some((map.get("template")?, map.get("params")?))
}

/// The text a parameter value is replaced by.
fn replacement(
    value: &Value,
    version: HotVersion,
    key: &str,
    path: &str,
) -> Result<String, TemplateError> {
    Ok(match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(_) | Value::Array(_) if version >= HotVersion::V2015_10_15 => {
            python_dumps(value)
        }
        Value::Object(_) | Value::Array(_) => {
            return Err(TemplateError::at(
                path,
                format!(
                    "\"str_replace\" params must be strings or numbers, param {key} is not valid"
                ),
            ));
        }
        other => updraft_hooks::deployment::python_str(other),
    })
}

/// Replaces every key of `params` in `template` in a single left-to-right pass, trying
/// longer keys first (ties in lexicographic order), so replaced text is never re-scanned.
pub fn replace_all(template: &str, params: &[(String, String)]) -> String {
    let mut keys: Vec<&(String, String)> = params.iter().filter(|(k, _)| !k.is_empty()).collect();
    keys.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'outer: while !rest.is_empty() {
        for (k, v) in &keys {
            if rest.starts_with(k.as_str()) {
                out.push_str(v);
                rest = &rest[k.len()..];
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

impl Function for StrReplace {
    fn name(&self) -> &'static str {
        "str_replace"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        if super::contains_call(args, scope.version()) && !args.is_object() {
            return Ok(());
        }
        parts(args).map(|_| ()).ok_or_else(|| shape_error(path))
    }

    fn evaluate(
        &self,
        args: Value,
        version: HotVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let (template, params) = parts(&args).ok_or_else(|| shape_error(path))?;
        let template = match template {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other if !other.is_object() && !other.is_array() => {
                updraft_hooks::deployment::python_str(other)
            }
            _ => {
                return Err(TemplateError::at(
                    path,
                    "\"str_replace\" template must be a string",
                ));
            }
        };
        let empty = Map::new();
        let params = match params {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                return Err(TemplateError::at(
                    path,
                    "\"str_replace\" params must be a map",
                ));
            }
        };
        let pairs = params
            .iter()
            .map(|(k, v)| Ok((k.clone(), replacement(v, version, k, path)?)))
            .collect::<Result<Vec<_>, TemplateError>>()?;
        Ok(Value::String(replace_all(&template, &pairs)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn longest_key_first_single_pass() {
        let ctx = FixedContext::default();
        let v = eval(
            json!({"str_replace": {"template": "$var $var2 x", "params": {"$var": "a$var2", "$var2": "b"}}}),
            &ctx,
        )
        .unwrap();
        assert_eq!(v, json!("a$var2 b x"));
    }

    #[test]
    fn non_strings_are_stringified_or_json_encoded() {
        let ctx = FixedContext::default();
        let v = eval(
            json!({"str_replace": {"template": "n=N b=B m=M z=Z", "params": {"N": 3, "B": true, "M": {"k": [1]}, "Z": null}}}),
            &ctx,
        )
        .unwrap();
        assert_eq!(v, json!("n=3 b=True m={\"k\": [1]} z="));
        assert!(eval(json!({"str_replace": {"template": "x"}}), &ctx).is_err());
    }
}
