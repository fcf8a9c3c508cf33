//! Values in and out: input JSON as yaql's `convert_input_data` makes it (tuples, frozen
//! dicts), results as its output conversion and `json.dumps` give them.

use std::rc::Rc;

use serde_json::{Map, Value};

use super::YaqlError;
use super::value::{Dict, Kind, Val};
use updraft_hooks::python_json::float_repr as py_float_repr;

impl Val {
    /// Converts input data (JSON) as yaql does: lists become tuples, dicts frozen dicts.
    pub fn from_json(v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None => Val::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => Val::str(s.as_str()),
            Value::Array(items) => {
                Val::list(items.iter().map(Val::from_json).collect(), Kind::Tuple)
            }
            Value::Object(m) => {
                let mut d = Dict::default();
                for (k, v) in m {
                    // String keys are always hashable.
                    let _ = d.insert(Val::str(k.as_str()), Val::from_json(v));
                }
                Val::Dict(Rc::new(d), true)
            }
        }
    }

    /// The result as JSON, as yaql's output conversion and `json.dumps` give it; every
    /// collection is held to `limit` items.
    pub fn to_json(&self, limit: usize) -> Result<Value, YaqlError> {
        let check = |n: usize| {
            if n > limit {
                Err(YaqlError::too_large(limit))
            } else {
                Ok(())
            }
        };
        Ok(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| YaqlError::runtime("the result is not a finite number"))?,
            Val::Str(s) => Value::String(s.to_string()),
            Val::List(_, Kind::SetView) => {
                return Err(YaqlError::runtime(
                    "the result is a set, which has no JSON form",
                ));
            }
            Val::List(items, _) => {
                check(items.len())?;
                Value::Array(
                    items
                        .iter()
                        .map(|v| v.to_json(limit))
                        .collect::<Result<_, _>>()?,
                )
            }
            Val::Dict(d, _) => {
                check(d.len())?;
                let mut m = Map::new();
                for (k, v) in d.entries() {
                    m.insert(k.json_key()?, v.to_json(limit)?);
                }
                Value::Object(m)
            }
            Val::Regex(_) | Val::Context(_) => {
                return Err(YaqlError::runtime(format!(
                    "the result is a {}, which has no JSON form",
                    self.type_name()
                )));
            }
        })
    }

    /// A dict key as `json.dumps` writes it.
    fn json_key(&self) -> Result<String, YaqlError> {
        Ok(match self {
            Val::Str(s) => s.to_string(),
            Val::Null => "null".into(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => py_float_repr(*f),
            other => {
                return Err(YaqlError::runtime(format!(
                    "keys must be str, int, float, bool or None, not {}",
                    other.type_name()
                )));
            }
        })
    }
}
