//! What the nested-stack resource types share (Heat's `StackResource`): the child
//! environment, templates found in the files map, checking a nested template while the
//! owner's request is validated, running the nested stack, and reading its outputs.

use serde_json::{Map, Value, json};

use crate::engine::StackRequest;
use crate::engine::nested::{self, NestedDefinition, NestedState};
use crate::engine::validate::{self, Nesting, Values};
use crate::resources::{ResourceContext, ResourceError, StackInputs};
use crate::store::ResourceRow;
use crate::template::loader::load_document;
use crate::template::registry::matches;
use crate::template::{TemplateError, TemplateErrorKind, environment};

/// How many nested templates below the request's own are checked while it is validated
/// (see also `validate::MAX_NESTED_CHECKS`). Deeper ones are checked when their parent
/// nested stack is created (where the configured `max_nested_stack_depth` applies); this
/// bound only keeps a recursive template from recursing at validation time.
pub const MAX_VALIDATION_DEPTH: usize = 5;

/// The environment a nested stack gets (Heat's `get_child_environment`): the parent's,
/// without its `parameters` (those were for the parent's template), without the registry
/// entries mapping to `remove_template` (so a template implementing a type can use the
/// type it overrides), and, when `resource` is given, with `resource_registry.resources`
/// replaced by the entries given for that resource (by name or matching pattern), which
/// name the nested stack's own resources.
pub fn child_environment(
    parent: &Value,
    resource: Option<&str>,
    remove_template: Option<&str>,
) -> Value {
    let mut env = parent.as_object().cloned().unwrap_or_default();
    env.insert("parameters".into(), json!({}));
    let mut registry = env
        .get("resource_registry")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut resources = registry
        .remove("resources")
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    if let Some(template) = remove_template {
        registry.retain(|_, v| v.as_str() != Some(template));
        for entry in resources.values_mut() {
            if let Some(entry) = entry.as_object_mut() {
                entry.retain(|_, v| v.as_str() != Some(template));
            }
        }
    }
    if let Some(name) = resource {
        let mut narrowed = Map::new();
        let mut take = |entry: &Value| {
            for (k, v) in entry.as_object().into_iter().flatten() {
                // Type mappings and hooks were for the owner itself; only the entries
                // naming nested resources (maps) carry on.
                if v.is_object() {
                    narrowed.insert(k.clone(), v.clone());
                }
            }
        };
        for (pattern, entry) in &resources {
            if matches(pattern, name) {
                take(entry);
            }
        }
        if let Some(entry) = resources.get(name) {
            take(entry);
        }
        resources = narrowed;
    }
    registry.insert("resources".into(), Value::Object(resources));
    env.insert("resource_registry".into(), Value::Object(registry));
    Value::Object(env)
}

/// `parameter_defaults` of a stored environment (empty when it does not parse: that was
/// reported where the environment was given).
pub fn parameter_defaults(env: &Value) -> Map<String, Value> {
    environment::parse(env)
        .map(|e| e.parameter_defaults)
        .unwrap_or_default()
}

/// Python's `urllib.parse.quote(s, safe='')`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stack's ARN, Heat's reference id for nested stacks:
/// `arn:openstack:heat::<project>:stacks/<name>/<id>`.
pub fn stack_arn(project: &str, name: &str, id: &str) -> String {
    format!(
        "arn:openstack:heat::{}:stacks/{}/{}",
        quote(project),
        quote(name),
        quote(id)
    )
}

/// Why a template that is not in the files map cannot be had: Heat would fetch it, with
/// `file:` refused for user templates; Updraft fetches nothing.
fn fetch_failure(name: &str) -> String {
    match name.split_once("://") {
        Some((scheme, _)) if scheme == "http" || scheme == "https" => {
            "fetching templates from URLs is not supported by Updraft; put the template in the \
             files map"
                .into()
        }
        Some((scheme, _)) => format!("Invalid URL scheme {scheme}"),
        None => "Invalid URL scheme ".into(),
    }
}

/// How a missing template is reported (`TemplateResource` and `AWS::CloudFormation::Stack`
/// quote differently in Heat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// `"name"`.
    Double,
    /// `'name'`.
    Single,
}

/// A template from the files map (`name` as the key), loaded; the error is Heat's message.
pub fn template_from_files(files: &Value, name: &str, quote: Quote) -> Result<Value, String> {
    let shown = match quote {
        Quote::Double => format!("\"{name}\""),
        Quote::Single => format!("'{name}'"),
    };
    match files.get(name) {
        Some(Value::String(text)) => load_document(text).map_err(|e| e.message),
        Some(doc @ Value::Object(_)) => Ok(doc.clone()),
        Some(_) | None => Err(format!(
            "Could not fetch remote template {shown}: {}",
            fetch_failure(name)
        )),
    }
}

/// Whether any of `values` still holds a function call.
pub fn any_unresolved<'a>(
    inputs: &StackInputs<'_>,
    mut values: impl Iterator<Item = &'a Value>,
) -> bool {
    values.any(|v| crate::template::functions::contains_call(v, inputs.version))
}

/// An error of a nested template, placed under the owner resource as Heat does
/// (`resources.<name><<label>>.<path in the nested template>: …`).
pub fn nested_error(name: &str, label: &str, e: &TemplateError) -> TemplateError {
    let prefix = format!("resources.{name}<{label}>");
    let path = if e.path.is_empty() {
        prefix
    } else {
        format!("{prefix}.{}", e.path)
    };
    let mut out = TemplateError::at(path, e.message.clone());
    out.kind = TemplateErrorKind::Validation;
    out.pointing_at(format!("resources.{name}"))
}

/// The place of a nested template below `inputs`, when it may be checked now: not deeper
/// than [`MAX_VALIDATION_DEPTH`] and within the check's budget (which this takes from).
pub fn enter<'a>(inputs: &StackInputs<'a>) -> Option<Nesting<'a>> {
    let nesting = inputs.nesting;
    if nesting.depth + 1 > MAX_VALIDATION_DEPTH || nesting.budget.get() == 0 {
        return None;
    }
    nesting.budget.set(nesting.budget.get() - 1);
    Some(Nesting {
        depth: nesting.depth + 1,
        ..nesting
    })
}

/// Validates a nested stack's request (at `nesting`, from [`enter`]) while the owner's
/// request is validated (Heat validates nested stacks before the root is created). Values
/// are checked only when `complete` (no property held a function call); otherwise only
/// what the values cannot change is.
pub fn validate_child(
    inputs: &StackInputs<'_>,
    nesting: Nesting<'_>,
    label: &str,
    request: &StackRequest,
    complete: bool,
) -> Vec<TemplateError> {
    let values = if complete {
        Values::Required
    } else {
        Values::DeclarationsOnly
    };
    match validate::check_stack_at(inputs.registry, request, values, nesting) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|e| nested_error(inputs.name, label, e))
            .collect(),
    }
}

/// A nested stack request with the usual defaults.
pub fn child_request(
    template: Value,
    parameters: Map<String, Value>,
    environment: Value,
    files: Value,
) -> StackRequest {
    StackRequest {
        template,
        parameters,
        environment,
        files,
        timeout_mins: None,
        disable_rollback: true,
        tags: None,
    }
}

/// Creates the nested stack (`current`: `None`; an interrupted create is resumed), or
/// updates the one `current` (the stored row) has.
pub async fn run(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    def: NestedDefinition,
) -> Result<NestedState, ResourceError> {
    match current {
        Some(row) if !row.physical_id.is_empty() => nested::update(ctx, row, def).await,
        _ => nested::create(ctx, def).await,
    }
}

/// A JSON value as a reference id (strings as they are).
pub fn as_reference(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_environment_drops_parameters_the_mapping_and_narrows_resources() {
        let parent = json!({
            "parameters": {"p": 1},
            "parameter_defaults": {"d": 2},
            "resource_registry": {
                "My::Thing": "thing.yaml",
                "My::Other": "OS::Heat::None",
                "resources": {
                    "box": {"My::Thing": "thing.yaml", "hooks": "pre-create", "inner": {"hooks": "pre-update"}},
                    "b*": {"deep": {"restricted_actions": "replace"}},
                    "other": {"x": {"hooks": "pre-delete"}}
                }
            }
        });
        let child = child_environment(&parent, Some("box"), Some("thing.yaml"));
        assert_eq!(child["parameters"], json!({}));
        assert_eq!(child["parameter_defaults"], json!({"d": 2}));
        assert_eq!(
            child["resource_registry"],
            json!({
                "My::Other": "OS::Heat::None",
                "resources": {
                    "inner": {"hooks": "pre-update"},
                    "deep": {"restricted_actions": "replace"}
                }
            })
        );
        // Without a resource name the per-resource section is kept whole.
        let child = child_environment(&parent, None, None);
        assert_eq!(
            child["resource_registry"]["resources"]["other"],
            json!({"x": {"hooks": "pre-delete"}})
        );
        assert_eq!(child["resource_registry"]["My::Thing"], json!("thing.yaml"));
        // A missing environment gives an empty one that parses.
        let child = child_environment(&Value::Null, Some("x"), None);
        assert!(environment::parse(&child).is_ok());
    }

    #[test]
    fn arn_quotes_like_python() {
        assert_eq!(
            stack_arn("demo", "s-r-abc", "1234"),
            "arn:openstack:heat::demo:stacks/s-r-abc/1234"
        );
        assert_eq!(
            stack_arn("a b", "x/y", "i"),
            "arn:openstack:heat::a%20b:stacks/x%2Fy/i"
        );
    }

    #[test]
    fn templates_come_from_the_files_map() {
        let files = json!({"a.yaml": "heat_template_version: 2018-08-31\n", "j": {"x": 1}});
        assert_eq!(
            template_from_files(&files, "a.yaml", Quote::Double).unwrap()["heat_template_version"],
            json!("2018-08-31")
        );
        assert_eq!(
            template_from_files(&files, "j", Quote::Double).unwrap(),
            json!({"x": 1})
        );
        assert_eq!(
            template_from_files(&files, "b.yaml", Quote::Double).unwrap_err(),
            "Could not fetch remote template \"b.yaml\": Invalid URL scheme "
        );
        assert_eq!(
            template_from_files(&files, "file:///b.yaml", Quote::Single).unwrap_err(),
            "Could not fetch remote template 'file:///b.yaml': Invalid URL scheme file"
        );
        assert!(
            template_from_files(&files, "https://x/b.yaml", Quote::Double)
                .unwrap_err()
                .contains("files map")
        );
    }

    #[test]
    fn nested_errors_are_placed_under_the_owner() {
        let e = TemplateError::at("resources.a.properties", "Unknown Property x");
        assert_eq!(
            nested_error("r", "t.yaml", &e).to_string(),
            "resources.r<t.yaml>.resources.a.properties: Unknown Property x"
        );
        let e = TemplateError::new(TemplateErrorKind::ParameterMissing, "gone");
        let placed = nested_error("r", "t.yaml", &e);
        assert_eq!(placed.to_string(), "resources.r<t.yaml>: gone");
        assert_eq!(placed.kind, TemplateErrorKind::Validation);
    }
}
