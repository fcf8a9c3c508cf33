//! `get_attr: [resource, attribute, path...]` in its per-version forms, and `Fn::GetAtt`.
//! Null while the resource is not ready.

use serde_json::Value;

use super::get_resource::invalid_reference;
use super::{EvalContext, Function, ValidationScope, is_call, python, walk};
use crate::template::error::{TemplateError, TemplateErrorKind};
use crate::template::version::TemplateVersion;

/// Which of Heat's `get_attr` classes a version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrForm {
    /// 2013-05-23 (`GetAttThenSelect`): the attribute is read, then the path walked in it.
    ThenSelect,
    /// 2014-10-16 and 2015-04-30 (`GetAtt`): the path is handed to the resource.
    PathAware,
    /// 2015-10-15 on (`GetAttAllAttributes`): also `[resource]` for all attributes.
    AllAttributes,
    /// `Fn::GetAtt: [resource, attribute]` (CFN), no path.
    Cfn,
}

/// `get_attr` / `Fn::GetAtt`.
pub struct GetAttr(pub AttrForm);

/// Walks an attribute path as Heat's `select_from_attribute`: map keys and list indexes
/// (no string-to-integer conversion); a failed step gives null.
pub fn select_attribute(value: &Value, path: &[Value]) -> Value {
    walk(value, path, false).unwrap_or(Value::Null)
}

/// The resource, the attribute (absent for all attributes) and the path.
type Parts<'a> = (&'a Value, Option<&'a Value>, &'a [Value]);

impl GetAttr {
    fn fn_name(&self) -> &'static str {
        match self.0 {
            AttrForm::Cfn => "Fn::GetAtt",
            _ => "get_attr",
        }
    }

    /// Heat's argument parsing for this form.
    fn parts<'a>(&self, args: &'a Value) -> Result<Parts<'a>, String> {
        let name = self.fn_name();
        let not_list = || format!("Argument to \"{name}\" must be a list");
        if self.0 == AttrForm::Cfn {
            return match args.as_array().map(Vec::as_slice) {
                Some([resource, attribute]) => Ok((resource, Some(attribute), &[])),
                _ => Err(format!(
                    "Arguments to \"{name}\" must be of the form [resource_name, attribute]"
                )),
            };
        }
        if self.0 == AttrForm::AllAttributes {
            if !python::truthy(args) {
                return Err(format!(
                    "Arguments to \"{name}\" can be of the next forms: [resource_name] or [resource_name, attribute, (path), ...]"
                ));
            }
            if let Some([resource]) = args.as_array().map(Vec::as_slice) {
                return Ok((resource, None, &[]));
            }
        }
        let items = args.as_array().ok_or_else(not_list)?;
        match items.as_slice() {
            [resource, attribute, path @ ..] => Ok((resource, Some(attribute), path)),
            _ => Err(format!(
                "Arguments to \"{name}\" must be of the form [resource_name, attribute, (path), ...]"
            )),
        }
    }
}

impl Function for GetAttr {
    fn name(&self) -> &'static str {
        self.fn_name()
    }

    fn validate(
        &self,
        args: &Value,
        scope: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        if is_call(args, scope.version()) {
            return Err(TemplateError::at(
                path,
                format!("Argument to \"{}\" must be a list", self.fn_name()),
            ));
        }
        let (resource, attribute, _) = self.parts(args).map_err(|m| TemplateError::at(path, m))?;
        // The resource decides the dependency, so it must be known before anything runs.
        let resource = resource.as_str().ok_or_else(|| {
            TemplateError::at(
                path,
                format!(
                    "The resource name in \"{}\" must be a literal string",
                    self.fn_name()
                ),
            )
        })?;
        if !scope.has_resource(resource) {
            return Err(invalid_reference(resource, path));
        }
        match attribute {
            Some(attr) if !is_call(attr, scope.version()) => scope
                .check_attribute(resource, &python::str(attr))
                .map_err(|m| {
                    TemplateError::at(path, m).with_kind(TemplateErrorKind::InvalidReference)
                }),
            _ => Ok(()),
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
        _: TemplateVersion,
        ctx: &dyn EvalContext,
        path: &str,
    ) -> Result<Value, TemplateError> {
        let (resource, attribute, steps) =
            self.parts(&args).map_err(|m| TemplateError::at(path, m))?;
        let resource = python::str(resource);
        if ctx.resource_reference(&resource).is_none() {
            return Err(invalid_reference(&resource, path));
        }
        let Some(attribute) = attribute else {
            return Ok(ctx.resource_attributes(&resource));
        };
        let attribute = python::str(attribute);
        Ok(match self.0 {
            AttrForm::PathAware | AttrForm::AllAttributes => {
                ctx.resource_attribute_at(&resource, &attribute, steps)
            }
            AttrForm::ThenSelect | AttrForm::Cfn => {
                select_attribute(&ctx.resource_attribute(&resource, &attribute), steps)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{AWS, FixedContext, LATEST, check_cases, hot};
    use crate::template::version::HotVersion;
    use serde_json::json;

    fn context() -> FixedContext {
        let mut ctx = FixedContext::default();
        ctx.refs.insert("r".into(), "id".into());
        ctx.attrs.insert(
            "r".into(),
            json!({"a": {"b": [1, 2]}, "s": "xyz"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        ctx
    }

    #[test]
    fn attribute_paths_and_all_attributes() {
        let ctx = context();
        check_cases(
            LATEST,
            &ctx,
            &[
                (json!({"get_attr": ["r", "a", "b", 1]}), Ok(json!(2))),
                (json!({"get_attr": ["r", "a", "b", -1]}), Ok(json!(2))),
                (json!({"get_attr": ["r", "a", "b", "1"]}), Ok(json!(null))),
                (json!({"get_attr": ["r", "s", 1]}), Ok(json!("y"))),
                (json!({"get_attr": ["r", "a", "zz"]}), Ok(json!(null))),
                (json!({"get_attr": ["r", "missing"]}), Ok(json!(null))),
                (
                    json!({"get_attr": ["r"]}),
                    Ok(json!({"a": {"b": [1, 2]}, "s": "xyz"})),
                ),
                (
                    json!({"get_attr": []}),
                    Err(
                        "outputs.o.get_attr: Arguments to \"get_attr\" can be of the next forms: [resource_name] or [resource_name, attribute, (path), ...]",
                    ),
                ),
                (
                    json!({"get_attr": {"r": "a"}}),
                    Err("outputs.o.get_attr: Argument to \"get_attr\" must be a list"),
                ),
                (
                    json!({"get_attr": ["nope", "a"]}),
                    Err("The specified reference \"nope\" (in outputs.o.get_attr) is incorrect."),
                ),
                (
                    json!({"get_attr": ["r", "bad"]}),
                    Err("outputs.o.get_attr: The Referenced Attribute (r bad) is incorrect."),
                ),
            ],
        );
    }

    #[test]
    fn older_forms_need_an_attribute() {
        let ctx = context();
        for version in [HotVersion::V2013_05_23, HotVersion::V2015_04_30] {
            check_cases(
                hot(version),
                &ctx,
                &[
                    (json!({"get_attr": ["r", "a", "b", 0]}), Ok(json!(1))),
                    (
                        json!({"get_attr": ["r"]}),
                        Err(
                            "outputs.o.get_attr: Arguments to \"get_attr\" must be of the form [resource_name, attribute, (path), ...]",
                        ),
                    ),
                ],
            );
        }
    }

    #[test]
    fn cfn_get_att_takes_exactly_two() {
        let ctx = context();
        check_cases(
            AWS,
            &ctx,
            &[
                (json!({"Fn::GetAtt": ["r", "s"]}), Ok(json!("xyz"))),
                (
                    json!({"Fn::GetAtt": ["r", "a", "b"]}),
                    Err(
                        "outputs.o.Fn::GetAtt: Arguments to \"Fn::GetAtt\" must be of the form [resource_name, attribute]",
                    ),
                ),
            ],
        );
    }
}
