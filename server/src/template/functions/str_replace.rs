//! `str_replace` (and `_strict`, `_vstrict`): `{template, params}`; and CFN's
//! `Fn::Replace: [params, template]`. Keys are replaced longest first (ties in lexicographic
//! order), each in what the longer ones left, so replaced text is never re-scanned.

use std::collections::BTreeSet;

use serde_json::Value;

use super::json_text::python_dumps;
use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// How a version's `str_replace` treats its params.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceMode {
    /// Before 2015-10-15 (`Replace`): scalar params only.
    Scalars,
    /// From 2015-10-15 (`ReplaceJson`): maps and lists are JSON-encoded.
    Json,
    /// `str_replace_strict`: also, every param must occur in the template.
    Strict,
    /// `str_replace_vstrict`: also, no param may be null or empty.
    VeryStrict,
    /// `Fn::Replace: [params, template]`, scalar params only.
    Cfn,
}

/// `str_replace` and its variants.
pub struct StrReplace {
    /// The function's key.
    pub name: &'static str,
    /// Its rules.
    pub mode: ReplaceMode,
}

/// `str(KeyError(message))`: Heat shows these messages quoted, as Python's `repr`.
pub fn key_error(message: &str) -> String {
    python::repr(&Value::String(message.to_string()))
}

impl StrReplace {
    /// Heat's argument parsing: `(params, template)`.
    fn parts<'a>(
        &self,
        args: &'a Value,
        version: TemplateVersion,
    ) -> Result<(&'a Value, &'a Value), String> {
        let name = self.name;
        let (params, template) = if self.mode == ReplaceMode::Cfn {
            match args.as_array().map(Vec::as_slice) {
                Some([params, template]) => (params, template),
                _ => {
                    return Err(format!(
                        "Incorrect arguments to \"{name}\" should be: {{\"{name}\": [ {{\"$var1\": \"foo\", \"%var2%\": \"bar\"}}, \"$var1 is %var2%\"]}}"
                    ));
                }
            }
        } else {
            let map = args
                .as_object()
                .filter(|_| !is_call(args, version))
                .ok_or_else(|| format!("Arguments to \"{name}\" must be a map"))?;
            match (map.get("params"), map.get("template")) {
                (Some(p), Some(t)) => (p, t),
                _ => {
                    return Err(key_error(&format!(
                        "\"{name}\" syntax should be {name}:\n              template: This is var1 template var2\n              params:\n                var1: a\n                var2: string"
                    )));
                }
            }
        };
        if !params.is_object() && !is_call(params, version) {
            return Err(format!("\"{name}\" parameters must be a mapping"));
        }
        Ok((params, template))
    }

    /// The text a param's value is replaced by.
    fn replacement(&self, value: &Value, key: &str) -> Result<String, String> {
        let name = self.name;
        let allow_empty = self.mode != ReplaceMode::VeryStrict;
        let empty = || {
            format!(
                "{name} has an undefined or empty value for param {key}, must be a defined non-empty value"
            )
        };
        let text = match value {
            Value::Null if allow_empty => String::new(),
            Value::Null => return Err(empty()),
            Value::Object(_) | Value::Array(_)
                if matches!(self.mode, ReplaceMode::Scalars | ReplaceMode::Cfn) =>
            {
                return Err(format!(
                    "\"{name}\" params must be strings or numbers, param {key} is not valid"
                ));
            }
            Value::Object(_) | Value::Array(_) if !allow_empty && !python::truthy(value) => {
                return Err(empty());
            }
            Value::Object(_) | Value::Array(_) => python_dumps(value),
            scalar => python::str(scalar),
        };
        if !allow_empty && text.is_empty() {
            return Err(empty());
        }
        Ok(text)
    }
}

/// Splits `text` on the first key, replaces the later keys in each piece, and joins the
/// pieces with the first key's value (Heat's algorithm). Keys that split something are
/// added to `found`.
fn replace(text: &str, keys: &[(String, String)], found: &mut BTreeSet<String>) -> String {
    let Some(((key, value), rest)) = keys.split_first() else {
        return text.to_string();
    };
    let pieces: Vec<&str> = text.split(key.as_str()).collect();
    if pieces.len() > 1 {
        found.insert(key.clone());
    }
    pieces
        .iter()
        .map(|p| replace(p, rest, found))
        .collect::<Vec<_>>()
        .join(value)
}

/// Keys longest first, ties in lexicographic order, as Heat sorts them.
fn heat_order<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut keys: Vec<&String> = keys.collect();
    keys.sort();
    keys.sort_by_key(|k| std::cmp::Reverse(k.chars().count()));
    keys
}

impl Function for StrReplace {
    fn name(&self) -> &'static str {
        self.name
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        self.parts(args, scope.version())
            .map(|_| ())
            .map_err(|m| TemplateError::at(path, m))
    }

    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let name = self.name;
        let (params, template) = self.parts(&args, version).map_err(err)?;
        let Value::String(template) = template else {
            return Err(err(format!("\"{name}\" template must be a string")));
        };
        let Value::Object(params) = params else {
            return Err(err(format!("\"{name}\" params must be a map")));
        };
        let mut pairs = Vec::with_capacity(params.len());
        for key in heat_order(params.keys()) {
            let value = params.get(key).unwrap_or(&Value::Null);
            pairs.push((key.clone(), self.replacement(value, key).map_err(err)?));
            if key.is_empty() {
                return Err(err("empty separator".to_string()));
            }
        }
        let mut found = BTreeSet::new();
        let text = replace(template, &pairs, &mut found);
        let strict = matches!(self.mode, ReplaceMode::Strict | ReplaceMode::VeryStrict);
        let missing: Vec<&String> = heat_order(params.keys())
            .into_iter()
            .filter(|k| !found.contains(*k))
            .collect();
        if strict && !missing.is_empty() {
            let list: Vec<&str> = missing.iter().map(|k| k.as_str()).collect();
            return Err(err(format!(
                "The following params were not found in the template: {}",
                list.join(",")
            )));
        }
        Ok(Value::String(text))
    }
}

#[cfg(test)]
#[path = "str_replace_tests.rs"]
mod tests;
