//! Intrinsic functions: the walker that finds calls in a value, and the table of functions.
//!
//! A call is a map with exactly one key that names a function available in the template's
//! version; any other map is data. Each function family is one module implementing
//! [`Function`]; adding one means a new module and a line in [`FUNCTIONS`].

mod get_attr;
mod get_param;
mod get_resource;
pub mod json_text;
mod list_join;
mod str_replace;
mod yaql;

use serde_json::{Map, Value};

use super::error::{TemplateError, index, join};
use super::version::HotVersion;

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
}

/// What validation needs to check references before anything runs.
pub trait ValidationScope {
    /// The template version.
    fn version(&self) -> HotVersion;
    /// Whether a parameter (or pseudo-parameter) exists.
    fn has_param(&self, name: &str) -> bool;
    /// Whether a resource exists.
    fn has_resource(&self, name: &str) -> bool;
    /// Whether a resource has an attribute; `Err` carries Heat's message.
    fn check_attribute(&self, resource: &str, attribute: &str) -> Result<(), String>;
}

/// One intrinsic function.
pub trait Function: Sync {
    /// The key that calls it (`get_param`).
    fn name(&self) -> &'static str;
    /// The first HOT version that has it.
    fn since(&self) -> HotVersion {
        HotVersion::V2013_05_23
    }
    /// Checks the arguments' shape and references.
    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError>;
    /// Resources this call depends on (besides those of nested calls in its arguments).
    fn dependencies(&self, _args: &Value, _out: &mut Vec<String>) {}
    /// Evaluates the call; `args` have already been resolved.
    fn evaluate(
        &self,
        args: Value,
        version: HotVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError>;
}

/// Every known function, in one table.
static FUNCTIONS: &[&dyn Function] = &[
    &get_param::GetParam,
    &get_resource::GetResource,
    &get_attr::GetAttr,
    &str_replace::StrReplace,
    &list_join::ListJoin,
    &yaql::Yaql,
];

/// The function called by `value`, if it is a call in `version`.
fn as_call(value: &Value, version: HotVersion) -> Option<(&'static dyn Function, &Value)> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (key, args) = map.iter().next()?;
    FUNCTIONS
        .iter()
        .find(|f| f.name() == key && f.since() <= version)
        .map(|f| (*f, args))
}

/// Single-key maps that look like a function call but name none we know: reported rather
/// than silently treated as data, because they are almost always typos (`get_atr`).
fn unknown_call(value: &Value) -> Option<&str> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let key = map.keys().next()?;
    (key.starts_with("get_") || key.starts_with("Fn::")).then_some(key.as_str())
}

/// Resolves every call in `value`.
pub fn resolve(
    value: &Value,
    version: HotVersion,
    ctx: &dyn EvalContext,
    path: &str,
) -> Result<Value, TemplateError> {
    if let Some((function, args)) = as_call(value, version) {
        let fpath = join(path, function.name());
        let args = resolve(args, version, ctx, &fpath)?;
        return function.evaluate(args, version, ctx, &fpath);
    }
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), resolve(v, version, ctx, &join(path, k))?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| resolve(v, version, ctx, &index(path, i)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Validates every call in `value`.
pub fn validate(
    value: &Value,
    scope: &dyn ValidationScope,
    path: &str,
) -> Result<(), TemplateError> {
    if let Some((function, args)) = as_call(value, scope.version()) {
        let fpath = join(path, function.name());
        validate(args, scope, &fpath)?;
        return function.validate(args, scope, &fpath);
    }
    if let Some(name) = unknown_call(value) {
        return Err(TemplateError::at(
            path,
            format!(
                "Unknown function \"{name}\" (not available in heat_template_version {})",
                scope.version()
            ),
        ));
    }
    match value {
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| validate(v, scope, &join(path, k))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| validate(v, scope, &index(path, i))),
        _ => Ok(()),
    }
}

/// Appends the resources that `value` depends on to `out`.
pub fn dependencies(value: &Value, version: HotVersion, out: &mut Vec<String>) {
    if let Some((function, args)) = as_call(value, version) {
        function.dependencies(args, out);
        dependencies(args, version, out);
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| dependencies(v, version, out)),
        Value::Array(items) => items.iter().for_each(|v| dependencies(v, version, out)),
        _ => {}
    }
}

/// Whether `value` contains any call (so its final value is only known at run time).
pub fn contains_call(value: &Value, version: HotVersion) -> bool {
    if as_call(value, version).is_some() {
        return true;
    }
    match value {
        Value::Object(map) => map.values().any(|v| contains_call(v, version)),
        Value::Array(items) => items.iter().any(|v| contains_call(v, version)),
        _ => false,
    }
}

/// Walks `path` (map keys / list indexes) into `value`; missing steps give `None`.
pub fn select_path<'v>(value: &'v Value, path: &[Value]) -> Option<&'v Value> {
    let mut cur = value;
    for step in path {
        cur = match (cur, step) {
            (Value::Object(m), Value::String(k)) => m.get(k)?,
            (Value::Array(items), Value::Number(n)) => {
                items.get(usize::try_from(n.as_u64()?).ok()?)?
            }
            (Value::Array(items), Value::String(s)) => {
                items.get(s.trim().parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use std::collections::HashMap;

    /// A fixed context for function tests.
    #[derive(Default)]
    pub struct FixedContext {
        pub params: HashMap<String, Value>,
        pub refs: HashMap<String, String>,
        pub attrs: HashMap<String, Map<String, Value>>,
    }

    impl EvalContext for FixedContext {
        fn param(&self, name: &str) -> Option<Value> {
            self.params.get(name).cloned()
        }
        fn resource_reference(&self, name: &str) -> Option<String> {
            self.refs.get(name).cloned()
        }
        fn resource_attribute(&self, name: &str, attribute: &str) -> Value {
            self.attrs
                .get(name)
                .and_then(|a| a.get(attribute))
                .cloned()
                .unwrap_or(Value::Null)
        }
        fn resource_attributes(&self, name: &str) -> Value {
            self.attrs
                .get(name)
                .cloned()
                .map(Value::Object)
                .unwrap_or(Value::Null)
        }
    }

    pub fn eval(template: Value, ctx: &FixedContext) -> Result<Value, TemplateError> {
        resolve(&template, HotVersion::V2021_04_16, ctx, "outputs.o")
    }
}
