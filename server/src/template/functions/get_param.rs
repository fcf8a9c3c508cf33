//! `get_param: name` or `get_param: [name, path...]`.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope, select_path};
use crate::template::error::{TemplateError, TemplateErrorKind};
use crate::template::version::HotVersion;

/// `get_param`.
pub struct GetParam;

fn split(args: &Value) -> Option<(&str, &[Value])> {
    match args {
        Value::String(name) => Some((name, &[])),
        Value::Array(items) => match items.split_first() {
            Some((Value::String(name), rest)) => Some((name, rest)),
            _ => None,
        },
        _ => None,
    }
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
        // Arguments built by other functions can only be checked at run time.
        if super::contains_call(args, scope.version()) {
            return Ok(());
        }
        let (name, _) = split(args).ok_or_else(|| {
            TemplateError::at(
                path,
                "Arguments to \"get_param\" must be a parameter name or a list [name, path...]",
            )
        })?;
        if !scope.has_param(name) {
            return Err(TemplateError::at(
                path,
                format!("The Parameter ({name}) was not provided."),
            )
            .with_kind(TemplateErrorKind::ParameterMissing));
        }
        Ok(())
    }

    fn evaluate(
        &self,
        args: Value,
        _: HotVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let (name, steps) = split(&args).ok_or_else(|| {
            TemplateError::at(
                path,
                "Arguments to \"get_param\" must be a parameter name or a list [name, path...]",
            )
        })?;
        let value = ctx.param(name).ok_or_else(|| {
            TemplateError::at(path, format!("The Parameter ({name}) was not provided."))
                .with_kind(TemplateErrorKind::ParameterMissing)
        })?;
        if steps.is_empty() {
            return Ok(value);
        }
        // Heat turns any failure while walking the path into an empty string.
        Ok(select_path(&value, steps)
            .cloned()
            .unwrap_or(Value::String(String::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn plain_and_path_lookups() {
        let mut ctx = FixedContext::default();
        ctx.params.insert("p".into(), json!({"a": [10, 20]}));
        assert_eq!(
            eval(json!({"get_param": "p"}), &ctx).unwrap(),
            json!({"a": [10, 20]})
        );
        assert_eq!(
            eval(json!({"get_param": ["p", "a", 1]}), &ctx).unwrap(),
            json!(20)
        );
        assert_eq!(
            eval(json!({"get_param": ["p", "a", "1"]}), &ctx).unwrap(),
            json!(20)
        );
        assert_eq!(
            eval(json!({"get_param": ["p", "zz"]}), &ctx).unwrap(),
            json!("")
        );
        let err = eval(json!({"get_param": "nope"}), &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "outputs.o.get_param: The Parameter (nope) was not provided."
        );
    }
}
