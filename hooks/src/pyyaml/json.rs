//! Constructed nodes to JSON, as `json.dumps` writes Heat's Python objects: Python's key
//! equality, non-string keys as text, non-finite floats as null.

use serde_json::{Map, Number, Value};

use super::compose::Node;
use super::resolve::Scalar;
use crate::python_json::float_repr as py_float_repr;

/// Python's key equality: `True == 1 == 1.0`, strings apart from numbers.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyId {
    Null,
    Str(String),
    Int(i128),
    Float(u64),
}

impl KeyId {
    pub(super) fn of(key: &Scalar) -> KeyId {
        let float = |f: f64| {
            if f.fract() == 0.0 && f.abs() < 1e38 {
                KeyId::Int(f as i128)
            } else {
                KeyId::Float(f.to_bits())
            }
        };
        match key {
            Scalar::Null => KeyId::Null,
            Scalar::Bool(b) => KeyId::Int(i128::from(*b)),
            Scalar::Int(i) => KeyId::Int(*i),
            Scalar::BigInt(f) | Scalar::Float(f) => float(*f),
            Scalar::Str(s) => KeyId::Str(s.clone()),
            Scalar::Merge => KeyId::Str("<<".into()),
            Scalar::ValueKey => KeyId::Str("=".into()),
        }
    }
}

/// A key as `json.dumps` writes it.
fn key_text(key: &Scalar) -> String {
    match key {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::BigInt(f) => format!("{f:.0}"),
        Scalar::Float(f) => py_float_repr(*f),
        Scalar::Str(s) => s.clone(),
        Scalar::Merge => "<<".into(),
        Scalar::ValueKey => "=".into(),
    }
}

fn scalar_json(s: &Scalar) -> Value {
    match s {
        Scalar::Null | Scalar::Merge | Scalar::ValueKey => Value::Null,
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Int(i) => i64::try_from(*i)
            .map(Value::from)
            .or_else(|_| u64::try_from(*i).map(Value::from))
            .unwrap_or_else(|_| float_json(*i as f64)),
        Scalar::BigInt(f) | Scalar::Float(f) => float_json(*f),
        Scalar::Str(s) => Value::String(s.clone()),
    }
}

/// Finite floats as numbers; `inf` and `nan` have no JSON form and become null.
fn float_json(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Converts to JSON; recursion is bounded by [`super::MAX_DEPTH`].
pub(super) fn to_json(node: &Node) -> Value {
    match node {
        Node::Scalar(s) => scalar_json(s),
        Node::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Node::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries.iter() {
                map.insert(key_text(k), to_json(v));
            }
            Value::Object(map)
        }
    }
}
