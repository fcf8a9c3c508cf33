//! `repeat: {template, for_each: {var: values}, permutations}` — one copy of the template
//! per combination of values, each variable replaced textually in every string (keys too).

use serde_json::{Map, Value};

use super::str_replace::key_error;
use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// Which of Heat's `repeat` classes a version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatForm {
    /// 2015-04-30 to 2016-04-08 (`Repeat`): `for_each` values are lists.
    Lists,
    /// 2016-10-14 and 2017-02-24 (`RepeatWithMap`): lists or maps (their keys).
    ListsOrMaps,
    /// From 2017-09-01 (`RepeatWithNestedLoop`): also `permutations: false`, which pairs
    /// equal-length lists instead of taking their product.
    Permutations,
}

/// `repeat`.
pub struct Repeat(pub RepeatForm);

const SYNTAX: &str = "\"repeat\" syntax should be repeat:\n              template: This is %var%\n              for_each:\n                %var%: ['a', 'b', 'c']";

/// The parsed arguments: `for_each`, `template`, and whether to take the product.
type Parts<'a> = (&'a Value, &'a Value, bool);

impl Repeat {
    fn parts<'a>(&self, args: &'a Value, version: TemplateVersion) -> Result<Parts<'a>, String> {
        let map = args
            .as_object()
            .filter(|_| !is_call(args, version))
            .ok_or("Arguments to \"repeat\" must be a map")?;
        let (Some(for_each), Some(template)) = (map.get("for_each"), map.get("template")) else {
            return Err(key_error(SYNTAX));
        };
        let nested = match map.get("permutations") {
            Some(p) if self.0 == RepeatForm::Permutations => p.as_bool().ok_or(
                "\"permutations\" should be boolean type for repeat function.".to_string(),
            )?,
            _ => true,
        };
        Ok((for_each, template, nested))
    }

    /// The values one variable takes, or Heat's message for a wrong type.
    fn values(&self, value: &Value, nested: bool) -> Result<Vec<Value>, String> {
        let maps_allowed = self.0 != RepeatForm::Lists && nested;
        match value {
            Value::Null => Ok(vec![]),
            Value::Array(items) => Ok(items.clone()),
            Value::Object(map) if maps_allowed => {
                Ok(map.keys().map(|k| Value::String(k.clone())).collect())
            }
            _ if maps_allowed => Err(
                "The values of the \"for_each\" argument to \"repeat\" must be lists or maps"
                    .into(),
            ),
            _ => Err("The values of the \"for_each\" argument to \"repeat\" must be lists".into()),
        }
    }
}

/// Replaces each variable by its value, one after the other, in every string of `template`.
fn substitute(template: &Value, vars: &[(&String, &Value)]) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => {
            let mut s = s.clone();
            for (var, value) in vars {
                let Value::String(value) = value else {
                    return Err(format!(
                        "replace() argument 2 must be str, not {}",
                        python::type_name(value)
                    ));
                };
                s = s.replace(var.as_str(), value);
            }
            Value::String(s)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| substitute(i, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = substitute(&Value::String(k.clone()), vars)?;
                out.insert(python::str(&key), substitute(v, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Every combination of one value per list, the first list varying slowest.
fn product(lists: &[Vec<Value>]) -> Vec<Vec<&Value>> {
    let mut out: Vec<Vec<&Value>> = vec![vec![]];
    for list in lists {
        out = out
            .iter()
            .flat_map(|prefix| {
                list.iter().map(move |v| {
                    let mut combo = prefix.clone();
                    combo.push(v);
                    combo
                })
            })
            .collect();
    }
    out
}

impl Function for Repeat {
    fn name(&self) -> &'static str {
        "repeat"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        let (for_each, _, _) = self
            .parts(args, scope.version())
            .map_err(|m| TemplateError::at(path, m))?;
        // A call (which is a map too) is checked once resolved.
        if !for_each.is_object() {
            return Err(TemplateError::at(
                path,
                "The \"for_each\" argument to \"repeat\" must contain a map",
            ));
        }
        Ok(())
    }

    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let (for_each, template, nested) = self.parts(&args, version).map_err(err)?;
        let Value::Object(for_each) = for_each else {
            return Err(err(
                "The \"for_each\" argument to \"repeat\" must contain a map".into(),
            ));
        };
        if for_each.is_empty() {
            return Err(err("not enough values to unpack (expected 2, got 0)".into()));
        }
        let names: Vec<&String> = for_each.keys().collect();
        let mut lists = Vec::with_capacity(for_each.len());
        let mut lengths = Vec::new();
        for value in for_each.values() {
            let list = self.values(value, nested).map_err(err)?;
            if !value.is_null() {
                lengths.push(list.len());
            }
            lists.push(list);
        }
        let combos: Vec<Vec<&Value>> = if nested {
            product(&lists)
        } else {
            if lengths.windows(2).any(|w| w[0] != w[1]) {
                return Err(err(
                    "For repeat, the length of for_each values should be equal if no nested loop."
                        .into(),
                ));
            }
            let shortest = lists.iter().map(Vec::len).min().unwrap_or(0);
            (0..shortest)
                .map(|i| lists.iter().map(|l| &l[i]).collect())
                .collect()
        };
        combos
            .into_iter()
            .map(|combo| {
                let vars: Vec<(&String, &Value)> = names.iter().copied().zip(combo).collect();
                substitute(template, &vars)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
            .map_err(err)
    }
}

#[cfg(test)]
#[path = "repeat_tests.rs"]
mod tests;
