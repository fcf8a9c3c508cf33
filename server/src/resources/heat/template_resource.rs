//! Provider templates (Heat's `TemplateResource`): a resource whose type is a template
//! (`type: thing.yaml`, or a `resource_registry` entry mapping a type to one), found in the
//! stack's files map. Its properties are the template's parameters, its attributes the
//! template's outputs, and it runs as a nested stack. An output `OS::stack_id` is its
//! reference id; otherwise the nested stack's ARN is.

use async_trait::async_trait;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use updraft_hooks::deployment::python_str;

use super::stack_resource::{
    Quote, as_reference, child_environment, child_request, enter, parameter_defaults, run,
    stack_arn, template_from_files, validate_child,
};
use crate::engine::nested::{self, NestedDefinition};
use crate::resources::properties::PropertySchema;
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, StackInputs, UpdateKind,
};
use crate::store::ResourceRow;
use crate::template::constraints::str_to_num;
use crate::template::error::join;
use crate::template::functions::{contains_call, json_text::python_dumps_unsorted};
use crate::template::parameters::{ParamType, ParameterDecl};
use crate::template::{Template, TemplateError};

/// The output whose value is the resource's reference id.
pub const STACK_ID_OUTPUT: &str = "OS::stack_id";

/// A resource implemented by the provider template named `template` (its files-map key).
pub struct TemplateResource {
    template: String,
}

impl TemplateResource {
    /// The type for provider template `template`.
    pub fn new(template: &str) -> Self {
        TemplateResource {
            template: template.to_string(),
        }
    }
}

fn failed(message: impl Into<String>) -> ResourceError {
    ResourceError::Failed(message.into())
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// A property value checked as the property a parameter of `param_type` makes (Heat's
/// `Schema.from_parameter`: string, number, list for `comma_delimited_list`, map for
/// `json`, boolean; lists and maps convert from strings, and a `json` one takes a list).
fn coerce_property(
    param_type: ParamType,
    value: &Value,
    path: &str,
) -> Result<Value, TemplateError> {
    let wrong = |expected: &str| {
        TemplateError::at(
            path,
            format!("Value must be {expected}, not {}", describe(value)),
        )
    };
    match (param_type, value) {
        (ParamType::String, Value::String(_)) => Ok(value.clone()),
        (ParamType::String, Value::Bool(_) | Value::Number(_)) => {
            Ok(Value::String(python_str(value)))
        }
        (ParamType::String, _) => Err(wrong("a string")),
        (ParamType::Number, Value::Number(_)) => Ok(value.clone()),
        (ParamType::Number, Value::String(s)) => {
            str_to_num(s).map(Value::Number).ok_or_else(|| {
                TemplateError::at(path, format!("could not convert string to float: '{s}'"))
            })
        }
        (ParamType::Number, _) => Err(wrong("a number")),
        (ParamType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (ParamType::Boolean, Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            other => Err(TemplateError::at(
                path,
                format!("\"{other}\" is not a valid boolean"),
            )),
        },
        (ParamType::Boolean, _) => Err(wrong("a boolean")),
        (ParamType::CommaDelimitedList, Value::Array(_)) => Ok(value.clone()),
        (ParamType::CommaDelimitedList, Value::String(s)) if s.is_empty() => {
            Ok(Value::Array(Vec::new()))
        }
        (ParamType::CommaDelimitedList, Value::String(s)) => Ok(Value::Array(
            s.split(',').map(|p| Value::String(p.to_string())).collect(),
        )),
        (ParamType::CommaDelimitedList, _) => Err(wrong("a list")),
        (ParamType::Json, Value::Object(_) | Value::String(_)) => Ok(value.clone()),
        (ParamType::Json, Value::Array(_)) => Ok(Value::String(python_dumps_unsorted(value))),
        (ParamType::Json, _) => Err(wrong("a map")),
    }
}

/// The parameter value a checked property gives (Heat's `child_params`): lists become
/// comma-delimited strings (a list of maps as `.member.N.key=value` items), the rest is
/// passed on as it is.
fn parameter_value(value: Value) -> Value {
    let Value::Array(items) = value else {
        return value;
    };
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => python_str(other),
    };
    let joined = if items.first().is_some_and(Value::is_object) {
        let mut parts = Vec::new();
        for (i, item) in items.iter().enumerate() {
            for (k, v) in item.as_object().into_iter().flatten() {
                parts.push(format!(".member.{i}.{k}={}", text(v)));
            }
        }
        parts.join(",")
    } else {
        items.iter().map(text).collect::<Vec<_>>().join(",")
    };
    Value::String(joined)
}

/// The nested stack's parameters from the resource's properties, checked against the
/// provider template's parameters (`decls`; `invalid`: declared too badly to use, reported
/// by the nested template's own check). Returns the parameters, whether every property
/// was resolved, and the problems, at `path` (`resources.<name>.properties`).
pub fn child_params(
    decls: &IndexMap<String, ParameterDecl>,
    invalid: &[String],
    props: &Map<String, Value>,
    defaults: &Map<String, Value>,
    path: &str,
    is_unresolved: &dyn Fn(&Value) -> bool,
) -> (Map<String, Value>, bool, Vec<TemplateError>) {
    let mut errors = Vec::new();
    for key in props.keys() {
        if !decls.contains_key(key) && !invalid.contains(key) {
            errors.push(
                TemplateError::at(path, format!("Unknown Property {key}"))
                    .pointing_at(join(path, key)),
            );
        }
    }
    let mut params = Map::new();
    let mut complete = true;
    for (name, decl) in decls {
        match props.get(name).filter(|v| !v.is_null()) {
            Some(v) if is_unresolved(v) => complete = false,
            Some(v) => match coerce_property(decl.param_type, v, &join(path, name)) {
                Ok(v) => {
                    params.insert(name.clone(), parameter_value(v));
                }
                Err(e) => errors.push(e),
            },
            None => {
                let has_default = decl.default.is_some()
                    || decl.default_invalid
                    || defaults.get(name).is_some_and(|v| !v.is_null());
                if !has_default {
                    errors.push(TemplateError::at(
                        path,
                        format!("Property {name} not assigned"),
                    ));
                }
            }
        }
    }
    (params, complete, errors)
}

impl TemplateResource {
    async fn converge(
        &self,
        ctx: &ResourceContext<'_>,
        current: Option<&ResourceRow>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        let owner = nested::owner(ctx).await?;
        let doc =
            template_from_files(&owner.files, &self.template, Quote::Double).map_err(failed)?;
        let parsed = Template::parse(&doc).map_err(|e| failed(e.to_string()))?;
        let path = format!("resources.{}.properties", ctx.name);
        let defaults = parameter_defaults(&owner.environment);
        let (params, _, errors) = child_params(
            &parsed.parameters,
            &parsed.invalid_parameters,
            props,
            &defaults,
            &path,
            &|_| false,
        );
        if let Some(e) = errors.first() {
            return Err(failed(e.to_string()));
        }
        let def = NestedDefinition {
            template: doc,
            parameters: params,
            environment: child_environment(
                &owner.environment,
                Some(ctx.name),
                Some(&self.template),
            ),
            files: owner.files.clone(),
            timeout_mins: None,
        };
        let state = run(ctx, current, def).await?;
        let outputs = nested::outputs(ctx, &state.stack).await?;
        let stack = &state.stack;
        let reference = match outputs.get(STACK_ID_OUTPUT).filter(|v| !v.is_null()) {
            Some(v) => as_reference(v),
            None => stack_arn(&stack.project, &stack.name, &stack.id),
        };
        Ok(ResourceOutcome {
            physical_id: stack.id.clone(),
            reference_id: Some(reference),
            attributes: outputs,
            data: Map::new(),
        })
    }
}

#[async_trait]
impl ResourceType for TemplateResource {
    fn type_name(&self) -> &'static str {
        "TemplateResource"
    }
    /// The schema is the template's parameters, checked in
    /// [`validate_nested`](ResourceType::validate_nested) and when acting.
    fn properties_schema(&self) -> &'static [PropertySchema] {
        &[]
    }
    fn accepts_any_properties(&self) -> bool {
        true
    }
    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }
    /// The template's outputs (Heat does not check them before the stack runs either).
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    /// Every property is updatable: the nested stack decides what changes.
    fn update_kind(&self, _: &[String], _: &Value, _: &Map<String, Value>) -> UpdateKind {
        UpdateKind::InPlace
    }
    fn always_update(&self) -> bool {
        true
    }
    fn validate_nested(&self, inputs: &StackInputs<'_>) -> Vec<TemplateError> {
        // The request's own provider resources always have their properties checked; deeper
        // ones only within the check's budget.
        let nesting = enter(inputs);
        if nesting.is_none() && inputs.nesting.depth > 0 {
            return Vec::new();
        }
        let doc = match template_from_files(inputs.files, &self.template, Quote::Double) {
            Ok(doc) => doc,
            Err(message) => {
                return vec![TemplateError::at(
                    format!("resources.{}", inputs.name),
                    message,
                )];
            }
        };
        // A template that does not parse is reported by the nested check below.
        let (params, complete) = match Template::parse_collecting(&doc).0 {
            Some(parsed) => {
                let defaults = parameter_defaults(inputs.environment);
                let (params, complete, errors) = child_params(
                    &parsed.parameters,
                    &parsed.invalid_parameters,
                    inputs.properties,
                    &defaults,
                    inputs.path,
                    &|v| contains_call(v, inputs.version),
                );
                if !errors.is_empty() {
                    return errors;
                }
                (params, complete)
            }
            None => (Map::new(), false),
        };
        let Some(nesting) = nesting else {
            return Vec::new();
        };
        let request = child_request(
            doc,
            params,
            child_environment(inputs.environment, Some(inputs.name), Some(&self.template)),
            inputs.files.clone(),
        );
        validate_child(inputs, nesting, &self.template, &request, complete)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // A resumed create carries on with its recorded nested stack (`nested::create`).
        self.converge(ctx, None, props).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        self.converge(ctx, Some(current), props).await
    }
    async fn delete(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
    ) -> Result<(), ResourceError> {
        nested::delete(ctx, current).await
    }
}

#[cfg(test)]
mod tests;
