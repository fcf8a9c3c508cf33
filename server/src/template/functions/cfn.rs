//! CFN functions (in CFN templates and, most of them, HOT 2013-05-23): `Ref`, `Fn::Base64`,
//! `Fn::GetAZs` and `Fn::FindInMap`.

use serde_json::Value;

use super::get_resource::invalid_reference;
use super::str_replace::key_error;
use super::{EvalContext, Function, ValidationScope, is_call, python};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// `Ref: name` — the resource's reference id if `name` is a resource (a dependency, as
/// `get_resource`), else the parameter's value. With `params_only` (conditions of AWS
/// templates), parameters only.
pub struct Ref {
    /// Parameters only (Heat's `ParamRef`).
    pub params_only: bool,
}

impl Function for Ref {
    fn name(&self) -> &'static str {
        "Ref"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        if is_call(args, scope.version()) {
            return Ok(());
        }
        let name = python::str(args);
        let found = (!self.params_only && scope.has_resource(&name)) || scope.has_param(&name);
        if found {
            Ok(())
        } else {
            Err(invalid_reference(&name, path))
        }
    }

    fn dependencies(&self, args: &Value, out: &mut Vec<String>) {
        // A parameter's name is dropped by the caller, which knows the resources.
        if let (false, Some(name)) = (self.params_only, args.as_str()) {
            out.push(name.to_string());
        }
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let name = python::str(&args);
        if !self.params_only
            && let Some(reference) = ctx.resource_reference(&name)
        {
            return Ok(Value::String(reference));
        }
        ctx.param(&name)
            .ok_or_else(|| invalid_reference(&name, path))
    }
}

/// `Fn::Base64: text` — the text unchanged (Heat takes user data as plain text).
pub struct Base64;

impl Function for Base64 {
    fn name(&self) -> &'static str {
        "Fn::Base64"
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        match args {
            Value::String(_) => Ok(args),
            _ => Err(TemplateError::at(
                path,
                "\"Fn::Base64\" argument must be a string",
            )),
        }
    }
}

/// `Fn::GetAZs: region` — the availability zones: `["nova"]`, as Heat answers without Nova.
pub struct GetAzs;

impl Function for GetAzs {
    fn name(&self) -> &'static str {
        "Fn::GetAZs"
    }

    fn evaluate(
        &self,
        _: Value,
        _: TemplateVersion,
        _: &dyn EvalContext,
        _: &str,
    ) -> Result<Value, TemplateError> {
        Ok(Value::Array(vec![Value::String("nova".into())]))
    }
}

/// `Fn::FindInMap: [mapping, key, value]` — `Mappings[mapping][key][value]`.
pub struct FindInMap;

/// The three names, or Python's message for unpacking the wrong number of them.
fn three(args: &Value) -> Result<[&Value; 3], String> {
    match args {
        Value::Array(items) => match items.as_slice() {
            [a, b, c] => Ok([a, b, c]),
            short if short.len() < 3 => Err(key_error(&format!(
                "not enough values to unpack (expected 3, got {})",
                short.len()
            ))),
            _ => Err(key_error("too many values to unpack (expected 3)")),
        },
        other => Err(format!(
            "cannot unpack non-iterable {} object",
            python::type_name(other)
        )),
    }
}

impl Function for FindInMap {
    fn name(&self) -> &'static str {
        "Fn::FindInMap"
    }

    fn validate(
        &self,
        args: &Value,
        _: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        three(args)
            .map(|_| ())
            .map_err(|m| TemplateError::at(path, m))
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let err = |m: String| TemplateError::at(path, m);
        let [map, key, value] = three(&args).map_err(err)?.map(python::str);
        let mapping = ctx.mapping(&map).ok_or_else(|| {
            err(format!(
                "The mapping \"{map}\" is not in the Mappings section"
            ))
        })?;
        let entry = mapping
            .get(&key)
            .ok_or_else(|| err(format!("The key \"{key}\" is not in mapping \"{map}\"")))?;
        entry.get(&value).cloned().ok_or_else(|| {
            err(format!(
                "The key \"{value}\" is not in mapping \"{map}\" under \"{key}\""
            ))
        })
    }
}

#[cfg(test)]
#[path = "cfn_tests.rs"]
mod tests;
