//! `get_resource: name` — the resource's reference id; creates a dependency.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope};
use crate::template::error::{TemplateError, TemplateErrorKind};
use crate::template::version::TemplateVersion;

/// `get_resource`.
pub struct GetResource;

/// Heat's `InvalidTemplateReference` message.
pub fn invalid_reference(name: &str, path: &str) -> TemplateError {
    // The path is inside the message already, as in Heat.
    TemplateError::new(
        TemplateErrorKind::InvalidReference,
        format!("The specified reference \"{name}\" (in {path}) is incorrect."),
    )
    .pointing_at(path)
}

impl Function for GetResource {
    fn name(&self) -> &'static str {
        "get_resource"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        let name = args.as_str().ok_or_else(|| {
            TemplateError::at(path, "Argument to \"get_resource\" must be a string")
        })?;
        if !scope.has_resource(name) {
            return Err(invalid_reference(name, path));
        }
        Ok(())
    }

    fn dependencies(&self, args: &Value, out: &mut Vec<String>) {
        if let Some(name) = args.as_str() {
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
        let name = args.as_str().ok_or_else(|| {
            TemplateError::at(path, "Argument to \"get_resource\" must be a string")
        })?;
        ctx.resource_reference(name)
            .map(Value::String)
            .ok_or_else(|| invalid_reference(name, path))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn returns_reference_or_error() {
        let mut ctx = FixedContext::default();
        ctx.refs.insert("srv".into(), "abc".into());
        assert_eq!(
            eval(json!({"get_resource": "srv"}), &ctx).unwrap(),
            json!("abc")
        );
        let err = eval(json!({"get_resource": "nope"}), &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The specified reference \"nope\" (in outputs.o.get_resource) is incorrect."
        );
    }
}
