//! Operators (`.`, `?.`, indexers, arithmetic, comparisons, `in`, `=~`, `and`, `or`, `->`) with
//! the overloads yaql's standard library defines for them.

use std::rc::Rc;

use super::MEMORY_QUOTA;
use super::YaqlError;
use super::eval::{Evaluator, R, no_function};
use super::parser::{Arg, Expr};
use super::value::{Kind, Scope, Val};

impl Evaluator {
    pub(super) fn index(&self, target: &Expr, args: &[Arg], scope: &Rc<Scope>) -> R<Val> {
        let t = self.arg(target, scope)?;
        let mut vals = Vec::new();
        for a in args {
            match a {
                Arg::Pos(e) => vals.push(self.arg(e, scope)?),
                Arg::Named(..) => return Err(no_function("#indexer")),
            }
        }
        let result = match (&t, vals.as_slice()) {
            (
                Val::List(items, Kind::Tuple | Kind::PyList),
                [index @ (Val::Int(_) | Val::Bool(_))],
            ) => {
                let i = &match index {
                    Val::Bool(b) => i64::from(*b),
                    _ => index.as_number().unwrap_or(0.0) as i64,
                };
                let len = items.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                usize::try_from(at)
                    .ok()
                    .and_then(|at| items.get(at))
                    .cloned()
                    .ok_or_else(|| YaqlError::runtime("IndexError: index out of range"))?
            }
            (Val::Dict(d, _), [key]) => d.get(key)?.cloned().ok_or_else(|| key_error(key))?,
            (Val::Dict(d, _), [key, default]) => d.get(key)?.cloned().unwrap_or(default.clone()),
            _ => return Err(no_function("#indexer")),
        };
        self.quota(result)
    }

    pub(super) fn unary(&self, op: &str, operand: &Expr, scope: &Rc<Scope>) -> R<Val> {
        let v = self.arg(operand, scope)?;
        Ok(match (op, v) {
            ("not", v) => Val::Bool(!v.truthy()),
            ("+", v @ (Val::Int(_) | Val::Float(_))) => v,
            ("-", Val::Int(i)) => Val::Int(i.checked_neg().ok_or_else(overflow)?),
            ("-", Val::Float(f)) => Val::Float(-f),
            _ => return Err(no_function(&format!("#unary_operator_{op}"))),
        })
    }

    pub(super) fn binary(&self, op: &str, left: &Expr, right: &Expr, scope: &Rc<Scope>) -> R<Val> {
        match op {
            "." | "?." => {
                let l = self.arg(left, scope)?;
                if op == "?." && matches!(l, Val::Null) {
                    return Ok(Val::Null);
                }
                return match right {
                    Expr::Call(name, args) => self.call(name, Some(l), args, &Scope::child(scope)),
                    Expr::Keyword(key) => self.attribute(l, key),
                    _ => Err(no_function("#operator_.")),
                };
            }
            "and" => {
                let l = self.arg(left, scope)?;
                return if l.truthy() {
                    self.arg(right, scope)
                } else {
                    Ok(l)
                };
            }
            "or" => {
                let l = self.arg(left, scope)?;
                return if l.truthy() {
                    Ok(l)
                } else {
                    self.arg(right, scope)
                };
            }
            "->" => {
                return match self.arg(left, scope)? {
                    Val::Context(ctx) => self.eval(right, &ctx),
                    _ => Err(no_function("#operator_->")),
                };
            }
            _ => {}
        }
        let l = self.arg(left, scope)?;
        let r = self.arg(right, scope)?;
        let result = match op {
            "=" => Val::Bool(l.py_eq(&r)),
            "!=" => Val::Bool(!l.py_eq(&r)),
            "<" | ">" | "<=" | ">=" => Val::Bool(compare(op, &l, &r)?),
            "in" => self.contains(&l, &r)?,
            "=~" | "!~" => {
                let found = self.regex_search(&r, &l, "#operator_=~")?.is_some();
                Val::Bool(found == (op == "=~"))
            }
            _ => self.arithmetic(op, l, r)?,
        };
        self.quota(result)
    }

    /// `x.key`: a dict's value, or the key of each item of a collection.
    fn attribute(&self, v: Val, key: &str) -> R<Val> {
        match &v {
            Val::Dict(d, _) => {
                let k = Val::str(key);
                d.get(&k)?.cloned().ok_or_else(|| key_error(&k))
            }
            Val::List(..) => {
                let items = self.iterable(&v, "#operator_.")?;
                let out = items
                    .iter()
                    .map(|item| self.attribute(item.clone(), key))
                    .collect::<R<Vec<_>>>()?;
                Ok(Val::list(out, Kind::Iter))
            }
            _ => Err(YaqlError::runtime(format!(
                "Unknown function \"#property#{key}\""
            ))),
        }
    }

    fn contains(&self, needle: &Val, hay: &Val) -> R<Val> {
        match (needle, hay) {
            (Val::Str(n), Val::Str(h)) => Ok(Val::Bool(h.contains(n.as_ref()))),
            (_, Val::List(..)) => {
                let items = self.iterable_lazy(hay, "#operator_in")?;
                let pos = items.iter().position(|x| x.py_eq(needle));
                self.consumed(pos.map_or(items.len(), |p| p + 1))?;
                Ok(Val::Bool(pos.is_some()))
            }
            _ => Err(no_function("#operator_in")),
        }
    }

    /// `+ - * / mod` (also what `sum` adds with).
    pub fn arithmetic(&self, op: &str, l: Val, r: Val) -> R<Val> {
        Ok(match (op, &l, &r) {
            (_, Val::Int(a), Val::Int(b)) => int_op(op, *a, *b)?,
            (_, Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
                let (a, b) = (l.as_number().unwrap_or(0.0), r.as_number().unwrap_or(0.0));
                Val::Float(match op {
                    "+" => a + b,
                    "-" => a - b,
                    "*" => a * b,
                    "/" | "mod" if b == 0.0 => return Err(zero_division()),
                    "/" => a / b,
                    _ => a - b * (a / b).floor(),
                })
            }
            ("+", Val::Str(a), Val::Str(b)) => Val::str(format!("{a}{b}")),
            ("+", Val::Dict(a, _), Val::Dict(b, _)) => {
                let mut d = (**a).clone();
                for (k, v) in b.entries() {
                    d.insert(k.clone(), v.clone())?;
                }
                Val::Dict(Rc::new(d), true)
            }
            ("+", Val::List(a, ka), Val::List(b, kb)) => {
                self.iterable(&l, "#operator_+")?;
                self.iterable(&r, "#operator_+")?;
                let kind = if *ka == Kind::Tuple && *kb == Kind::Tuple {
                    Kind::Tuple
                } else {
                    Kind::Iter
                };
                Val::list(a.iter().chain(b.iter()).cloned().collect(), kind)
            }
            ("*", Val::List(items, k @ (Kind::Tuple | Kind::PyList)), Val::Int(n))
            | ("*", Val::Int(n), Val::List(items, k @ (Kind::Tuple | Kind::PyList))) => {
                let seq = if matches!(l, Val::List(..)) { &l } else { &r };
                self.repeat_quota(seq, *n)?;
                let times = usize::try_from(*n).unwrap_or(0);
                Val::list(
                    items
                        .iter()
                        .cycle()
                        .take(items.len() * times)
                        .cloned()
                        .collect(),
                    *k,
                )
            }
            ("*", Val::Str(s), Val::Int(n)) | ("*", Val::Int(n), Val::Str(s)) => {
                let seq = if matches!(l, Val::Str(_)) { &l } else { &r };
                self.repeat_quota(seq, *n)?;
                Val::str(s.repeat(usize::try_from(*n).unwrap_or(0)))
            }
            _ => return Err(no_function(&format!("#operator_{op}"))),
        })
    }

    /// yaql's check before `seq * n`: `(1 - n) * sizeof(empty) + n * sizeof(seq)`.
    fn repeat_quota(&self, seq: &Val, n: i64) -> R<()> {
        let empty = match seq {
            Val::Str(_) => 49,
            _ => 56,
        };
        let total = (1 - n as i128) * empty + n as i128 * seq.py_sizeof() as i128;
        if total > MEMORY_QUOTA as i128 {
            return Err(YaqlError::runtime("Expression consumed too much memory"));
        }
        Ok(())
    }
}

fn int_op(op: &str, a: i64, b: i64) -> R<Val> {
    Ok(Val::Int(match op {
        "+" => a.checked_add(b).ok_or_else(overflow)?,
        "-" => a.checked_sub(b).ok_or_else(overflow)?,
        "*" => a.checked_mul(b).ok_or_else(overflow)?,
        "/" | "mod" if b == 0 => return Err(zero_division()),
        // Python's floor division and modulo (rounding towards negative infinity).
        "/" => {
            let q = a.checked_div(b).ok_or_else(overflow)?;
            if a % b != 0 && ((a < 0) != (b < 0)) {
                q - 1
            } else {
                q
            }
        }
        _ => {
            let m = a.checked_rem(b).ok_or_else(overflow)?;
            if m != 0 && ((m < 0) != (b < 0)) {
                m + b
            } else {
                m
            }
        }
    }))
}

/// `<`, `>`, `<=`, `>=` on numbers, strings, and null (which sorts first).
pub fn compare(op: &str, l: &Val, r: &Val) -> R<bool> {
    use std::cmp::Ordering;
    let ord = match (l, r) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Less,
        (_, Val::Null) => Ordering::Greater,
        (Val::Str(a), Val::Str(b)) => a.cmp(b),
        (Val::Int(a), Val::Int(b)) => a.cmp(b),
        (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => {
            let (a, b) = (l.as_number().unwrap_or(0.0), r.as_number().unwrap_or(0.0));
            match a.partial_cmp(&b) {
                Some(o) => o,
                None => return Ok(false),
            }
        }
        _ => return Err(no_function(&format!("#operator_{op}"))),
    };
    Ok(match op {
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "<=" => ord != Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

pub fn key_error(key: &Val) -> YaqlError {
    YaqlError::runtime(format!(
        "KeyError: {}",
        key.py_repr().unwrap_or_else(|_| key.type_name().into())
    ))
}

pub fn overflow() -> YaqlError {
    YaqlError::unsupported("integer overflow (integers are 64-bit here)")
}

fn zero_division() -> YaqlError {
    YaqlError::runtime("ZeroDivisionError: division by zero")
}
