//! Evaluation: variables, operators, `.`, indexers, literals, and the dispatch of calls to
//! the library (`collections.rs`, `strings.rs`), with the iteration and memory budgets.

use std::rc::Rc;

use serde_json::{Map, Value};

use super::parser::{Arg, Expr};
use super::value::{Dict, Kind, Scope, Val};
use super::{LIMIT_ITERATORS, MEMORY_QUOTA, YaqlError};

pub type R<T> = Result<T, YaqlError>;

/// Evaluates a parsed expression with `$` = `{"data": data}`.
pub fn run(expr: &Expr, data: &Value) -> R<Value> {
    let root = Rc::new(Scope::default());
    let mut input = Map::new();
    input.insert("data".into(), data.clone());
    root.set("1", Val::from_json(&Value::Object(input)));
    let scope = Scope::child(&root);
    Evaluator.eval(expr, &scope)?.to_json(LIMIT_ITERATORS)
}

pub struct Evaluator;

pub fn no_method(name: &str, receiver: &Val) -> YaqlError {
    let shown = receiver
        .yaql_str()
        .unwrap_or_else(|_| receiver.type_name().into());
    YaqlError::runtime(format!(
        "No method \"{name}\" for receiver {shown} matches supplied arguments"
    ))
}

pub fn no_function(name: &str) -> YaqlError {
    YaqlError::runtime(format!("No function \"{name}\" matches supplied arguments"))
}

impl Evaluator {
    /// yaql's memory quota, applied to every argument and every result.
    pub fn quota(&self, v: Val) -> R<Val> {
        if v.py_sizeof() > MEMORY_QUOTA {
            return Err(YaqlError::runtime("Expression consumed too much memory"));
        }
        Ok(v)
    }

    /// The items of an iterable argument (not a string or dict), held to the iteration limit.
    pub fn iterable(&self, v: &Val, name: &str) -> R<Rc<Vec<Val>>> {
        let items = self.iterable_lazy(v, name)?;
        self.consumed(items.len())?;
        Ok(items)
    }

    /// The items of an iterable argument without the limit (for operations that may stop
    /// early: they call [`Self::consumed`] with what they took).
    pub fn iterable_lazy(&self, v: &Val, name: &str) -> R<Rc<Vec<Val>>> {
        match v {
            Val::List(items, kind) => {
                if matches!(kind, Kind::Tuple | Kind::PyList | Kind::SetView) {
                    self.consumed(items.len())?;
                }
                Ok(items.clone())
            }
            other => Err(no_method(name, other)),
        }
    }

    pub fn consumed(&self, n: usize) -> R<()> {
        if n > LIMIT_ITERATORS {
            return Err(YaqlError::too_large(LIMIT_ITERATORS));
        }
        Ok(())
    }

    pub fn eval(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val> {
        match e {
            Expr::Str(s) | Expr::Keyword(s) => Ok(Val::str(s.as_str())),
            Expr::Int(i) => Ok(Val::Int(*i)),
            Expr::Float(f) => Ok(Val::Float(*f)),
            Expr::Bool(b) => Ok(Val::Bool(*b)),
            Expr::Null => Ok(Val::Null),
            Expr::Var(name) => self.quota(scope.get(name).unwrap_or(Val::Null)),
            Expr::Wrap(inner) => self.eval(inner, scope),
            Expr::Call(name, args) => self.call(name, None, args, scope),
            Expr::List(args) => {
                let mut items = Vec::with_capacity(args.len());
                for a in args {
                    match a {
                        Arg::Pos(e) => items.push(self.arg(e, scope)?),
                        Arg::Named(..) => return Err(no_function("#list")),
                    }
                }
                self.quota(Val::list(items, Kind::Tuple))
            }
            Expr::Map(args) => self.dict_of_rules(args, scope, "#map"),
            Expr::Index(target, args) => self.index(target, args, scope),
            Expr::Unary(op, operand) => self.unary(op, operand, scope),
            Expr::Binary(op, left, right) => self.binary(op, left, right, scope),
        }
    }

    /// Evaluates an argument (with the memory quota, as yaql's parameter conversion does).
    pub fn arg(&self, e: &Expr, scope: &Rc<Scope>) -> R<Val> {
        let v = self.eval(e, scope)?;
        self.quota(v)
    }

    /// Calls a lambda argument: a child scope with `$1`… (and so `$`) set to `params`.
    pub fn lambda(&self, e: &Expr, scope: &Rc<Scope>, params: &[Val]) -> R<Val> {
        let child = Scope::child(scope);
        for (i, p) in params.iter().enumerate() {
            child.set(&(i + 1).to_string(), p.clone());
        }
        self.eval(e, &child)
    }

    /// `{k => v, …}` and `dict(k => v, …)`: a frozen dict.
    pub fn dict_of_rules(&self, args: &[Arg], scope: &Rc<Scope>, name: &str) -> R<Val> {
        let mut d = Dict::default();
        for a in args {
            let Arg::Named(k, v) = a else {
                return Err(no_function(name));
            };
            let key = self.arg(k, scope)?;
            let value = self.arg(v, scope)?;
            d.insert(key, value)?;
        }
        self.quota(Val::Dict(Rc::new(d), true))
    }

    /// A function call, or a method call when `receiver` is set.
    pub fn call(
        &self,
        name: &str,
        receiver: Option<Val>,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> R<Val> {
        let result = match receiver {
            Some(r) => {
                let r = self.quota(r)?;
                self.method(name, r, args, scope)?
            }
            None => self.function(name, args, scope)?,
        };
        self.quota(result)
    }

    fn method(&self, name: &str, r: Val, args: &[Arg], scope: &Rc<Scope>) -> R<Val> {
        if let Some(v) = self.collection_method(name, &r, args, scope)? {
            return Ok(v);
        }
        if let Some(v) = self.dict_method(name, &r, args, scope)? {
            return Ok(v);
        }
        if let Some(v) = self.string_method(name, &r, args, scope)? {
            return Ok(v);
        }
        match name {
            "format" => Err(no_method(name, &r)),
            "concat" | "coalesce" | "let" | "regex" | "dict" | "list" | "str" | "switch"
            | "int" | "range" => Err(YaqlError::runtime(format!(
                "Unknown method \"{name}\" (it is a function)"
            ))),
            _ => Err(YaqlError::runtime(format!(
                "unsupported yaql method {name}"
            ))),
        }
    }

    fn function(&self, name: &str, args: &[Arg], scope: &Rc<Scope>) -> R<Val> {
        if let Some(v) = self.collection_function(name, args, scope)? {
            return Ok(v);
        }
        if let Some(v) = self.dict_function(name, args, scope)? {
            return Ok(v);
        }
        if let Some(v) = self.string_function(name, args, scope)? {
            return Ok(v);
        }
        // Extension methods: the first argument is the receiver.
        if matches!(name, "len" | "distinct" | "any" | "all" | "isEmpty")
            && let Some((Arg::Pos(first), rest)) = args.split_first()
        {
            let r = self.arg(first, scope)?;
            return self.method(name, r, rest, scope);
        }
        if is_method_only(name) {
            return Err(YaqlError::runtime(format!(
                "Unknown function \"{name}\" (it is a method)"
            )));
        }
        Err(YaqlError::runtime(format!(
            "unsupported yaql function {name}"
        )))
    }
}

fn is_method_only(name: &str) -> bool {
    matches!(
        name,
        "where"
            | "select"
            | "get"
            | "keys"
            | "values"
            | "items"
            | "flatten"
            | "mergeWith"
            | "split"
            | "rightSplit"
            | "join"
            | "last"
            | "first"
            | "zip"
            | "reduce"
            | "matches"
            | "groupBy"
            | "selectMany"
            | "search"
            | "toUpper"
            | "toLower"
            | "count"
            | "sum"
            | "format"
    )
}

/// Binds call arguments to parameter names: positional in order, then `name => value`.
pub fn bind<'a, const N: usize>(
    name: &str,
    args: &'a [Arg],
    params: [&str; N],
) -> R<[Option<&'a Expr>; N]> {
    let mut out: [Option<&Expr>; N] = [None; N];
    let mut next = 0;
    for a in args {
        let (slot, e) = match a {
            Arg::Pos(e) => {
                next += 1;
                (next - 1, e)
            }
            Arg::Named(Expr::Keyword(k), e) => match params.iter().position(|p| p == k) {
                Some(i) => (i, e),
                None => return Err(no_function(name)),
            },
            Arg::Named(..) => return Err(no_function(name)),
        };
        match out.get_mut(slot) {
            Some(s @ None) => *s = Some(e),
            _ => return Err(no_function(name)),
        }
    }
    Ok(out)
}
