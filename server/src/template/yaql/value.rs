//! Values during evaluation: JSON plus what yaql's Python objects distinguish (tuples from
//! lists from lazy iterators from dict views, frozen from plain dicts, compiled regexes,
//! contexts), with Python's equality, hashing, truthiness, `str()` and `sys.getsizeof`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::YaqlError;
use updraft_hooks::python_json::float_repr as py_float_repr;

/// What kind of Python collection a list value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A tuple (input data, list literals, `list()`): a sequence.
    Tuple,
    /// A Python list (`split()`, group values): a sequence, unhashable.
    PyList,
    /// A lazy iterator (`where`, `select`, …): iterable only, no indexer, no `len` of views.
    Iter,
    /// `keys()` / `items()`: set-like views.
    SetView,
    /// `values()`: iterable only.
    ValuesView,
}

/// A yaql value.
#[derive(Debug, Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Val>>, Kind),
    /// Entries in insertion order; `true` for a frozen (hashable) dict.
    Dict(Rc<Dict>, bool),
    Regex(Rc<regex::Regex>),
    Context(Rc<Scope>),
}

/// A dict with Python key semantics.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    entries: Vec<(Val, Val)>,
    index: HashMap<HashKey, usize>,
}

impl Dict {
    pub fn entries(&self) -> &[(Val, Val)] {
        &self.entries
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Inserts or replaces (keeping the first key and its position).
    pub fn insert(&mut self, key: Val, value: Val) -> Result<(), YaqlError> {
        let h = HashKey::of(&key)?;
        match self.index.get(&h) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(h, self.entries.len());
                self.entries.push((key, value));
            }
        }
        Ok(())
    }
    pub fn get(&self, key: &Val) -> Result<Option<&Val>, YaqlError> {
        let h = HashKey::of(key)?;
        Ok(self.index.get(&h).map(|&i| &self.entries[i].1))
    }
    pub fn from_entries(entries: impl IntoIterator<Item = (Val, Val)>) -> Result<Dict, YaqlError> {
        let mut d = Dict::default();
        for (k, v) in entries {
            d.insert(k, v)?;
        }
        Ok(d)
    }
}

/// A variable scope (yaql's context); `let` writes into the scope it is called in.
#[derive(Debug, Default)]
pub struct Scope {
    pub vars: RefCell<HashMap<String, Val>>,
    pub parent: Option<Rc<Scope>>,
}

impl Scope {
    pub fn child(parent: &Rc<Scope>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::default(),
            parent: Some(parent.clone()),
        })
    }
    pub fn get(&self, name: &str) -> Option<Val> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }
    pub fn set(&self, name: &str, value: Val) {
        self.vars.borrow_mut().insert(name.to_string(), value);
    }
}

/// Python's hash equality: `1 == 1.0 == True`; unhashable values are errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashKey {
    Null,
    Int(i128),
    Float(u64),
    Str(Rc<str>),
    Tuple(Vec<HashKey>),
    Set(Vec<HashKey>),
    Dict(Vec<(HashKey, HashKey)>),
    Regex(String),
}

impl HashKey {
    pub fn of(v: &Val) -> Result<HashKey, YaqlError> {
        Ok(match v {
            Val::Null => HashKey::Null,
            Val::Bool(b) => HashKey::Int(i128::from(*b)),
            Val::Int(i) => HashKey::Int(i128::from(*i)),
            Val::Float(f) if f.fract() == 0.0 && f.abs() < 1e38 => HashKey::Int(*f as i128),
            Val::Float(f) => HashKey::Float(f.to_bits()),
            Val::Str(s) => HashKey::Str(s.clone()),
            Val::List(items, Kind::Tuple) => {
                HashKey::Tuple(items.iter().map(HashKey::of).collect::<Result<_, _>>()?)
            }
            Val::List(items, Kind::SetView) => {
                let mut keys = items
                    .iter()
                    .map(HashKey::of)
                    .collect::<Result<Vec<_>, _>>()?;
                keys.sort();
                HashKey::Set(keys)
            }
            Val::Dict(d, true) => {
                let mut keys = d
                    .entries()
                    .iter()
                    .map(|(k, v)| Ok((HashKey::of(k)?, HashKey::of(v)?)))
                    .collect::<Result<Vec<_>, YaqlError>>()?;
                keys.sort();
                HashKey::Dict(keys)
            }
            Val::Regex(r) => HashKey::Regex(r.as_str().to_string()),
            other => {
                return Err(YaqlError::runtime(format!(
                    "unhashable type: '{}'",
                    other.type_name()
                )));
            }
        })
    }
}

impl Val {
    pub fn str(s: impl Into<Rc<str>>) -> Val {
        Val::Str(s.into())
    }
    pub fn list(items: Vec<Val>, kind: Kind) -> Val {
        Val::List(Rc::new(items), kind)
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "NoneType",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Str(_) => "str",
            Val::List(_, Kind::Tuple) => "tuple",
            Val::List(_, Kind::PyList) => "list",
            Val::List(_, Kind::Iter) => "iterator",
            Val::List(_, Kind::SetView) => "set view",
            Val::List(_, Kind::ValuesView) => "dict_values",
            Val::Dict(..) => "dict",
            Val::Regex(_) => "regex",
            Val::Context(_) => "context",
        }
    }

    /// A number as f64 (bools are ints in Python).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(_, Kind::Iter | Kind::ValuesView) => true,
            Val::List(items, _) => !items.is_empty(),
            Val::Dict(d, _) => d.len() > 0,
            Val::Regex(_) | Val::Context(_) => true,
        }
    }

    /// Python's `==`.
    pub fn py_eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Null, Val::Null) => true,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::List(a, ka), Val::List(b, kb)) => match (ka, kb) {
                (Kind::Tuple, Kind::Tuple) | (Kind::PyList, Kind::PyList) => {
                    a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.py_eq(y))
                }
                (Kind::SetView, Kind::SetView) => {
                    a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.py_eq(y)))
                }
                _ => Rc::ptr_eq(a, b),
            },
            (Val::Dict(a, _), Val::Dict(b, _)) => {
                a.len() == b.len()
                    && a.entries()
                        .iter()
                        .all(|(k, v)| matches!(b.get(k), Ok(Some(w)) if v.py_eq(w)))
            }
            (Val::Regex(a), Val::Regex(b)) => a.as_str() == b.as_str(),
            (Val::Context(a), Val::Context(b)) => Rc::ptr_eq(a, b),
            (a, b) => match (a.numeric(), b.numeric()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    /// Bools, ints and floats as one comparable number.
    fn numeric(&self) -> Option<f64> {
        match self {
            Val::Bool(b) => Some(f64::from(u8::from(*b))),
            other => other.as_number(),
        }
    }

    /// yaql's `str()`: `null`, `true`, `false` at the top, Python's `str()` otherwise.
    pub fn yaql_str(&self) -> Result<String, YaqlError> {
        Ok(match self {
            Val::Null => "null".into(),
            Val::Bool(true) => "true".into(),
            Val::Bool(false) => "false".into(),
            Val::Str(s) => s.to_string(),
            other => other.py_repr()?,
        })
    }

    /// Python's `repr()` (what `str()` shows for numbers and containers).
    pub fn py_repr(&self) -> Result<String, YaqlError> {
        let items = |items: &[Val]| -> Result<Vec<String>, YaqlError> {
            items.iter().map(Val::py_repr).collect()
        };
        Ok(match self {
            Val::Null => "None".into(),
            Val::Bool(true) => "True".into(),
            Val::Bool(false) => "False".into(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => match py_float_repr(*f).as_str() {
                "Infinity" => "inf".into(),
                "-Infinity" => "-inf".into(),
                "NaN" => "nan".into(),
                other => other.into(),
            },
            Val::Str(s) => py_str_repr(s),
            Val::List(v, Kind::Tuple) if v.len() == 1 => format!("({},)", v[0].py_repr()?),
            Val::List(v, Kind::Tuple) => format!("({})", items(v)?.join(", ")),
            Val::List(v, Kind::PyList) => format!("[{}]", items(v)?.join(", ")),
            Val::Dict(d, _) => {
                let parts = d
                    .entries()
                    .iter()
                    .map(|(k, v)| Ok(format!("{}: {}", k.py_repr()?, v.py_repr()?)))
                    .collect::<Result<Vec<_>, YaqlError>>()?;
                format!("{{{}}}", parts.join(", "))
            }
            other => {
                return Err(YaqlError::unsupported(format!(
                    "str() of a {} (Python prints an object address)",
                    other.type_name()
                )));
            }
        })
    }

    /// An estimate of Python's `sys.getsizeof` for the memory quota.
    pub fn py_sizeof(&self) -> usize {
        match self {
            Val::Null => 16,
            Val::Bool(_) | Val::Int(_) => 28,
            Val::Float(_) => 24,
            Val::Str(s) => {
                let n = s.chars().count();
                match s.chars().map(u32::from).max().unwrap_or(0) {
                    0..=0x7f => 49 + n,
                    0x80..=0xff => 73 + n,
                    0x100..=0xffff => 74 + 2 * n,
                    _ => 76 + 4 * n,
                }
            }
            Val::List(v, Kind::Tuple) => 40 + 8 * v.len(),
            Val::List(v, Kind::PyList) => 56 + 8 * v.len(),
            Val::List(..) => 48,
            // A frozen dict is a small wrapper object; a plain dict grows with its table.
            Val::Dict(_, true) => 48,
            Val::Dict(d, false) => match d.len() {
                0 => 64,
                n => 64 + 36 * n.next_power_of_two().max(8),
            },
            Val::Regex(_) | Val::Context(_) => 56,
        }
    }
}

/// Python's `repr(str)`.
fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
