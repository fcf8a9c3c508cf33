//! The `conditions` section (HOT 2016-10-14+): named boolean expressions over parameters,
//! used by `condition:` on resources and outputs and by `if`.
//!
//! A condition is a boolean, the name of another condition, or one of the condition
//! functions `equals`, `not`, `and`, `or` (and, from 2017-09-01, `contains` and `yaql`);
//! `get_param` supplies values. Other functions are invalid here, as in Heat.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use super::error::{TemplateError, join};
use super::functions::{self, EvalContext};
use super::version::{HotVersion, TemplateVersion};

/// Functions allowed inside a condition (besides the boolean operators).
fn value_function_allowed(name: &str, version: TemplateVersion) -> bool {
    match name {
        "get_param" | "Ref" => true,
        "contains" | "yaql" => version.hot_since(HotVersion::V2017_09_01),
        _ => false,
    }
}

/// Evaluates conditions on demand, with cycle detection and memoisation.
pub struct ConditionEvaluator<'a> {
    definitions: &'a IndexMap<String, Value>,
    version: TemplateVersion,
    ctx: &'a dyn EvalContext,
    results: HashMap<String, bool>,
    in_progress: Vec<String>,
}

impl<'a> ConditionEvaluator<'a> {
    /// An evaluator over a template's `conditions`.
    pub fn new(
        definitions: &'a IndexMap<String, Value>,
        version: TemplateVersion,
        ctx: &'a dyn EvalContext,
    ) -> Self {
        ConditionEvaluator {
            definitions,
            version,
            ctx,
            results: HashMap::new(),
            in_progress: Vec::new(),
        }
    }

    /// Evaluates every defined condition.
    pub fn evaluate_all(mut self) -> Result<HashMap<String, bool>, TemplateError> {
        for name in self.definitions.keys() {
            self.named(name, &join("conditions", name))?;
        }
        Ok(self.results)
    }

    /// The value of the condition called `name`.
    pub fn named(&mut self, name: &str, path: &str) -> Result<bool, TemplateError> {
        if let Some(v) = self.results.get(name) {
            return Ok(*v);
        }
        let Some(definition) = self.definitions.get(name) else {
            return Err(TemplateError::at(
                path,
                format!("Invalid condition \"{name}\""),
            ));
        };
        if self.in_progress.iter().any(|n| n == name) {
            return Err(TemplateError::at(
                join("conditions", name),
                format!("Circular definition for condition \"{name}\""),
            ));
        }
        self.in_progress.push(name.to_string());
        let result = self.expression(definition, &join("conditions", name));
        self.in_progress.pop();
        let value = result?;
        self.results.insert(name.to_string(), value);
        Ok(value)
    }

    /// Evaluates a condition expression (a `condition:` value, an `if` first argument, …).
    pub fn expression(&mut self, value: &Value, path: &str) -> Result<bool, TemplateError> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::String(name) => self.named(name, path),
            Value::Object(map) if map.len() == 1 => {
                let Some((key, args)) = map.iter().next() else {
                    return Err(TemplateError::at(path, "Invalid condition"));
                };
                let fpath = join(path, key);
                match key.as_str() {
                    // CFN: `{"Condition": "name"}` refers to another condition.
                    "Condition" => match args {
                        Value::String(name) => self.named(name, &fpath),
                        other => Err(TemplateError::at(
                            &fpath,
                            format!("Invalid condition {other}"),
                        )),
                    },
                    "equals" | "Fn::Equals" => {
                        let items = args.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
                            TemplateError::at(
                                &fpath,
                                "Arguments to \"equals\" must be of the form: [value_1, value_2]",
                            )
                        })?;
                        let a = self.value(&items[0], &fpath)?;
                        let b = self.value(&items[1], &fpath)?;
                        Ok(a == b)
                    }
                    "not" => Ok(!self.expression(args, &fpath)?),
                    // CFN's Fn::Not takes a one-element list.
                    "Fn::Not" => match args.as_array().map(Vec::as_slice) {
                        Some([inner]) => Ok(!self.expression(inner, &fpath)?),
                        _ => Ok(!self.expression(args, &fpath)?),
                    },
                    "and" | "or" | "Fn::And" | "Fn::Or" => {
                        let items = args.as_array().filter(|a| a.len() >= 2).ok_or_else(|| {
                            TemplateError::at(
                                &fpath,
                                format!("Arguments to \"{key}\" must be of the form: [condition_1, condition_2, ...]"),
                            )
                        })?;
                        let mut result = key == "and";
                        for (i, item) in items.iter().enumerate() {
                            let v = self.expression(item, &super::error::index(&fpath, i))?;
                            result = if key == "and" {
                                result && v
                            } else {
                                result || v
                            };
                        }
                        Ok(result)
                    }
                    name if value_function_allowed(name, self.version) => match self
                        .value(value, path)?
                    {
                        Value::Bool(b) => Ok(b),
                        Value::String(s) => super::parameters::parse_bool(&s).ok_or_else(|| {
                            TemplateError::at(
                                path,
                                format!("Invalid condition value \"{s}\": a boolean is required"),
                            )
                        }),
                        other => Err(TemplateError::at(
                            path,
                            format!("Invalid condition value {other}: a boolean is required"),
                        )),
                    },
                    name => Err(TemplateError::at(
                        &fpath,
                        format!("The function \"{name}\" is invalid in this context"),
                    )),
                }
            }
            other => Err(TemplateError::at(
                path,
                format!("Invalid condition {other}"),
            )),
        }
    }

    /// A value inside a condition (an `equals` argument): literals and allowed functions.
    fn value(&mut self, value: &Value, path: &str) -> Result<Value, TemplateError> {
        if let Value::Object(map) = value
            && map.len() == 1
            && let Some(key) = map.keys().next()
            && !value_function_allowed(key, self.version)
            && is_function_name(key)
        {
            return Err(TemplateError::at(
                join(path, key),
                format!("The function \"{key}\" is invalid in this context"),
            ));
        }
        functions::resolve(value, self.version, self.ctx, path)
    }
}

/// Names that are functions in some template version (used to reject them in conditions).
fn is_function_name(key: &str) -> bool {
    key.starts_with("get_")
        || key.starts_with("Fn::")
        || matches!(
            key,
            "str_replace"
                | "str_replace_strict"
                | "str_replace_vstrict"
                | "list_join"
                | "str_split"
                | "repeat"
                | "digest"
                | "map_merge"
                | "map_replace"
                | "if"
                | "filter"
                | "make_url"
                | "list_concat"
                | "list_concat_unique"
                | "resource_facade"
                | "Ref"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::functions::test_support::FixedContext;
    use serde_json::json;

    fn defs(v: Value) -> IndexMap<String, Value> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn evaluates_heat_condition_forms() {
        let mut ctx = FixedContext::default();
        ctx.params.insert("env".into(), json!("prod"));
        ctx.params.insert("flag".into(), json!(true));
        let d = defs(json!({
            "prod": {"equals": [{"get_param": "env"}, "prod"]},
            "dev": {"not": "prod"},
            "both": {"and": ["prod", {"get_param": "flag"}]},
            "either": {"or": ["dev", false]},
            "literal": true,
        }));
        let r = ConditionEvaluator::new(&d, HotVersion::V2021_04_16.into(), &ctx)
            .evaluate_all()
            .unwrap();
        assert_eq!(
            (r["prod"], r["dev"], r["both"], r["either"], r["literal"]),
            (true, false, true, false, true)
        );
    }

    #[test]
    fn errors_name_the_condition() {
        let ctx = FixedContext::default();
        let d = defs(json!({"a": {"not": "b"}, "b": {"not": "a"}}));
        let e = ConditionEvaluator::new(&d, HotVersion::V2021_04_16.into(), &ctx)
            .evaluate_all()
            .unwrap_err();
        assert!(
            e.to_string().contains("Circular definition for condition"),
            "{e}"
        );
        let d = defs(json!({"a": {"not": "zz"}}));
        let e = ConditionEvaluator::new(&d, HotVersion::V2021_04_16.into(), &ctx)
            .evaluate_all()
            .unwrap_err();
        assert_eq!(e.to_string(), "conditions.a.not: Invalid condition \"zz\"");
        let d = defs(json!({"a": {"and": [true]}}));
        let e = ConditionEvaluator::new(&d, HotVersion::V2021_04_16.into(), &ctx)
            .evaluate_all()
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("conditions.a.and: Arguments to \"and\""),
            "{e}"
        );
        let d = defs(json!({"a": {"equals": [{"get_resource": "x"}, 1]}}));
        let e = ConditionEvaluator::new(&d, HotVersion::V2021_04_16.into(), &ctx)
            .evaluate_all()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "conditions.a.equals.get_resource: The function \"get_resource\" is invalid in this context"
        );
    }
}
