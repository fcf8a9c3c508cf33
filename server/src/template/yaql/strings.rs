//! String and regex methods and functions (yaql's `strings`, `regex`, `math.int`), with
//! Python's `str.split` / `str.rsplit` / `str.strip` rules.

use std::rc::Rc;

use regex::{Regex, RegexBuilder};

use super::YaqlError;
use super::eval::{Evaluator, R, bind, no_function, no_method};
use super::operators::overflow;
use super::parser::{Arg, Expr};
use super::value::{Dict, Kind, Scope, Val};

impl Evaluator {
    /// A method on a string or regex; `Ok(None)` if `name` is not one of these.
    pub fn string_method(
        &self,
        name: &str,
        r: &Val,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> R<Option<Val>> {
        let opt = |e: Option<&Expr>| e.map(|e| self.arg(e, scope)).transpose();
        let v = match name {
            "split" | "rightSplit" => {
                let [sep, max] = bind(name, args, ["separator", "maxSplits"])?;
                let (Val::Str(s), sep) = (r, opt(sep)?) else {
                    return Err(no_method(name, r));
                };
                let max = match opt(max)? {
                    None => -1,
                    Some(Val::Int(n)) => n,
                    Some(_) => return Err(no_method(name, r)),
                };
                let parts = match (&sep, name) {
                    (None | Some(Val::Null), "split") => split_whitespace(s, max),
                    (None | Some(Val::Null), _) => rsplit_whitespace(s, max),
                    (Some(Val::Str(sep)), _) if sep.is_empty() => {
                        return Err(YaqlError::runtime("ValueError: empty separator"));
                    }
                    (Some(Val::Str(sep)), "split") => split_sep(s, sep, max),
                    (Some(Val::Str(sep)), _) => rsplit_sep(s, sep, max),
                    (Some(Val::Regex(re)), "split") if re.captures_len() == 1 => {
                        let n = if max <= 0 {
                            usize::MAX
                        } else {
                            max as usize + 1
                        };
                        re.splitn(s, n).map(str::to_string).collect()
                    }
                    _ => return Err(no_method(name, r)),
                };
                Val::list(parts.into_iter().map(Val::str).collect(), Kind::PyList)
            }
            "join" => {
                let [other] = bind(name, args, ["separator"])?;
                let other = self.arg(other.ok_or_else(|| no_method(name, r))?, scope)?;
                let (seq, sep) = match (r, &other) {
                    (Val::List(..), Val::Str(sep)) => (r, sep),
                    (Val::Str(sep), Val::List(..)) => (&other, sep),
                    _ => return Err(no_method(name, r)),
                };
                let parts = self
                    .iterable(seq, name)?
                    .iter()
                    .map(Val::yaql_str)
                    .collect::<R<Vec<_>>>()?;
                Val::str(parts.join(sep))
            }
            "isEmpty" => {
                let params = bind(name, args, ["trim", "chars"])
                    .or_else(|_| bind(name, args, ["trimSpaces", "chars"]))?;
                let trim = opt(params[0])?.is_none_or(|t| t.truthy());
                let chars = match opt(params[1])? {
                    None | Some(Val::Null) => None,
                    Some(Val::Str(c)) => Some(c),
                    Some(_) => return Err(no_method(name, r)),
                };
                match r {
                    Val::Null => Val::Bool(true),
                    Val::Str(s) if trim => Val::Bool(strip(s, chars.as_deref()).is_empty()),
                    Val::Str(s) => Val::Bool(s.is_empty()),
                    _ => return Err(no_method(name, r)),
                }
            }
            "matches" => {
                let [other] = bind(name, args, ["string"])?;
                let other = self.arg(other.ok_or_else(|| no_method(name, r))?, scope)?;
                let found = match r {
                    Val::Regex(_) => self.regex_search(r, &other, name)?,
                    _ => self.regex_search(&other, r, name)?,
                };
                Val::Bool(found.is_some())
            }
            "search" => {
                let [string, selector] = bind(name, args, ["string", "selector"])?;
                let (Val::Regex(re), Some(string)) = (r, string) else {
                    return Err(no_method(name, r));
                };
                let Val::Str(s) = self.arg(string, scope)? else {
                    return Err(no_method(name, r));
                };
                let Some(caps) = re.captures(&s) else {
                    return Ok(Some(Val::Null));
                };
                match selector {
                    None => Val::str(caps.get(0).map_or("", |m| m.as_str())),
                    // yaql publishes named groups with a bug that always fails.
                    Some(_) if re.capture_names().flatten().next().is_some() => {
                        return Err(YaqlError::runtime("IndexError: no such group"));
                    }
                    Some(f) => {
                        let child = Scope::child(scope);
                        for (i, m) in caps.iter().enumerate() {
                            child.set(&(i + 1).to_string(), match_record(&s, m)?);
                        }
                        self.eval(f, &child)?
                    }
                }
            }
            "toUpper" | "toLower" => {
                bind(name, args, [])?;
                let Val::Str(s) = r else {
                    return Err(no_method(name, r));
                };
                Val::str(if name == "toUpper" {
                    s.to_uppercase()
                } else {
                    s.to_lowercase()
                })
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// A function of this family; `Ok(None)` if `name` is not one of these.
    pub fn string_function(&self, name: &str, args: &[Arg], scope: &Rc<Scope>) -> R<Option<Val>> {
        let v = match name {
            "concat" => {
                let mut vals = Vec::new();
                for a in args {
                    let Arg::Pos(e) = a else {
                        return Err(no_function(name));
                    };
                    vals.push(self.arg(e, scope)?);
                }
                if vals.is_empty() {
                    // Both the string and the collection `concat` match: yaql refuses.
                    return Err(YaqlError::runtime("Ambiguous function \"concat\""));
                }
                if vals.iter().all(|v| matches!(v, Val::Str(_))) {
                    let parts: Vec<&str> = vals
                        .iter()
                        .filter_map(|v| {
                            if let Val::Str(s) = v {
                                Some(&**s)
                            } else {
                                None
                            }
                        })
                        .collect();
                    Val::str(parts.concat())
                } else {
                    let mut out = Vec::new();
                    for v in &vals {
                        let items = self.iterable(v, name).map_err(|_| no_function(name))?;
                        out.extend(items.iter().cloned());
                    }
                    Val::list(out, Kind::Iter)
                }
            }
            "str" => {
                let [v] = bind(name, args, ["value"])?;
                let v = self.arg(v.ok_or_else(|| no_function(name))?, scope)?;
                Val::str(v.yaql_str()?)
            }
            "int" => {
                let [v] = bind(name, args, ["value"])?;
                to_int(&self.arg(v.ok_or_else(|| no_function(name))?, scope)?)?
            }
            "regex" => {
                let [pattern, case, multi, dot] =
                    bind(name, args, ["pattern", "ignoreCase", "multiLine", "dotAll"])?;
                let Some(Val::Str(pattern)) = pattern.map(|e| self.arg(e, scope)).transpose()?
                else {
                    return Err(no_function(name));
                };
                let flag = |e: Option<&Expr>| -> R<bool> {
                    Ok(e.map(|e| self.arg(e, scope))
                        .transpose()?
                        .is_some_and(|v| v.truthy()))
                };
                Val::Regex(Rc::new(compile(
                    &pattern,
                    flag(case)?,
                    flag(multi)?,
                    flag(dot)?,
                )?))
            }
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// `re.search` of a regex (or a pattern string) in a string; `None` when it does not match.
    pub fn regex_search(
        &self,
        pattern: &Val,
        string: &Val,
        name: &str,
    ) -> R<Option<(usize, usize)>> {
        let Val::Str(s) = string else {
            return Err(no_function(name));
        };
        let found = match pattern {
            Val::Regex(re) => re.find(s),
            Val::Str(p) => compile(p, false, false, false)?.find(s),
            _ => return Err(no_function(name)),
        };
        Ok(found.map(|m| (m.start(), m.end())))
    }
}

fn compile(pattern: &str, case: bool, multi: bool, dot: bool) -> R<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(case)
        .multi_line(multi)
        .dot_matches_new_line(dot)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let first = e.to_string();
            let detail = first.lines().last().unwrap_or_default().to_string();
            YaqlError::unsupported(format!("regular expression {pattern:?}: {detail}"))
        })
}

/// `{value, start, end}` of a match group, with Python's character offsets.
fn match_record(s: &str, m: Option<regex::Match<'_>>) -> R<Val> {
    let chars = |byte: usize| s[..byte].chars().count() as i64;
    let (value, start, end) = match m {
        Some(m) => (Val::str(m.as_str()), chars(m.start()), chars(m.end())),
        None => (Val::Null, -1, -1),
    };
    let d = Dict::from_entries([
        (Val::str("value"), value),
        (Val::str("start"), Val::Int(start)),
        (Val::str("end"), Val::Int(end)),
    ])?;
    Ok(Val::Dict(Rc::new(d), false))
}

/// Python's `int()` of a yaql value (`null` is 0).
fn to_int(v: &Val) -> R<Val> {
    let invalid = || {
        let shown = v.py_repr().unwrap_or_else(|_| v.type_name().into());
        YaqlError::runtime(format!("ValueError: invalid literal for int(): {shown}"))
    };
    Ok(Val::Int(match v {
        Val::Null => 0,
        Val::Bool(b) => i64::from(*b),
        Val::Int(i) => *i,
        Val::Float(f) if f.is_finite() => {
            let t = f.trunc();
            if t.abs() >= 9.2e18 {
                return Err(overflow());
            }
            t as i64
        }
        Val::Str(s) => {
            let t = s.trim_matches(py_space);
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            let ok = !digits.is_empty()
                && !digits.starts_with('_')
                && !digits.ends_with('_')
                && !digits.contains("__")
                && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(invalid());
            }
            t.replace('_', "").parse().map_err(|_| overflow())?
        }
        _ => return Err(invalid()),
    }))
}

/// Python's `str.isspace` for one character.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip(chars)`.
fn strip<'a>(s: &'a str, chars: Option<&str>) -> &'a str {
    match chars {
        None => s.trim_matches(py_space),
        Some(set) => s.trim_matches(|c| set.contains(c)),
    }
}

fn limit(max: i64) -> usize {
    usize::try_from(max).unwrap_or(usize::MAX)
}

/// Python's `str.split()` (runs of whitespace, at most `max` splits).
fn split_whitespace(s: &str, max: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start_matches(py_space);
    while !rest.is_empty() && out.len() < limit(max) {
        let end = rest.find(py_space).unwrap_or(rest.len());
        out.push(rest[..end].to_string());
        rest = rest[end..].trim_start_matches(py_space);
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// Python's `str.rsplit()`.
fn rsplit_whitespace(s: &str, max: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim_end_matches(py_space);
    while !rest.is_empty() && out.len() < limit(max) {
        let start = rest.rfind(py_space).map_or(0, |i| {
            i + rest[i..].chars().next().map_or(1, char::len_utf8)
        });
        out.push(rest[start..].to_string());
        rest = rest[..start].trim_end_matches(py_space);
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out.reverse();
    out
}

fn split_sep(s: &str, sep: &str, max: i64) -> Vec<String> {
    match usize::try_from(max) {
        Ok(n) => s
            .splitn(n.saturating_add(1), sep)
            .map(str::to_string)
            .collect(),
        Err(_) => s.split(sep).map(str::to_string).collect(),
    }
}

fn rsplit_sep(s: &str, sep: &str, max: i64) -> Vec<String> {
    let mut out: Vec<String> = match usize::try_from(max) {
        Ok(n) => s
            .rsplitn(n.saturating_add(1), sep)
            .map(str::to_string)
            .collect(),
        Err(_) => s.rsplit(sep).map(str::to_string).collect(),
    };
    out.reverse();
    out
}
