//! Collection methods and functions (yaql's `queries`, `collections`, `branching`, `system`
//! libraries): each follows the Python implementation's rules.

use std::collections::HashSet;
use std::rc::Rc;

use super::YaqlError;
use super::eval::{Evaluator, R, bind, no_function, no_method};
use super::operators::compare;
use super::parser::{Arg, Expr};
use super::value::{HashKey, Kind, Scope, Val};

impl Evaluator {
    /// A method on a collection or dict; `Ok(None)` if `name` is not one of these.
    pub fn collection_method(
        &self,
        name: &str,
        r: &Val,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> R<Option<Val>> {
        let opt = |e: Option<&Expr>| e.map(|e| self.arg(e, scope)).transpose();
        let v = match name {
            "where" | "select" | "selectMany" => {
                let param = if name == "where" {
                    "predicate"
                } else {
                    "selector"
                };
                let [f] = bind(name, args, [param])?;
                let f = need(name, r, f)?;
                let mut out = Vec::new();
                for item in self.iterable(r, name)?.iter() {
                    let v = self.lambda(f, scope, std::slice::from_ref(item))?;
                    match name {
                        "where" if v.truthy() => out.push(item.clone()),
                        "where" => {}
                        "select" => out.push(v),
                        _ => match v {
                            Val::List(inner, _) => out.extend(inner.iter().cloned()),
                            other => out.push(other),
                        },
                    }
                }
                Val::list(out, Kind::Iter)
            }
            "flatten" => {
                bind(name, args, [])?;
                let mut out = Vec::new();
                flatten(&self.iterable(r, name)?, &mut out);
                Val::list(out, Kind::Iter)
            }
            "distinct" => {
                let [key] = bind(name, args, ["keySelector"])?;
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                for item in self.iterable(r, name)?.iter() {
                    let k = match key {
                        Some(f) => self.lambda(f, scope, std::slice::from_ref(item))?,
                        None => item.clone(),
                    };
                    if seen.insert(HashKey::of(&k)?) {
                        out.push(item.clone());
                    }
                }
                Val::list(out, Kind::Iter)
            }
            "first" | "last" => {
                let [default] = bind(name, args, ["default"])?;
                let all = self.iterable_lazy(r, name)?;
                self.consumed(if name == "first" {
                    1.min(all.len())
                } else {
                    all.len()
                })?;
                let found = if name == "first" {
                    all.first()
                } else {
                    all.last()
                };
                match (found, default) {
                    (Some(v), _) => v.clone(),
                    (None, Some(d)) => self.arg(d, scope)?,
                    (None, None) => return Err(YaqlError::runtime("StopIteration")),
                }
            }
            "zip" => {
                let mut lists = vec![self.iterable(r, name)?];
                for a in args {
                    let Arg::Pos(e) = a else {
                        return Err(no_method(name, r));
                    };
                    lists.push(self.iterable(&self.arg(e, scope)?, name)?);
                }
                let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
                let rows = (0..n)
                    .map(|i| Val::list(lists.iter().map(|l| l[i].clone()).collect(), Kind::Tuple));
                Val::list(rows.collect(), Kind::Iter)
            }
            "reduce" | "max" | "min" | "sum" => {
                let (f, seed) = if name == "reduce" {
                    let [f, seed] = bind(name, args, ["selector", "seed"])?;
                    (Some(need(name, r, f)?), seed)
                } else {
                    let [seed] = bind(name, args, ["initial"])?;
                    (None, seed)
                };
                let mut acc = opt(seed)?;
                for item in self.iterable(r, name)?.iter() {
                    acc = Some(match acc {
                        None => item.clone(),
                        Some(a) => match (name, f) {
                            ("reduce", Some(f)) => self.lambda(f, scope, &[a, item.clone()])?,
                            ("sum", _) => self.quota(self.arithmetic("+", a, item.clone())?)?,
                            ("max", _) => max_min(true, a, item.clone())?,
                            _ => max_min(false, a, item.clone())?,
                        },
                    });
                }
                acc.ok_or_else(|| {
                    YaqlError::runtime(
                        "TypeError: reduce() of empty iterable with no initial value",
                    )
                })?
            }
            "groupBy" => {
                let params = bind(name, args, ["keySelector", "valueSelector", "aggregator"])?;
                self.group_by(r, params, scope)?
            }
            "any" | "all" => {
                let [f] = bind(name, args, ["predicate"])?;
                let items = self.iterable_lazy(r, name)?;
                let mut taken = 0;
                let mut result = name == "all";
                for item in items.iter() {
                    taken += 1;
                    // yaql's `any()` without a predicate is true for any item at all.
                    let hit = match f {
                        Some(f) => self.lambda(f, scope, std::slice::from_ref(item))?.truthy(),
                        None => name == "any" || item.truthy(),
                    };
                    if hit != result {
                        result = !result;
                        break;
                    }
                }
                self.consumed(taken)?;
                Val::Bool(result)
            }
            "len" | "count" => {
                bind(name, args, [])?;
                let n = match r {
                    Val::Str(s) if name == "len" => s.chars().count(),
                    Val::Dict(d, _) if name == "len" => d.len(),
                    Val::List(_, Kind::ValuesView) if name == "len" => {
                        return Err(no_method(name, r));
                    }
                    Val::List(items, Kind::Iter) if name == "len" => items.len(),
                    other => self.iterable(other, name)?.len(),
                };
                Val::Int(n as i64)
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// A function of this family; `Ok(None)` if `name` is not one of these.
    pub fn collection_function(
        &self,
        name: &str,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> R<Option<Val>> {
        let v = match name {
            "coalesce" => {
                for a in args {
                    let Arg::Pos(e) = a else {
                        return Err(no_function(name));
                    };
                    let v = self.arg(e, scope)?;
                    if !matches!(v, Val::Null) {
                        return Ok(Some(v));
                    }
                }
                Val::Null
            }
            "let" => {
                let mut i = 0;
                for a in args {
                    match a {
                        Arg::Pos(e) => {
                            i += 1;
                            scope.set(&i.to_string(), self.arg(e, scope)?);
                        }
                        Arg::Named(Expr::Keyword(k), e) => scope.set(k, self.arg(e, scope)?),
                        Arg::Named(..) => return Err(no_function(name)),
                    }
                }
                Val::Context(scope.clone())
            }
            "list" => {
                let mut out = Vec::new();
                for a in args {
                    let Arg::Pos(e) = a else {
                        return Err(no_function(name));
                    };
                    match self.arg(e, scope)? {
                        Val::List(items, Kind::Iter) => out.extend(items.iter().cloned()),
                        other => out.push(other),
                    }
                }
                self.consumed(out.len())?;
                Val::list(out, Kind::Tuple)
            }
            "switch" => {
                for a in args {
                    let Arg::Named(cond, value) = a else {
                        return Err(no_function(name));
                    };
                    if self.arg(cond, scope)?.truthy() {
                        return self.arg(value, scope).map(Some);
                    }
                }
                Val::Null
            }
            "range" => {
                let mut ints = Vec::new();
                for a in args {
                    match a {
                        Arg::Pos(e) => match self.arg(e, scope)? {
                            Val::Int(i) => ints.push(i),
                            _ => return Err(no_function(name)),
                        },
                        Arg::Named(..) => return Err(no_function(name)),
                    }
                }
                let (start, stop, step) = match ints[..] {
                    [stop] => (0, stop, 1),
                    [start, stop] => (start, stop, 1),
                    [start, stop, step] => (start, stop, step),
                    _ => return Err(no_function(name)),
                };
                if step == 0 {
                    return Err(YaqlError::runtime(
                        "ValueError: range() arg 3 must not be zero",
                    ));
                }
                let len = if (step > 0 && start < stop) || (step < 0 && start > stop) {
                    ((i128::from(stop) - i128::from(start)).abs() - 1) / i128::from(step).abs() + 1
                } else {
                    0
                };
                self.consumed(usize::try_from(len).unwrap_or(usize::MAX))?;
                let items =
                    (0..len).map(|i| Val::Int((i128::from(start) + i * i128::from(step)) as i64));
                Val::list(items.collect(), Kind::Iter)
            }
            "max" | "min" => match args {
                [Arg::Pos(a), Arg::Pos(b)] => {
                    let (a, b) = (self.arg(a, scope)?, self.arg(b, scope)?);
                    max_min(name == "max", a, b)?
                }
                _ => return Err(no_function(name)),
            },
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    fn group_by(&self, r: &Val, params: [Option<&Expr>; 3], scope: &Rc<Scope>) -> R<Val> {
        let [Some(key), value, aggregator] = params else {
            return Err(no_method("groupBy", r));
        };
        let mut groups: Vec<(Val, Vec<Val>)> = Vec::new();
        let mut index: std::collections::HashMap<HashKey, usize> = std::collections::HashMap::new();
        for item in self.iterable(r, "groupBy")?.iter() {
            let k = self.lambda(key, scope, std::slice::from_ref(item))?;
            let v = match value {
                Some(f) => self.lambda(f, scope, std::slice::from_ref(item))?,
                None => item.clone(),
            };
            match index.get(&HashKey::of(&k)?) {
                Some(&i) => groups[i].1.push(v),
                None => {
                    index.insert(HashKey::of(&k)?, groups.len());
                    groups.push((k, vec![v]));
                }
            }
        }
        // yaql's GroupAggregator: the aggregator gets each group's values; after a failure,
        // it falls back to the yaql 1.1.1 style (the [key, values] pair) while allowed.
        let mut out = Vec::with_capacity(groups.len());
        let mut failure: Option<YaqlError> = None;
        let mut fallback = true;
        for (k, values) in groups {
            let Some(agg) = aggregator else {
                out.push(Val::list(
                    vec![k, Val::list(values, Kind::PyList)],
                    Kind::Tuple,
                ));
                continue;
            };
            let first = values.first().cloned();
            let n = values.len();
            let values = Val::list(values, Kind::PyList);
            if failure.is_none() {
                match self.lambda(agg, scope, std::slice::from_ref(&values)) {
                    Ok(v) => {
                        let old_style = n == 2
                            && matches!(&v, Val::List(r, Kind::Tuple | Kind::PyList)
                                if r.len() == 2 && first.as_ref().is_some_and(|f| r[0].py_eq(f)));
                        fallback &= old_style;
                        out.push(Val::list(vec![k, v], Kind::Tuple));
                        continue;
                    }
                    Err(e) => failure = Some(e),
                }
            }
            if fallback {
                let pair = Val::list(vec![k, values], Kind::Tuple);
                if let Ok(v @ Val::List(..)) = self.lambda(agg, scope, &[pair])
                    && list_len(&v) == 2
                {
                    out.push(v);
                    continue;
                }
            }
            return Err(failure.unwrap_or_else(|| no_method("groupBy", r)));
        }
        Ok(Val::list(out, Kind::Iter))
    }
}

/// A required argument.
pub(super) fn need<'a>(name: &str, r: &Val, e: Option<&'a Expr>) -> R<&'a Expr> {
    e.ok_or_else(|| no_method(name, r))
}

fn list_len(v: &Val) -> usize {
    match v {
        Val::List(items, _) => items.len(),
        _ => 0,
    }
}

/// yaql's `max(a, b)` / `min(a, b)` through `#operator_>`.
fn max_min(max: bool, a: Val, b: Val) -> R<Val> {
    let b_greater = compare(">", &b, &a)?;
    Ok(if b_greater == max { b } else { a })
}

fn flatten(items: &[Val], out: &mut Vec<Val>) {
    for t in items {
        match t {
            Val::List(inner, _) => flatten(inner, out),
            other => out.push(other.clone()),
        }
    }
}
