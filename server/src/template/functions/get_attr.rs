//! `get_attr: [resource, attribute, path...]`, and from 2015-10-15 `get_attr: [resource]`
//! for all attributes. Null while the resource is not ready.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope, select_path};
use crate::template::error::{TemplateError, TemplateErrorKind};
use crate::template::version::HotVersion;

use super::get_resource::invalid_reference;

/// `get_attr`.
pub struct GetAttr;

const SHAPE: &str = "Arguments to \"get_attr\" must be a list [resource, attribute, path...]";

fn split(args: &Value) -> Option<(&str, Option<&str>, &[Value])> {
    let items = args.as_array()?;
    let (first, rest) = items.split_first()?;
    let resource = first.as_str()?;
    match rest.split_first() {
        None => Some((resource, None, &[])),
        Some((attr, path)) => Some((resource, Some(attr.as_str()?), path)),
    }
}

impl Function for GetAttr {
    fn name(&self) -> &'static str {
        "get_attr"
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        if super::contains_call(args, scope.version()) {
            // Only the resource name must be literal; it decides the dependency.
            let first = args
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str);
            return match first {
                Some(name) if scope.has_resource(name) => Ok(()),
                Some(name) => Err(invalid_reference(name, path)),
                None => Err(TemplateError::at(path, SHAPE)),
            };
        }
        let (resource, attribute, _) = split(args).ok_or_else(|| TemplateError::at(path, SHAPE))?;
        if !scope.has_resource(resource) {
            return Err(invalid_reference(resource, path));
        }
        match attribute {
            None if scope.version() < HotVersion::V2015_10_15 => {
                Err(TemplateError::at(path, SHAPE))
            }
            None => Ok(()),
            Some(attr) => scope.check_attribute(resource, attr).map_err(|m| {
                TemplateError::at(path, m).with_kind(TemplateErrorKind::InvalidReference)
            }),
        }
    }

    fn dependencies(&self, args: &Value, out: &mut Vec<String>) {
        if let Some(name) = args
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
        {
            out.push(name.to_string());
        }
    }

    fn evaluate(
        &self,
        args: Value,
        _: HotVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let (resource, attribute, steps) =
            split(&args).ok_or_else(|| TemplateError::at(path, SHAPE))?;
        if ctx.resource_reference(resource).is_none() {
            return Err(invalid_reference(resource, path));
        }
        let Some(attribute) = attribute else {
            return Ok(ctx.resource_attributes(resource));
        };
        let value = ctx.resource_attribute(resource, attribute);
        Ok(select_path(&value, steps).cloned().unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{FixedContext, eval};
    use serde_json::json;

    #[test]
    fn attribute_with_path_and_all_attributes() {
        let mut ctx = FixedContext::default();
        ctx.refs.insert("r".into(), "id".into());
        ctx.attrs.insert(
            "r".into(),
            json!({"a": {"b": [1, 2]}}).as_object().unwrap().clone(),
        );
        assert_eq!(
            eval(json!({"get_attr": ["r", "a", "b", 1]}), &ctx).unwrap(),
            json!(2)
        );
        assert_eq!(
            eval(json!({"get_attr": ["r", "a", "zz"]}), &ctx).unwrap(),
            json!(null)
        );
        assert_eq!(
            eval(json!({"get_attr": ["r"]}), &ctx).unwrap(),
            json!({"a": {"b": [1, 2]}})
        );
        assert_eq!(
            eval(json!({"get_attr": ["r", "missing"]}), &ctx).unwrap(),
            json!(null)
        );
    }
}
