//! CFN functions over collections: `Fn::Select: [index, collection]` and
//! `Fn::MemberListToMap: [keyname, valuename, [".member.N.key=value", ...]]`.

use serde_json::{Map, Value};

use super::{EvalContext, Function, ValidationScope};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `Fn::Select`: an item of a list or map (or of one encoded as JSON text); `""` when the
/// item is missing.
pub struct Select;

const SELECT_SHAPE: &str = "Arguments to \"Fn::Select\" must be of the form [index, collection]";

/// Python's `int(index)` where it succeeds.
fn as_int(index: &Value) -> Option<i64> {
    match index {
        Value::Bool(b) => Some(i64::from(*b)),
        #[allow(clippy::cast_possible_truncation)]
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Function for Select {
    fn name(&self) -> &'static str {
        "Fn::Select"
    }

    fn validate(
        &self,
        args: &Value,
        _: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        match args.as_array().map(Vec::len) {
            Some(2) => Ok(()),
            _ => Err(TemplateError::at(path, SELECT_SHAPE)),
        }
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let empty = || Value::String(String::new());
        let Some([index, collection]) = args.as_array().map(Vec::as_slice) else {
            return Err(err(SELECT_SHAPE.into()));
        };
        let parsed;
        let collection = match collection {
            // An empty string is what other functions give when a value is not ready yet.
            Value::String(s) if s.is_empty() => return Ok(empty()),
            Value::String(s) => {
                parsed = serde_json::from_str::<Value>(s)
                    .map_err(|e| err(format!("\"Fn::Select\": {e}")))?;
                &parsed
            }
            other => other,
        };
        match collection {
            Value::Object(map) => {
                let Value::String(key) = index else {
                    return Err(err("Index to \"Fn::Select\" must be a string".into()));
                };
                Ok(map.get(key).cloned().unwrap_or_else(empty))
            }
            Value::Array(items) => {
                let i = as_int(index)
                    .ok_or_else(|| err("Index to \"Fn::Select\" must be an integer".into()))?;
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let i = if i < 0 { i + len } else { i };
                Ok(usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .unwrap_or_else(empty))
            }
            Value::Null => Ok(empty()),
            _ => Err(err("Arguments to Fn::Select not fully resolved".into())),
        }
    }
}

/// `Fn::MemberListToMap`: AWS query-style `.member.N.<name>=<value>` pairs to a map.
pub struct MemberListToMap;

const WRONG_ARGUMENTS: &str = "Wrong Arguments try: \"\n            {'Fn::MemberListToMap': ['Name', 'Value',\n                                     ['.member.0.Name=key',\n                                      '.member.0.Value=door']]}\n            \"";

fn names(args: &Value) -> Result<(&str, &str, &Value), &'static str> {
    let Some([key, value, list]) = args.as_array().map(Vec::as_slice) else {
        return Err(WRONG_ARGUMENTS);
    };
    let key = key
        .as_str()
        .ok_or("Fn::MemberListToMap Key Name must be a string")?;
    let value = value
        .as_str()
        .ok_or("Fn::MemberListToMap Value Name must be a string")?;
    Ok((key, value, list))
}

/// `.member.<N>.<field>` → `(N, field)`, as Heat's regular expression reads it.
fn member_field(name: &str) -> Option<(u64, &str)> {
    let rest = name.strip_prefix(".member.")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let index = rest[..digits].parse().ok()?;
    let field = rest[digits..].strip_prefix('.')?;
    Some((index, field.split('\n').next().unwrap_or(field)))
}

impl Function for MemberListToMap {
    fn name(&self) -> &'static str {
        "Fn::MemberListToMap"
    }

    fn validate(
        &self,
        args: &Value,
        _: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        names(args)
            .map(|_| ())
            .map_err(|m| TemplateError::at(path, m))
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let (key_name, value_name, list) = names(&args).map_err(|m| err(m.into()))?;
        let items: Vec<Value> = match list {
            Value::Array(items) => items.clone(),
            Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
            Value::Object(m) => m.keys().map(|k| Value::String(k.clone())).collect(),
            _ => return Err(err("Member list must be a list".into())),
        };
        // `dict(s.split('=', 1) for s in items)`: later duplicates win, in first position.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let Value::String(s) = item else {
                return Err(err("Member list items must be strings".into()));
            };
            let Some((k, v)) = s.split_once('=') else {
                return Err(err(format!(
                    "dictionary update sequence element #{n} has length 1; 2 is required"
                )));
            };
            match pairs.iter_mut().find(|(pk, _)| pk == k) {
                Some(pair) => pair.1 = v.to_string(),
                None => pairs.push((k.to_string(), v.to_string())),
            }
        }
        // Group fields by member number, in number order.
        let mut members: Vec<(u64, Map<String, Value>)> = Vec::new();
        let mut fields: Vec<(u64, &str, &str)> = pairs
            .iter()
            .filter_map(|(k, v)| member_field(k).map(|(i, f)| (i, f, v.as_str())))
            .collect();
        fields.sort_by_key(|(i, _, _)| *i);
        for (i, field, value) in fields {
            if members.last().is_none_or(|(last, _)| *last != i) {
                members.push((i, Map::new()));
            }
            if let Some((_, m)) = members.last_mut() {
                m.insert(field.to_string(), Value::String(value.to_string()));
            }
        }
        let mut out = Map::new();
        for (_, member) in members {
            if let (Some(Value::String(k)), Some(v)) =
                (member.get(key_name), member.get(value_name))
            {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
#[path = "cfn_collections_tests.rs"]
mod tests;
