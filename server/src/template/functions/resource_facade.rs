//! `resource_facade: metadata|deletion_policy|update_policy` and CFN's
//! `Fn::ResourceFacade: Metadata|DeletionPolicy|UpdatePolicy` — a property of the parent
//! resource, from inside the provider template of a nested stack.

use serde_json::Value;

use super::{EvalContext, Function, ValidationScope};
use crate::template::error::TemplateError;
use crate::template::version::TemplateVersion;

/// What `resource_facade` reads from the parent resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FacadeAttribute {
    /// The parent's metadata.
    Metadata,
    /// The parent's deletion policy (`Delete` when it has none).
    DeletionPolicy,
    /// The parent's update policy (`{}` when it has none).
    UpdatePolicy,
}

const ALL: [FacadeAttribute; 3] = [
    FacadeAttribute::Metadata,
    FacadeAttribute::DeletionPolicy,
    FacadeAttribute::UpdatePolicy,
];

impl FacadeAttribute {
    /// The HOT argument (`deletion_policy`).
    pub fn hot_name(self) -> &'static str {
        match self {
            FacadeAttribute::Metadata => "metadata",
            FacadeAttribute::DeletionPolicy => "deletion_policy",
            FacadeAttribute::UpdatePolicy => "update_policy",
        }
    }

    /// The CFN argument (`DeletionPolicy`).
    pub fn cfn_name(self) -> &'static str {
        match self {
            FacadeAttribute::Metadata => "Metadata",
            FacadeAttribute::DeletionPolicy => "DeletionPolicy",
            FacadeAttribute::UpdatePolicy => "UpdatePolicy",
        }
    }
}

/// `resource_facade`, or with `cfn` `Fn::ResourceFacade`.
pub struct ResourceFacade {
    /// CFN spelling of the function and its arguments.
    pub cfn: bool,
}

impl ResourceFacade {
    fn fn_name(&self) -> &'static str {
        if self.cfn {
            "Fn::ResourceFacade"
        } else {
            "resource_facade"
        }
    }

    fn attribute(&self, args: &Value) -> Result<FacadeAttribute, String> {
        let spelling = |a: FacadeAttribute| if self.cfn { a.cfn_name() } else { a.hot_name() };
        ALL.into_iter()
            .find(|a| args.as_str() == Some(spelling(*a)))
            .ok_or_else(|| {
                let allowed: Vec<&str> = ALL.into_iter().map(spelling).collect();
                format!(
                    "Incorrect arguments to \"{}\" should be one of: {}",
                    self.fn_name(),
                    allowed.join(", ")
                )
            })
    }
}

impl Function for ResourceFacade {
    fn name(&self) -> &'static str {
        self.fn_name()
    }

    fn validate(
        &self,
        args: &Value,
        _: &dyn ValidationScope,
        path: &str,
    ) -> Result<(), TemplateError> {
        self.attribute(args)
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
        let attribute = self
            .attribute(&args)
            .map_err(|m| TemplateError::at(path, m))?;
        ctx.resource_facade(attribute).ok_or_else(|| {
            // What Heat says when the stack has no parent resource.
            let member = match attribute {
                FacadeAttribute::Metadata => "metadata_get",
                _ => "t",
            };
            TemplateError::at(
                path,
                format!("'NoneType' object has no attribute '{member}'"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{AWS, FixedContext, LATEST, check_cases};
    use serde_json::json;

    #[test]
    fn reads_the_parent_or_fails_outside_a_nested_stack() {
        let mut nested = FixedContext::default();
        nested.facade.insert("metadata", json!({"foo": "bar"}));
        nested.facade.insert("deletion_policy", json!("Retain"));
        nested.facade.insert("update_policy", json!({}));
        check_cases(
            LATEST,
            &nested,
            &[
                (
                    json!({"resource_facade": "metadata"}),
                    Ok(json!({"foo": "bar"})),
                ),
                (
                    json!({"resource_facade": "deletion_policy"}),
                    Ok(json!("Retain")),
                ),
                (json!({"resource_facade": "update_policy"}), Ok(json!({}))),
                (
                    json!({"resource_facade": "wibble"}),
                    Err(
                        "outputs.o.resource_facade: Incorrect arguments to \"resource_facade\" should be one of: metadata, deletion_policy, update_policy",
                    ),
                ),
            ],
        );
        check_cases(
            AWS,
            &nested,
            &[
                (
                    json!({"Fn::ResourceFacade": "DeletionPolicy"}),
                    Ok(json!("Retain")),
                ),
                (
                    json!({"Fn::ResourceFacade": "metadata"}),
                    Err(
                        "outputs.o.Fn::ResourceFacade: Incorrect arguments to \"Fn::ResourceFacade\" should be one of: Metadata, DeletionPolicy, UpdatePolicy",
                    ),
                ),
            ],
        );
        let top = FixedContext::default();
        check_cases(
            LATEST,
            &top,
            &[
                (
                    json!({"resource_facade": "metadata"}),
                    Err(
                        "outputs.o.resource_facade: 'NoneType' object has no attribute 'metadata_get'",
                    ),
                ),
                (
                    json!({"resource_facade": "update_policy"}),
                    Err("outputs.o.resource_facade: 'NoneType' object has no attribute 't'"),
                ),
            ],
        );
    }
}
