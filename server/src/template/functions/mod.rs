//! Intrinsic functions: the walker that finds calls in a value, and the functions themselves.
//!
//! A call is a map with exactly one key that names a function of the template's version
//! (see [`table`], the one place that says which version has which function); any other map
//! is data. Each function family is one module implementing [`Function`]; version-dependent
//! behaviour is a variant of the implementation chosen by the table, not a version check.

mod cfn;
mod cfn_collections;
mod conditional;
mod digest;
mod get_attr;
mod get_file;
mod get_param;
mod get_resource;
pub mod json_text;
mod list_join;
mod lists;
mod make_url;
mod maps;
pub mod python;
mod repeat;
mod resource_facade;
mod split;
mod str_replace;
pub mod table;
mod yaql;

use serde_json::{Map, Value};

use super::error::{TemplateError, index, join};
use super::version::TemplateVersion;
pub use get_attr::select_attribute;
pub use resource_facade::FacadeAttribute;
use table::Availability;
pub use table::Context;

/// What evaluation needs from the stack: parameters and the state of resources.
pub trait EvalContext {
    /// A parameter's value, including pseudo-parameters (`OS::stack_id`, …).
    fn param(&self, name: &str) -> Option<Value>;
    /// The reference id of a resource (`get_resource`); `None` if there is no such resource.
    fn resource_reference(&self, name: &str) -> Option<String>;
    /// An attribute of a resource; null when the resource is not ready.
    fn resource_attribute(&self, name: &str, attribute: &str) -> Value;
    /// All attributes of a resource (`get_attr: [name]`).
    fn resource_attributes(&self, name: &str) -> Value;
    /// An attribute with a path handed to the resource, as `get_attr` does from 2014-10-16
    /// (Heat's `FnGetAtt(name, *path)`); by default the path is walked in the attribute value.
    fn resource_attribute_at(&self, name: &str, attribute: &str, path: &[Value]) -> Value {
        select_attribute(&self.resource_attribute(name, attribute), path)
    }
    /// The content of `key` in the stack's `files` map (`get_file`).
    fn file(&self, _key: &str) -> Option<String> {
        None
    }
    /// A property of the parent (facade) resource of a nested stack (`resource_facade`);
    /// `None` when the stack is not nested.
    fn resource_facade(&self, _kind: FacadeAttribute) -> Option<Value> {
        None
    }
    /// A map of the template's `Mappings` section (`Fn::FindInMap`); `None` if absent.
    fn mapping(&self, _name: &str) -> Option<Value> {
        None
    }
    /// Evaluates a condition (a name from `conditions`, a boolean, or a condition
    /// function) for `if`. Without a `conditions` section only booleans are known.
    fn condition(&self, expression: &Value, path: &str) -> Result<bool, TemplateError> {
        match expression {
            Value::Bool(b) => Ok(*b),
            Value::String(name) => Err(TemplateError::at(
                path,
                format!("Invalid condition \"{name}\""),
            )),
            other => Err(TemplateError::at(
                path,
                format!("Invalid condition {other}"),
            )),
        }
    }
}

/// What validation needs to check references before anything runs.
pub trait ValidationScope {
    /// The template version.
    fn version(&self) -> TemplateVersion;
    /// Whether a parameter (or pseudo-parameter) exists.
    fn has_param(&self, name: &str) -> bool;
    /// Whether a resource exists.
    fn has_resource(&self, name: &str) -> bool;
    /// Whether a resource has an attribute; `Err` carries Heat's message.
    fn check_attribute(&self, resource: &str, attribute: &str) -> Result<(), String>;
    /// Checks an `if` condition: a defined condition name, a boolean or a condition function.
    fn check_condition(&self, condition: &Value, path: &str) -> Result<(), TemplateError> {
        match condition {
            Value::Bool(_) | Value::Object(_) => Ok(()),
            Value::String(name) => Err(TemplateError::at(
                path,
                format!("Invalid condition \"{name}\""),
            )),
            other => Err(TemplateError::at(
                path,
                format!("Invalid condition {other}"),
            )),
        }
    }
}

/// One intrinsic function. Which versions have it is said by [`table`], not here.
pub trait Function: Sync {
    /// The key that calls it (`get_param`).
    fn name(&self) -> &'static str;
    /// Checks the arguments' shape and references, before anything is resolved; arguments
    /// that are calls ([`is_call`]) can only be checked by [`Function::evaluate`].
    ///
    /// By default nothing is checked before resolving, as Heat does for most functions.
    fn validate(
        &self,
        _args: &Value,
        _scope: &dyn ValidationScope,
        _path: &str,
    ) -> Result<(), TemplateError> {
        Ok(())
    }
    /// Resources this call depends on (besides those of nested calls in its arguments).
    fn dependencies(&self, _args: &Value, _out: &mut Vec<String>) {}
    /// Evaluates the call; `args` have already been resolved.
    fn evaluate(
        &self,
        args: Value,
        version: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError>;
}

/// A single-key map that is a call in some version and context.
enum Call<'v> {
    /// A function of this version.
    Function(&'static dyn Function, &'v str, &'v Value),
    /// Removed from this version: fails validation.
    Removed(&'v str, &'v Value),
    /// Not allowed in this context: fails validation.
    Invalid(&'v str, &'v Value),
}

fn as_call(value: &Value, version: TemplateVersion, context: Context) -> Option<Call<'_>> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, args) = map.iter().next()?;
    match table::lookup(key, version, context) {
        Availability::Function(f) => Some(Call::Function(f, key, args)),
        Availability::Removed => Some(Call::Removed(key, args)),
        Availability::Invalid => Some(Call::Invalid(key, args)),
        Availability::Absent => None,
    }
}

/// Heat's error for a function removed from this version.
fn removed(name: &str, path: &str) -> TemplateError {
    TemplateError::at(
        path,
        format!(
            "The template version is invalid: The function {name} is not supported in this version of HOT."
        ),
    )
}

/// Heat's error for a function that is not allowed where it is used.
fn invalid(name: &str, path: &str) -> TemplateError {
    TemplateError::at(
        path,
        format!("The function \"{name}\" is invalid in this context"),
    )
}

/// Single-key maps that look like a function call but name none we know: reported rather
/// than silently treated as data, because they are almost always typos (`get_atr`).
/// `get_input` is data by design: the references a StructuredDeployment substitutes.
fn unknown_call(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let key = map.keys().next()?;
    let looks_like_call = key.starts_with("get_") || key.starts_with("Fn::");
    (looks_like_call && key != STRUCTURED_INPUT_KEY).then_some(key.as_str())
}

/// StructuredDeployment's default `input_key`.
const STRUCTURED_INPUT_KEY: &str = "get_input";

/// Resolves every call in `value` (a property, metadata or output value).
pub fn resolve(
    value: &Value,
    version: impl Into<TemplateVersion>,
    ctx: &dyn EvalContext,
    path: &str,
) -> Result<Value, TemplateError> {
    resolve_in(value, version.into(), Context::Value, ctx, path)
}

/// Resolves every call in `value` where `context` says which functions exist. A
/// two-argument `if` whose condition is false (HOT 2021-04-16) removes the map entry or
/// list item holding it; at the top level it is null.
pub fn resolve_in(
    value: &Value,
    version: TemplateVersion,
    context: Context,
    ctx: &dyn EvalContext,
    path: &str,
) -> Result<Value, TemplateError> {
    Ok(resolve_or_absent(value, version, context, ctx, path)?.unwrap_or(Value::Null))
}

/// Like [`resolve_in`], but `None` when the value is absent (elided by a two-argument `if`).
fn resolve_or_absent(
    value: &Value,
    version: TemplateVersion,
    context: Context,
    ctx: &dyn EvalContext,
    path: &str,
) -> Result<Option<Value>, TemplateError> {
    if let Some(args) = conditional::as_if_call(value, version) {
        let ipath = join(path, "if");
        return match conditional::choose(args, version, ctx, &ipath)? {
            Some(branch) => resolve_or_absent(branch, version, context, ctx, &ipath),
            None => Ok(None),
        };
    }
    match as_call(value, version, context) {
        Some(Call::Function(function, name, args)) => {
            let fpath = join(path, name);
            let args = resolve_in(args, version, context, ctx, &fpath)?;
            return function.evaluate(args, version, ctx, &fpath).map(Some);
        }
        Some(Call::Removed(name, _)) => return Err(removed(name, &join(path, name))),
        Some(Call::Invalid(name, _)) => return Err(invalid(name, &join(path, name))),
        None => {}
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                if let Some(v) = resolve_or_absent(v, version, context, ctx, &join(path, k))? {
                    out.insert(k.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                if let Some(v) = resolve_or_absent(v, version, context, ctx, &index(path, i))? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

/// Validates every call in `value` (a property, metadata or output value).
pub fn validate(
    value: &Value,
    scope: &dyn ValidationScope,
    path: &str,
) -> Result<(), TemplateError> {
    validate_in(value, Context::Value, scope, path)
}

/// Validates every call in `value` where `context` says which functions exist.
pub fn validate_in(
    value: &Value,
    context: Context,
    scope: &dyn ValidationScope,
    path: &str,
) -> Result<(), TemplateError> {
    let version = scope.version();
    if let Some(args) = conditional::as_if_call(value, version) {
        let ipath = join(path, "if");
        let branches = conditional::branches(args, version, &ipath)?;
        scope.check_condition(&branches.condition, &ipath)?;
        return branches
            .values
            .iter()
            .try_for_each(|b| validate_in(b, context, scope, &ipath));
    }
    match as_call(value, version, context) {
        Some(Call::Function(function, name, args)) => {
            let fpath = join(path, name);
            validate_in(args, context, scope, &fpath)?;
            return function.validate(args, scope, &fpath);
        }
        Some(Call::Removed(name, _)) => return Err(removed(name, &join(path, name))),
        Some(Call::Invalid(name, args)) => {
            let fpath = join(path, name);
            validate_in(args, context, scope, &fpath)?;
            return Err(invalid(name, &fpath));
        }
        None => {}
    }
    if let Some(name) = unknown_call(value) {
        return Err(TemplateError::at(
            path,
            format!(
                "Unknown function \"{name}\" (not available in {} {})",
                version.key(),
                version.value()
            ),
        ));
    }
    match value {
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| validate_in(v, context, scope, &join(path, k))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| validate_in(v, context, scope, &index(path, i))),
        _ => Ok(()),
    }
}

/// Appends the resources that `value` depends on to `out`. Names that turn out not to be
/// resources (`Ref` to a parameter) are the caller's to drop.
pub fn dependencies(value: &Value, version: impl Into<TemplateVersion>, out: &mut Vec<String>) {
    dependencies_in(value, version.into(), out);
}

fn dependencies_in(value: &Value, version: TemplateVersion, out: &mut Vec<String>) {
    if let Some(args) = conditional::as_if_call(value, version) {
        // Both branches: ordering must hold whichever one the condition picks.
        if let Some(items) = args.as_array() {
            items
                .iter()
                .skip(1)
                .for_each(|v| dependencies_in(v, version, out));
        }
        return;
    }
    match as_call(value, version, Context::Value) {
        Some(Call::Function(function, _, args)) => {
            function.dependencies(args, out);
            return dependencies_in(args, version, out);
        }
        Some(Call::Removed(_, args) | Call::Invalid(_, args)) => {
            return dependencies_in(args, version, out);
        }
        None => {}
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| dependencies_in(v, version, out)),
        Value::Array(items) => items.iter().for_each(|v| dependencies_in(v, version, out)),
        _ => {}
    }
}

/// Whether `value` itself is a call (Heat's `isinstance(x, Function)` on parsed arguments).
pub fn is_call(value: &Value, version: impl Into<TemplateVersion>) -> bool {
    as_call(value, version.into(), Context::Value).is_some()
}

/// Whether `value` contains any call (so its final value is only known at run time).
pub fn contains_call(value: &Value, version: impl Into<TemplateVersion>) -> bool {
    contains_call_in(value, version.into())
}

fn contains_call_in(value: &Value, version: TemplateVersion) -> bool {
    if conditional::as_if_call(value, version).is_some() {
        return true;
    }
    if as_call(value, version, Context::Value).is_some() {
        return true;
    }
    match value {
        Value::Object(map) => map.values().any(|v| contains_call_in(v, version)),
        Value::Array(items) => items.iter().any(|v| contains_call_in(v, version)),
        _ => false,
    }
}

/// Walks `path` into `value` as Python's `collection[key]` does: map keys, list (and string)
/// indexes, negative ones from the end. `int_strings` lets a string index a list
/// (`get_param`'s `int()` conversion). Any failed step gives `None`.
pub fn walk(value: &Value, path: &[Value], int_strings: bool) -> Option<Value> {
    let mut cur = value.clone();
    for key in path {
        cur = step(&cur, key, int_strings)?;
    }
    Some(cur)
}

fn step(collection: &Value, key: &Value, int_strings: bool) -> Option<Value> {
    let position = |len: usize| -> Option<usize> {
        let i = match key {
            Value::Number(n) => n.as_i64()?,
            Value::Bool(b) => i64::from(*b),
            Value::String(s) if int_strings => s.trim().parse::<i64>().ok()?,
            _ => return None,
        };
        let len = i64::try_from(len).ok()?;
        let i = if i < 0 { i + len } else { i };
        usize::try_from(i).ok().filter(|_| i < len)
    };
    match collection {
        Value::Object(map) => map.get(key.as_str()?).cloned(),
        Value::Array(items) => items.get(position(items.len())?).cloned(),
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            chars
                .get(position(chars.len())?)
                .map(|c| Value::String(c.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod test_support;
