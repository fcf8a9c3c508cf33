//! Dict methods and functions (`get`, `keys`, `values`, `items`, `mergeWith`, `dict`), as
//! yaql's `collections` and `queries` libraries define them.

use std::collections::HashSet;
use std::rc::Rc;

use super::YaqlError;
use super::collections::need;
use super::eval::{Evaluator, R, bind, no_function, no_method};
use super::parser::{Arg, Expr};
use super::value::{Dict, HashKey, Kind, Scope, Val};

/// A lambda argument, or `None` when it was not given.
type Lambda<'a> = Option<&'a Expr>;

impl Evaluator {
    /// A method on a dict; `Ok(None)` if `name` is not one of these.
    pub fn dict_method(
        &self,
        name: &str,
        r: &Val,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> R<Option<Val>> {
        let opt = |e: Option<&Expr>| e.map(|e| self.arg(e, scope)).transpose();
        let v = match name {
            "get" => {
                let [key, default] = bind(name, args, ["key", "default"])?;
                let Val::Dict(d, _) = r else {
                    return Err(no_method(name, r));
                };
                let key = self.arg(need(name, r, key)?, scope)?;
                let default = opt(default)?.unwrap_or(Val::Null);
                d.get(&key)?.cloned().unwrap_or(default)
            }
            "keys" | "values" | "items" => {
                bind(name, args, [])?;
                let Val::Dict(d, _) = r else {
                    return Err(no_method(name, r));
                };
                let e = d.entries().iter();
                match name {
                    "keys" => Val::list(e.map(|(k, _)| k.clone()).collect(), Kind::SetView),
                    "values" => Val::list(e.map(|(_, v)| v.clone()).collect(), Kind::ValuesView),
                    _ => Val::list(
                        e.map(|(k, v)| Val::list(vec![k.clone(), v.clone()], Kind::Tuple))
                            .collect(),
                        Kind::SetView,
                    ),
                }
            }
            "mergeWith" => {
                let [other, lists, items, levels] = bind(
                    name,
                    args,
                    ["another", "listMerger", "itemMerger", "maxLevels"],
                )?;
                let (Val::Dict(a, _), Val::Dict(b, _)) =
                    (r, self.arg(need(name, r, other)?, scope)?)
                else {
                    return Err(no_method(name, r));
                };
                let levels = match opt(levels)? {
                    None => 0,
                    Some(Val::Int(n)) => n,
                    Some(_) => return Err(no_method(name, r)),
                };
                let m = Merger {
                    ev: self,
                    scope,
                    lists,
                    items,
                };
                Val::Dict(Rc::new(m.merge(a, &b, levels)?), false)
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// `dict(k => v, …)` or `dict(pairs)`; `Ok(None)` for any other name.
    pub fn dict_function(&self, name: &str, args: &[Arg], scope: &Rc<Scope>) -> R<Option<Val>> {
        let v = match name {
            "dict" => match args {
                [Arg::Pos(e)] => {
                    let items = self.iterable(&self.arg(e, scope)?, name)?;
                    let mut d = Dict::default();
                    for pair in items.iter() {
                        let Val::List(kv, _) = pair else {
                            return Err(no_function(name));
                        };
                        let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                            return Err(YaqlError::runtime("StopIteration"));
                        };
                        d.insert(k.clone(), v.clone())?;
                    }
                    Val::Dict(Rc::new(d), true)
                }
                _ => self.dict_of_rules(args, scope, name)?,
            },
            _ => return Ok(None),
        };
        Ok(Some(v))
    }
}

/// `mergeWith`'s `_merge_dicts`.
struct Merger<'a> {
    ev: &'a Evaluator,
    scope: &'a Rc<Scope>,
    lists: Lambda<'a>,
    items: Lambda<'a>,
}

impl Merger<'_> {
    fn merge(&self, a: &Dict, b: &Dict, levels: i64) -> R<Dict> {
        let mut out = Dict::default();
        for (k, v1) in a.entries() {
            let merged = match b.get(k)? {
                None => v1.clone(),
                Some(v2) => match (v1, v2) {
                    (Val::Dict(d1, _), Val::Dict(d2, _)) if levels != 1 => {
                        let next = if levels == 0 { 0 } else { levels - 1 };
                        Val::Dict(Rc::new(self.merge(d1, d2, next)?), false)
                    }
                    (_, Val::Dict(..)) if levels != 1 => return Err(cannot_merge(v1, v2)),
                    (Val::List(_, k1), Val::List(_, k2))
                        if levels != 1 && is_seq(*k1) && is_seq(*k2) =>
                    {
                        self.merge_lists(v1, v2)?
                    }
                    (_, Val::List(_, k2)) if levels != 1 && is_seq(*k2) => {
                        return Err(cannot_merge(v1, v2));
                    }
                    _ => match self.items {
                        Some(f) => self.ev.lambda(f, self.scope, &[v1.clone(), v2.clone()])?,
                        None => v2.clone(),
                    },
                },
            };
            out.insert(k.clone(), merged)?;
        }
        for (k, v2) in b.entries() {
            if out.get(k)?.is_none() {
                out.insert(k.clone(), v2.clone())?;
            }
        }
        Ok(out)
    }

    fn merge_lists(&self, l1: &Val, l2: &Val) -> R<Val> {
        if let Some(f) = self.lists {
            return self.ev.lambda(f, self.scope, &[l1.clone(), l2.clone()]);
        }
        // to_list(distinct(l1 + l2)), where `+` is Python's (tuple + list is a TypeError).
        let (Val::List(a, ka), Val::List(b, kb)) = (l1, l2) else {
            return Err(cannot_merge(l1, l2));
        };
        if ka != kb {
            return Err(YaqlError::runtime(format!(
                "TypeError: can only concatenate {} (not \"{}\") to {}",
                l1.type_name(),
                l2.type_name(),
                l1.type_name()
            )));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for item in a.iter().chain(b.iter()) {
            if seen.insert(HashKey::of(item)?) {
                out.push(item.clone());
            }
        }
        Ok(Val::list(out, Kind::Tuple))
    }
}

fn is_seq(k: Kind) -> bool {
    matches!(k, Kind::Tuple | Kind::PyList)
}

fn cannot_merge(a: &Val, b: &Val) -> YaqlError {
    YaqlError::runtime(format!(
        "TypeError: Cannot merge {} with {}",
        a.type_name(),
        b.type_name()
    ))
}
