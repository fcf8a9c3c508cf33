//! Fixtures for function tests: a fixed context and scope, and a table-driven checker.

use super::*;
use crate::template::version::{CfnVersion, HotVersion};
use std::collections::HashMap;

/// The newest HOT version, where most tests run.
pub const LATEST: TemplateVersion = TemplateVersion::Hot(HotVersion::V2021_04_16);
/// `AWSTemplateFormatVersion: 2010-09-09`.
pub const AWS: TemplateVersion = TemplateVersion::Cfn(CfnVersion::Aws2010_09_09);

/// A HOT version as a [`TemplateVersion`].
pub fn hot(v: HotVersion) -> TemplateVersion {
    TemplateVersion::Hot(v)
}

/// A fixed context (and validation scope) for function tests.
#[derive(Default)]
pub struct FixedContext {
    pub params: HashMap<String, Value>,
    pub refs: HashMap<String, String>,
    pub attrs: HashMap<String, Map<String, Value>>,
    pub files: HashMap<String, String>,
    pub facade: HashMap<&'static str, Value>,
    pub mappings: HashMap<String, Value>,
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
    fn file(&self, key: &str) -> Option<String> {
        self.files.get(key).cloned()
    }
    fn resource_facade(&self, kind: FacadeAttribute) -> Option<Value> {
        self.facade.get(kind.hot_name()).cloned()
    }
    fn mapping(&self, name: &str) -> Option<Value> {
        self.mappings.get(name).cloned()
    }
}

/// Validation over a [`FixedContext`] at one version: its params and refs exist.
pub struct FixedScope<'a>(pub &'a FixedContext, pub TemplateVersion);

impl ValidationScope for FixedScope<'_> {
    fn version(&self) -> TemplateVersion {
        self.1
    }
    fn has_param(&self, name: &str) -> bool {
        self.0.params.contains_key(name)
    }
    fn has_resource(&self, name: &str) -> bool {
        self.0.refs.contains_key(name)
    }
    fn check_attribute(&self, resource: &str, attribute: &str) -> Result<(), String> {
        if attribute == "bad" {
            Err(format!(
                "The Referenced Attribute ({resource} {attribute}) is incorrect."
            ))
        } else {
            Ok(())
        }
    }
}

/// Resolves at the newest version, at path `outputs.o`.
pub fn eval(template: Value, ctx: &FixedContext) -> Result<Value, TemplateError> {
    eval_at(template, LATEST, ctx)
}

/// Validates, then resolves, at `version`, at path `outputs.o`.
pub fn eval_at(
    template: Value,
    version: TemplateVersion,
    ctx: &FixedContext,
) -> Result<Value, TemplateError> {
    validate(&template, &FixedScope(ctx, version), "outputs.o")?;
    resolve(&template, version, ctx, "outputs.o")
}

/// A test case: an input and its value or its error's full text.
pub type Case<'a> = (Value, Result<Value, &'a str>);

/// Checks a table of cases.
#[track_caller]
pub fn check_cases(version: TemplateVersion, ctx: &FixedContext, cases: &[Case<'_>]) {
    for (input, expected) in cases {
        let got = eval_at(input.clone(), version, ctx).map_err(|e| e.to_string());
        let expected = expected.clone().map_err(str::to_string);
        assert_eq!(got, expected, "input: {input} at {version}");
    }
}
