//! `get_param: name` or `get_param: [name, path...]`.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope, python, walk};
use crate::template::error::{TemplateError, TemplateErrorKind};
use crate::template::version::TemplateVersion;

/// `get_param`.
pub struct GetParam;

/// The parameter name and the path, or Heat's message for the wrong shape.
fn split(args: &Value) -> Result<(&Value, &[Value]), &'static str> {
    if !python::truthy(args) {
        return Err("Function \"get_param\" must have arguments");
    }
    match args {
        Value::String(_) => Ok((args, &[])),
        Value::Array(items) => items
            .split_first()
            .ok_or("Function \"get_param\" must have arguments"),
        _ => Err("Argument to \"get_param\" must be string or list"),
    }
}

fn name(value: &Value) -> Result<&str, &'static str> {
    value
        .as_str()
        .ok_or("Parameter name in \"get_param\" must be string")
}

fn missing(name: &str, path: &str) -> TemplateError {
    TemplateError::at(path, format!("The Parameter ({name}) was not provided."))
        .with_kind(TemplateErrorKind::ParameterMissing)
}

impl Function for GetParam {
    fn name(&self) -> &'static str {
        "get_param"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        // A name built by another function can only be checked at run time.
        if super::is_call(args, scope.version()) {
            return Ok(());
        }
        let (first, _) = split(args).map_err(|m| TemplateError::at(path, m))?;
        if super::is_call(first, scope.version()) {
            return Ok(());
        }
        let name = name(first).map_err(|m| TemplateError::at(path, m))?;
        if !scope.has_param(name) {
            return Err(missing(name, path));
        }
        Ok(())
    }

    fn evaluate(
        &self,
        args: Value,
        _: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let (first, steps) = split(&args).map_err(|m| TemplateError::at(path, m))?;
        let name = name(first).map_err(|m| TemplateError::at(path, m))?;
        let value = ctx.param(name).ok_or_else(|| missing(name, path))?;
        if steps.is_empty() {
            return Ok(value);
        }
        // Heat turns any failure while walking the path into an empty string.
        Ok(walk(&value, steps, true).unwrap_or(Value::String(String::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, LATEST, check_cases};
    use serde_json::json;

    #[test]
    fn lookups_paths_and_errors() {
        let mut ctx = FixedContext::default();
        ctx.params
            .insert("p".into(), json!({"a": [10, 20], "s": "xyz"}));
        ctx.params.insert("k".into(), json!("a"));
        check_cases(
            LATEST,
            &ctx,
            &[
                (
                    json!({"get_param": "p"}),
                    Ok(json!({"a": [10, 20], "s": "xyz"})),
                ),
                (json!({"get_param": ["p", "a", 1]}), Ok(json!(20))),
                (json!({"get_param": ["p", "a", "1"]}), Ok(json!(20))),
                (json!({"get_param": ["p", "a", -1]}), Ok(json!(20))),
                (json!({"get_param": ["p", "s", 0]}), Ok(json!("x"))),
                (json!({"get_param": ["p", "zz"]}), Ok(json!(""))),
                (json!({"get_param": ["p", "a", 5]}), Ok(json!(""))),
                (
                    json!({"get_param": ["p", {"get_param": "k"}, 0]}),
                    Ok(json!(10)),
                ),
                (
                    json!({"get_param": "nope"}),
                    Err("outputs.o.get_param: The Parameter (nope) was not provided."),
                ),
                (
                    json!({"get_param": []}),
                    Err("outputs.o.get_param: Function \"get_param\" must have arguments"),
                ),
                (
                    json!({"get_param": 3}),
                    Err("outputs.o.get_param: Argument to \"get_param\" must be string or list"),
                ),
                (
                    json!({"get_param": [3, "a"]}),
                    Err("outputs.o.get_param: Parameter name in \"get_param\" must be string"),
                ),
            ],
        );
    }
}
