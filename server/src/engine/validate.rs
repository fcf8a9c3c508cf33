//! Checking a stack request completely before anything is stored, reporting every
//! problem at once: template sections and version, parameter declarations and groups,
//! the environment, parameter values, resource types, functions and references, property
//! schemas, type-specific checks, and dependency cycles.
//!
//! Pure (no store): `POST /stacks`, `PUT`, `POST /validate` and the offline
//! `updraft template validate` all run it.

use serde_json::{Map, Value};

use super::StackRequest;
use super::graph;
use super::stack_view::StackView;
use crate::resources::{Registry, StackIdentity, StackInputs, properties};
use crate::template::environment::{self, Environment};
use crate::template::{
    Template, TemplateError, TemplateErrorKind, TemplateErrors, functions, parameters,
};

/// How parameter values are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Every parameter needs a value, and every value is checked (create, update).
    Required,
    /// Only declarations and defaults are checked; values may be missing (`POST /validate`,
    /// as Heat's non-strict validation).
    DeclarationsOnly,
    /// Values that are given are checked; missing ones are fine (`updraft template
    /// validate`, which is run before the values are known).
    GivenOnly,
}

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The template.
    pub template: Template,
    /// Resolved parameter values (empty with [`Values::DeclarationsOnly`]).
    pub params: Map<String, Value>,
    /// The parsed environment.
    pub environment: Environment,
}

/// Checks everything about `request` that can be checked before running it.
pub fn check_stack(
    registry: &Registry,
    request: &StackRequest,
    values: Values,
) -> Result<Checked, TemplateErrors> {
    let budget = std::cell::Cell::new(MAX_NESTED_CHECKS);
    check_stack_at(
        registry,
        request,
        values,
        Nesting {
            depth: 0,
            budget: &budget,
        },
    )
}

/// How many nested templates one [`check_stack`] checks at most (the rest are checked when
/// their stacks are created): a template nesting many copies of itself stays cheap.
pub const MAX_NESTED_CHECKS: usize = 1000;

/// Where a check is in a tree of nested templates.
#[derive(Debug, Clone, Copy)]
pub struct Nesting<'a> {
    /// How many nested templates below the request's own (0: the request's template).
    pub depth: usize,
    /// Nested templates the whole check may still go into.
    pub budget: &'a std::cell::Cell<usize>,
}

/// [`check_stack`] for a nested template (the nested-stack types check their templates
/// with it, see `ResourceType::validate_nested`).
pub fn check_stack_at(
    registry: &Registry,
    request: &StackRequest,
    values: Values,
    nesting: Nesting<'_>,
) -> Result<Checked, TemplateErrors> {
    let (template, mut errors) = Template::parse_collecting(&request.template);
    let Some(mut template) = template else {
        return Err(TemplateErrors(errors));
    };
    let env = match environment::parse(&request.environment) {
        Ok(env) => env,
        Err(e) => {
            errors.push(e);
            Environment::default()
        }
    };
    errors.extend(template.apply_registry(&env.registry));
    let mut supplied = env.parameters.clone();
    supplied.extend(request.parameters.clone());
    // Parameters declared too badly to use were reported already.
    supplied.retain(|name, _| !template.invalid_parameters.contains(name));
    let params = match values {
        Values::Required => {
            match parameters::resolve_values(
                &template.parameters,
                &supplied,
                &env.parameter_defaults,
            ) {
                Ok(p) => p,
                Err(found) => {
                    errors.extend(found);
                    Map::new()
                }
            }
        }
        Values::GivenOnly => {
            match parameters::resolve_values(
                &template.parameters,
                &supplied,
                &env.parameter_defaults,
            ) {
                Ok(p) => p,
                Err(found) => {
                    errors.extend(
                        found
                            .into_iter()
                            .filter(|e| e.kind != TemplateErrorKind::ParameterMissing),
                    );
                    Map::new()
                }
            }
        }
        Values::DeclarationsOnly => {
            errors.extend(parameters::unknown_parameters(
                &template.parameters,
                &[],
                &supplied,
            ));
            Map::new()
        }
    };
    // Resources whose condition is false are gone; references to them are now errors.
    if values != Values::DeclarationsOnly && errors.is_empty() {
        let stack = StackIdentity {
            id: "None".into(),
            name: String::new(),
            project: String::new(),
        };
        match template.apply_conditions(&StackView::new(stack, params.clone(), &template, &[])) {
            Ok(t) => template = t,
            Err(e) => errors.push(e),
        }
    }
    for (name, def) in &template.resources {
        let path = format!("resources.{name}.properties");
        let found = template.validate_resource(name, registry);
        // A property whose functions are wrong is not checked against its schema too
        // (`{get_parm: x}` is reported as an unknown function, not as "not a string").
        let broken: Vec<String> = found
            .iter()
            .filter_map(|e| property_of(e.location_path(), &path))
            .collect();
        errors.extend(found);
        let Some(rtype) = registry.get(&def.resource_type) else {
            continue;
        };
        let version = template.version;
        let (props, found) =
            properties::validate_all_for(rtype.as_ref(), &def.properties, &path, &|v| {
                functions::contains_call(v, version)
            });
        let found: Vec<TemplateError> = found
            .into_iter()
            .filter(|e| property_of(e.location_path(), &path).is_none_or(|p| !broken.contains(&p)))
            .collect();
        if found.is_empty() && broken.is_empty() {
            if let Err(e) = rtype.validate(&props, &path) {
                errors.push(e);
            } else {
                errors.extend(rtype.validate_nested(&StackInputs {
                    registry,
                    name,
                    path: &path,
                    properties: &props,
                    version,
                    files: &request.files,
                    environment: &env.stored,
                    nesting,
                }));
            }
        } else {
            errors.extend(found);
        }
    }
    errors.extend(template.validate_outputs(registry));
    // A bad condition name is found both when conditions are applied and by the checks.
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert(e.to_string()));
    if let Err(e) = graph::check_acyclic(&graph::dependencies(&template)) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok(Checked {
            template,
            params,
            environment: env,
        })
    } else {
        Err(TemplateErrors(errors))
    }
}

/// The top-level property (`resources.a.properties.config`) that `location` is in.
fn property_of(location: &str, properties_path: &str) -> Option<String> {
    let rest = location.strip_prefix(properties_path)?.strip_prefix('.')?;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    Some(format!("{properties_path}.{}", &rest[..end]))
}

/// Heat's `ImmutableParameterModified` when an update changes an `immutable: true`
/// parameter that both templates declare.
pub fn check_immutable(
    new_template: &Template,
    old_values: &Map<String, Value>,
    new_values: &Map<String, Value>,
) -> Result<(), TemplateError> {
    let changed = parameters::immutable_modified(&new_template.parameters, old_values, new_values);
    if changed.is_empty() {
        Ok(())
    } else {
        Err(parameters::immutable_error(&changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::loader::load_document;
    use serde_json::json;

    fn request(text: &str) -> StackRequest {
        StackRequest {
            template: load_document(text).unwrap(),
            parameters: Map::new(),
            environment: Value::Null,
            files: json!({}),
            timeout_mins: None,
            disable_rollback: true,
            tags: None,
        }
    }

    fn messages(text: &str) -> Vec<String> {
        match check_stack(&Registry::builtin(), &request(text), Values::Required) {
            Ok(_) => vec![],
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let found = messages(
            "heat_template_version: 2018-08-31
parameters:
  num: {type: number, default: 0, constraints: [{range: {min: 1}}]}
parameter_groups:
  - label: g
    parameters: [num, missing]
resources:
  a:
    type: OS::Heat::Nope
  b:
    type: OS::Heat::Value
    properties:
      value: {get_resource: nothing}
      bogus: 1
  c:
    type: OS::Heat::Value
    depends_on: d
    properties: {value: 1}
  d:
    type: OS::Heat::Value
    depends_on: c
    properties: {value: 1}
outputs:
  o: {value: {get_attr: [zz, x]}}
",
        );
        assert_eq!(
            found,
            [
                "Parameter 'num' is invalid: Invalid default 0 (0 is out of range (min: 1, max: None))",
                "Parameter Groups error: parameter_groups.g: The grouped parameter missing does not reference a valid parameter.",
                "resources.a: The Resource Type (OS::Heat::Nope) could not be found.",
                "The specified reference \"nothing\" (in resources.b.properties.value.get_resource) is incorrect.",
                "resources.b.properties: Unknown Property bogus",
                "The specified reference \"zz\" (in outputs.o.value.get_attr) is incorrect.",
                "Circular Dependency Found: c, d",
            ]
        );
    }

    #[test]
    fn declarations_only_allows_missing_values() {
        let text = "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string}\n";
        assert!(
            check_stack(
                &Registry::builtin(),
                &request(text),
                Values::DeclarationsOnly
            )
            .is_ok()
        );
        let e = check_stack(&Registry::builtin(), &request(text), Values::Required).unwrap_err();
        assert_eq!(e.to_string(), "The Parameter (p) was not provided.");
        assert_eq!(e.heat_type(), "UserParameterMissing");
        assert!(check_stack(&Registry::builtin(), &request(text), Values::GivenOnly).is_ok());
        let mut given = request(text);
        given.parameters.insert("zz".into(), json!(1));
        let e = check_stack(&Registry::builtin(), &given, Values::GivenOnly).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The Parameter (zz) was not defined in template."
        );
    }

    #[test]
    fn a_bad_function_is_not_also_a_bad_property() {
        let found = messages(
            "heat_template_version: 2018-08-31
resources:
  app:
    type: OS::Heat::SoftwareConfig
    properties:
      config: {get_parm: script}
      group: [1]
",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("resources.app.properties.config: Unknown function"));
        assert_eq!(
            found[1],
            "resources.app.properties.group: Value must be a string, not a list"
        );
    }

    #[test]
    fn a_bad_resource_is_reported_once() {
        let found = messages(
            "heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::Value, propertes: {value: 1}}
  b: {type: OS::Heat::Value, properties: {value: {get_attr: [a, value]}}}
",
        );
        assert_eq!(
            found,
            ["resources.a: Invalid keyword(s) inside a resource definition: propertes"]
        );
    }
}

#[cfg(test)]
mod condition_tests {
    use super::*;
    use crate::template::loader::load_document;
    use serde_json::json;

    #[test]
    fn a_bad_condition_name_is_reported_once_per_place() {
        let text = "heat_template_version: wallaby\nconditions:\n  prod: true\nresources:\n  a:\n    type: OS::Heat::Value\n    condition: prdo\n    properties: {value: 1}\noutputs:\n  o:\n    condition: prdo\n    value: 1\n";
        let request = StackRequest {
            template: load_document(text).unwrap(),
            parameters: Map::new(),
            environment: Value::Null,
            files: json!({}),
            timeout_mins: None,
            disable_rollback: true,
            tags: None,
        };
        let errors = check_stack(&Registry::builtin(), &request, Values::Required).unwrap_err();
        let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "resources.a.condition: Invalid condition \"prdo\"",
                "outputs.o.condition: Invalid condition \"prdo\""
            ]
        );
    }
}
