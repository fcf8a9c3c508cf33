//! `OS::Heat::ResourceGroup`: `count` copies of `resource_def` in a nested stack, members
//! named `"0"`, `"1"`, … minus the names that `removal_policies` took out (never reused).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::group_members::{self, GroupMember, MEMBERS_KEY};
use super::stack_resource::{
    any_unresolved, child_environment, child_request, enter, validate_child,
};
use crate::engine::nested::{self, NestedDefinition};
use crate::resources::properties::{PropType, PropertySchema};
use crate::resources::{
    ResourceContext, ResourceError, ResourceOutcome, ResourceType, StackInputs, UpdateKind,
};
use crate::store::ResourceRow;
use crate::template::TemplateError;

/// `OS::Heat::ResourceGroup`.
pub struct ResourceGroup;

/// The private-data key of the names removal policies took out.
const REMOVED_KEY: &str = "name_blacklist";

const RESOURCE_DEF: &[PropertySchema] = &[
    PropertySchema::new("type", PropType::String).required(),
    PropertySchema::new("properties", PropType::Map),
    PropertySchema::new("metadata", PropType::Map),
];
const REMOVAL_POLICY: &[PropertySchema] =
    &[PropertySchema::new("resource_list", PropType::List).default("[]")];

const SCHEMA: &[PropertySchema] = &[
    PropertySchema::new("count", PropType::Integer)
        .default("1")
        .range(Some(0), None)
        .update_allowed(),
    PropertySchema::new("index_var", PropType::String)
        .default("\"%index%\"")
        .update_allowed(),
    PropertySchema::new("resource_def", PropType::Map)
        .required()
        .update_allowed()
        .entries(RESOURCE_DEF),
    PropertySchema::new("removal_policies", PropType::List)
        .default("[]")
        .update_allowed()
        .entries(REMOVAL_POLICY),
    PropertySchema::new("removal_policies_mode", PropType::String)
        .default("\"append\"")
        .allowed(&["append", "update"])
        .update_allowed(),
];

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The names removal policies take out: entries are member names or member references.
fn removed_names(
    props: &Map<String, Value>,
    previous: &[String],
    members: &[GroupMember],
) -> Vec<String> {
    let mut out: Vec<String> = match props.get("removal_policies_mode").and_then(Value::as_str) {
        Some("update") => Vec::new(),
        _ => previous.to_vec(),
    };
    for policy in props
        .get("removal_policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for entry in strings(policy.get("resource_list")) {
            let name = members
                .iter()
                .find(|m| m.reference == entry)
                .map(|m| m.name.clone())
                .unwrap_or(entry);
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// The first `count` names from 0 upwards that are not removed.
fn member_names(count: usize, removed: &[String]) -> Vec<String> {
    (0..)
        .map(|i: u64| i.to_string())
        .filter(|n| !removed.contains(n))
        .take(count)
        .collect()
}

/// The nested template: one resource per member, `index_var` replaced by its name.
pub fn nested_template(props: &Map<String, Value>, names: &[String]) -> Value {
    let def = props.get("resource_def").cloned().unwrap_or(Value::Null);
    let index_var = props
        .get("index_var")
        .and_then(Value::as_str)
        .unwrap_or("%index%");
    let mut resources = Map::new();
    for name in names {
        let mut member = Map::new();
        member.insert(
            "type".into(),
            def.get("type").cloned().unwrap_or(Value::Null),
        );
        for key in ["properties", "metadata"] {
            if let Some(v) = def.get(key).filter(|v| !v.is_null()) {
                member.insert(
                    key.into(),
                    group_members::substitute_index(v, index_var, name),
                );
            }
        }
        resources.insert(name.clone(), Value::Object(member));
    }
    json!({"heat_template_version": "2015-04-30", "resources": resources})
}

/// A group update policy's batching (`batch_create`, `rolling_update`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Batching {
    size: usize,
    pause_secs: f64,
}

/// The policy `key` of the resource's resolved `update_policy`, if set.
fn batching(policy: &Value, key: &str) -> Option<Batching> {
    let p = policy.get(key)?;
    let number = |k: &str| {
        p.get(k)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
    };
    Some(Batching {
        size: number("max_batch_size").unwrap_or(1.0).max(1.0) as usize,
        pause_secs: number("pause_time").unwrap_or(0.0).max(0.0),
    })
}

/// The nested template with `names`, each member defined by `props`, except that members
/// in `old` keep `old_props`' definition (a rolling update part-way).
fn mixed_template(
    build: &MemberTemplate<'_>,
    props: &Map<String, Value>,
    names: &[String],
    old_props: &Map<String, Value>,
    old: &[String],
) -> Value {
    let mut template = build(props, names);
    let previous = build(old_props, old);
    if let (Some(members), Some(before)) = (
        template.get_mut("resources").and_then(Value::as_object_mut),
        previous.get("resources").and_then(Value::as_object),
    ) {
        for (name, def) in before {
            members.insert(name.clone(), def.clone());
        }
    }
    template
}

/// Builds a group's nested template: its members `names`, each defined by the group's
/// properties.
pub type MemberTemplate<'a> = dyn Fn(&Map<String, Value>, &[String]) -> Value + Send + Sync + 'a;

/// What a group's nested stack is to hold, for [`converge_members`].
pub struct Membership<'a> {
    /// The member names, in order.
    pub names: &'a [String],
    /// Whether the members' definition changed (a `rolling_update` then moves the members
    /// that stay to it a batch at a time).
    pub redefined: bool,
    /// The nested template of some members.
    pub template: &'a MemberTemplate<'a>,
}

/// Brings a group's nested stack to `membership`: one nested-stack action, or a sequence of
/// them under the resource's `update_policy` (`batch_create` when `creating`, else
/// `rolling_update`), pausing `pause_time` between steps. Returns the final nested state.
pub async fn converge_members(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    props: &Map<String, Value>,
    creating: bool,
    membership: Membership<'_>,
) -> Result<nested::NestedState, ResourceError> {
    let Membership {
        names,
        redefined,
        template: build,
    } = membership;
    let members = current
        .and_then(|r| group_members::recorded(&r.data))
        .unwrap_or_default();
    let owner = nested::owner(ctx).await?;
    let environment = child_environment(&owner.environment, Some(ctx.name), None);
    let files = owner.files.clone();
    let definition = |template: Value| NestedDefinition {
        template,
        parameters: Map::new(),
        environment: environment.clone(),
        files: files.clone(),
        timeout_mins: None,
    };

    // The steps to the final membership: one, or batches under the update policy.
    let mut steps: Vec<Value> = Vec::new();
    let empty = Map::new();
    let old_props = current
        .and_then(|r| r.properties.as_object())
        .unwrap_or(&empty);
    if creating {
        if let Some(b) = batching(&ctx.update_policy, "batch_create") {
            let mut end = b.size;
            while end < names.len() {
                steps.push(build(props, &names[..end]));
                end += b.size;
            }
        }
    } else if redefined
        && !members.is_empty()
        && let Some(b) = batching(&ctx.update_policy, "rolling_update")
    {
        // Existing members that stay move to the new definition a batch at a time; the
        // others keep theirs until the final step.
        let current_names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let staying: Vec<String> = current_names
            .iter()
            .filter(|n| names.contains(n))
            .cloned()
            .collect();
        let mut end = b.size;
        while end < staying.len() {
            let done = &staying[..end];
            let waiting: Vec<String> = current_names
                .iter()
                .filter(|n| !done.contains(n))
                .cloned()
                .collect();
            steps.push(mixed_template(build, props, done, old_props, &waiting));
            end += b.size;
        }
    }
    steps.push(build(props, names));
    let pause = batching(
        &ctx.update_policy,
        if creating {
            "batch_create"
        } else {
            "rolling_update"
        },
    )
    .map(|b| b.pause_secs)
    .unwrap_or(0.0);

    let mut child_id = current
        .map(|r| r.physical_id.clone())
        .filter(|id| !id.is_empty() && !creating);
    let mut state = None;
    let last = steps.len() - 1;
    for (i, template) in steps.into_iter().enumerate() {
        let next = match &child_id {
            Some(id) => nested::update_by_id(ctx, id, definition(template)).await?,
            // A create (resumed or not): nested::create picks up a recorded nested stack.
            None => nested::create(ctx, definition(template)).await?,
        };
        child_id = Some(next.stack.id.clone());
        state = Some(next);
        if i < last {
            super::sleep_secs(pause).await;
        }
    }
    state.ok_or_else(|| ResourceError::Failed("the group has no nested stack".into()))
}

async fn converge_group(
    ctx: &ResourceContext<'_>,
    current: Option<&ResourceRow>,
    props: &Map<String, Value>,
    creating: bool,
) -> Result<ResourceOutcome, ResourceError> {
    let previous = current
        .map(|r| strings(r.data.get(REMOVED_KEY)))
        .unwrap_or_default();
    let members = current
        .and_then(|r| group_members::recorded(&r.data))
        .unwrap_or_default();
    let removed = removed_names(props, &previous, &members);
    let count = props.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
    let names = member_names(count, &removed);
    let empty = Map::new();
    let old_props = current
        .and_then(|r| r.properties.as_object())
        .unwrap_or(&empty);
    let redefined = ["resource_def", "index_var"]
        .iter()
        .any(|k| old_props.get(*k) != props.get(*k));
    let membership = Membership {
        names: &names,
        redefined,
        template: &nested_template,
    };
    let state = converge_members(ctx, current, props, creating, membership).await?;
    let members = group_members::from_rows(&state.rows);
    let mut data = Map::new();
    data.insert(MEMBERS_KEY.into(), json!(members));
    data.insert(REMOVED_KEY.into(), json!(removed));
    Ok(ResourceOutcome {
        physical_id: state.stack.id.clone(),
        reference_id: None,
        attributes: group_members::static_attributes(&members, &removed),
        data,
    })
}

#[async_trait]
impl ResourceType for ResourceGroup {
    fn type_name(&self) -> &'static str {
        "OS::Heat::ResourceGroup"
    }
    fn properties_schema(&self) -> &'static [PropertySchema] {
        SCHEMA
    }
    fn attributes(&self) -> &'static [&'static str] {
        &["refs", "refs_map", "attributes", "removed_rsrc_list"]
    }
    /// Any member attribute can be asked for (as a list over members).
    fn check_attribute(&self, _properties: &Value, _attribute: &str) -> bool {
        true
    }
    fn update_kind(&self, _: &[String], _: &Value, _: &Map<String, Value>) -> UpdateKind {
        UpdateKind::InPlace
    }
    /// As Heat: a nested template of one member (`"0"`, whatever the count) is checked, so
    /// a bad member type or property is a 400, when the definition is known.
    fn validate_nested(&self, inputs: &StackInputs<'_>) -> Vec<TemplateError> {
        let Some(nesting) = enter(inputs) else {
            return Vec::new();
        };
        if any_unresolved(inputs, inputs.properties.get("resource_def").into_iter()) {
            return Vec::new();
        }
        let request = child_request(
            nested_template(inputs.properties, &["0".to_string()]),
            Map::new(),
            child_environment(inputs.environment, Some(inputs.name), None),
            inputs.files.clone(),
        );
        validate_child(inputs, nesting, "nested_stack", &request, true)
    }
    async fn create(
        &self,
        ctx: &ResourceContext<'_>,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        // Resuming an interrupted create carries on with the recorded nested stack.
        let resuming = ctx.resuming.clone();
        converge_group(ctx, resuming.as_ref(), props, true).await
    }
    async fn update(
        &self,
        ctx: &ResourceContext<'_>,
        current: &ResourceRow,
        props: &Map<String, Value>,
    ) -> Result<ResourceOutcome, ResourceError> {
        converge_group(ctx, Some(current), props, false).await
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
mod tests {
    use super::*;

    #[test]
    fn names_skip_removed_ones_and_are_never_reused() {
        assert_eq!(member_names(3, &[]), ["0", "1", "2"]);
        assert_eq!(member_names(3, &["1".into()]), ["0", "2", "3"]);
    }

    #[test]
    fn removal_policies_take_names_or_references() {
        let members = vec![GroupMember {
            name: "2".into(),
            reference: "abc".into(),
            attributes: Map::new(),
        }];
        let props = json!({"removal_policies": [{"resource_list": ["abc", 0]}]});
        let props = props.as_object().unwrap();
        assert_eq!(
            removed_names(props, &["5".into()], &members),
            ["5", "2", "0"]
        );
        let mut update = props.clone();
        update.insert("removal_policies_mode".into(), json!("update"));
        assert_eq!(removed_names(&update, &["5".into()], &members), ["2", "0"]);
    }

    #[test]
    fn update_policies_batch() {
        let policy = json!({"batch_create": {"max_batch_size": 2, "pause_time": 0.5},
            "rolling_update": {"max_batch_size": "3"}});
        assert_eq!(
            batching(&policy, "batch_create"),
            Some(Batching {
                size: 2,
                pause_secs: 0.5
            })
        );
        assert_eq!(
            batching(&policy, "rolling_update"),
            Some(Batching {
                size: 3,
                pause_secs: 0.0
            })
        );
        assert_eq!(batching(&Value::Null, "batch_create"), None);
        let new =
            json!({"resource_def": {"type": "OS::Heat::Value", "properties": {"value": "new"}}});
        let old =
            json!({"resource_def": {"type": "OS::Heat::Value", "properties": {"value": "old"}}});
        let t = mixed_template(
            &nested_template,
            new.as_object().unwrap(),
            &["0".into()],
            old.as_object().unwrap(),
            &["1".into(), "2".into()],
        );
        assert_eq!(t["resources"]["0"]["properties"]["value"], json!("new"));
        assert_eq!(t["resources"]["2"]["properties"]["value"], json!("old"));
    }

    #[test]
    fn a_bad_member_definition_is_a_validation_error() {
        let text = "heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 0
      resource_def: {type: OS::Heat::Value, properties: {valeu: 1}}
  late:
    type: OS::Heat::ResourceGroup
    properties:
      resource_def: {type: {get_param: OS::stack_name}}
";
        let request = crate::engine::StackRequest {
            template: crate::template::loader::load_document(text).unwrap(),
            parameters: Map::new(),
            environment: Value::Null,
            files: json!({}),
            timeout_mins: None,
            disable_rollback: true,
            tags: None,
        };
        let errors = crate::engine::validate::check_stack(
            &crate::resources::Registry::builtin(),
            &request,
            crate::engine::validate::Values::Required,
        )
        .unwrap_err();
        let messages: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "resources.group<nested_stack>.resources.0.properties: Unknown Property valeu",
                "resources.group<nested_stack>.resources.0.properties: Property value not assigned"
            ]
        );
    }

    #[test]
    fn nested_template_substitutes_the_index() {
        let props = json!({"index_var": "%index%", "resource_def": {"type": "OS::Heat::Value",
            "properties": {"value": "n-%index%"}}});
        let t = nested_template(props.as_object().unwrap(), &["0".into(), "3".into()]);
        assert_eq!(t["resources"]["3"]["properties"]["value"], json!("n-3"));
        assert_eq!(t["heat_template_version"], json!("2015-04-30"));
    }
}
