//! What groups of resources share (ResourceGroup, ResourceChain, AutoScalingGroup): their
//! members as recorded on the group's row, and Heat's group attribute forms (a group records
//! which forms it answers under [`FORM_KEY`]).
//!
//! A group records its members (name, reference, attributes) in its private data when its
//! nested stack finishes, so `get_attr` on a group is answered from the group's own row.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::ResourceRow;
use crate::template::functions::select_attribute;

/// The key of a group row's data holding its members.
pub const MEMBERS_KEY: &str = "members";
/// The key of a group row's data naming its attribute forms (absent: ResourceGroup's).
pub const FORM_KEY: &str = "attribute_form";

/// Which attribute forms a group answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttributeForm {
    /// ResourceGroup's (and ResourceChain's): any member attribute as a list, `attributes`,
    /// `resource.N`.
    #[default]
    ResourceGroup,
    /// AutoScalingGroup's: `outputs` and `outputs_list` with a member attribute path; the
    /// rest (`refs`, `refs_map`, `current_size`) persisted.
    AutoScaling,
    /// SoftwareDeploymentGroup's: any name a map of member name → that member attribute,
    /// `deploy_stdouts`, `deploy_stderrs` and `deploy_status_codes` for the singular ones.
    DeploymentGroup,
}

impl AttributeForm {
    /// The value recorded under [`FORM_KEY`].
    pub fn recorded_as(self) -> &'static str {
        match self {
            AttributeForm::ResourceGroup => "resource_group",
            AttributeForm::AutoScaling => "autoscaling",
            AttributeForm::DeploymentGroup => "deployment_group",
        }
    }

    /// The form a group row's data records.
    pub fn recorded(data: &Map<String, Value>) -> Self {
        match data.get(FORM_KEY).and_then(Value::as_str) {
            Some("autoscaling") => AttributeForm::AutoScaling,
            Some("deployment_group") => AttributeForm::DeploymentGroup,
            _ => AttributeForm::ResourceGroup,
        }
    }
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMember {
    /// The member's name in the nested stack (`"0"`, `"1"`, …).
    pub name: String,
    /// Its reference id (`get_resource`).
    pub reference: String,
    /// Its attributes.
    pub attributes: Map<String, Value>,
}

/// Member order: numeric names by number, then any others by name.
fn order_key(name: &str) -> (u8, u64, String) {
    match name.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, name.to_string()),
    }
}

/// The member a nested stack's resource row makes.
pub fn member(r: &ResourceRow) -> GroupMember {
    GroupMember {
        name: r.name.clone(),
        reference: r
            .reference_id
            .clone()
            .or_else(|| (!r.physical_id.is_empty()).then(|| r.physical_id.clone()))
            .unwrap_or_else(|| r.name.clone()),
        attributes: r.attributes.clone(),
    }
}

/// The members of a finished nested stack, in index order.
pub fn from_rows(rows: &[ResourceRow]) -> Vec<GroupMember> {
    let mut members: Vec<GroupMember> = rows.iter().map(member).collect();
    members.sort_by_key(|m| order_key(&m.name));
    members
}

/// The members recorded in a group row's data, if it is a group.
pub fn recorded(data: &Map<String, Value>) -> Option<Vec<GroupMember>> {
    serde_json::from_value(data.get(MEMBERS_KEY)?.clone()).ok()
}

/// The attributes every group persists: `refs`, `refs_map`, `removed_rsrc_list`.
pub fn static_attributes(members: &[GroupMember], removed: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "refs".into(),
        Value::Array(
            members
                .iter()
                .map(|m| Value::String(m.reference.clone()))
                .collect(),
        ),
    );
    out.insert(
        "refs_map".into(),
        Value::Object(
            members
                .iter()
                .map(|m| (m.name.clone(), Value::String(m.reference.clone())))
                .collect(),
        ),
    );
    out.insert(
        "removed_rsrc_list".into(),
        Value::Array(removed.iter().cloned().map(Value::String).collect()),
    );
    out
}

fn member_attribute(member: &GroupMember, path: &[Value]) -> Value {
    match path.split_first() {
        None => Value::String(member.reference.clone()),
        Some((Value::String(attr), rest)) => {
            select_attribute(member.attributes.get(attr).unwrap_or(&Value::Null), rest)
        }
        Some(_) => Value::Null,
    }
}

/// Heat's group `get_attr`: `refs`, `refs_map`, `removed_rsrc_list` (persisted in
/// `persisted`), `attributes` + name (a map over members), `resource.N[.attr]` (one member),
/// any other name (a list over members).
pub fn attribute(
    members: &[GroupMember],
    persisted: &Map<String, Value>,
    key: &str,
    path: &[Value],
) -> Value {
    if let Some(v) = persisted.get(key) {
        return select_attribute(v, path);
    }
    if key == "attributes" {
        let Some((Value::String(attr), rest)) = path.split_first() else {
            return Value::Null;
        };
        return Value::Object(
            members
                .iter()
                .map(|m| {
                    let v = m.attributes.get(attr).unwrap_or(&Value::Null);
                    (m.name.clone(), select_attribute(v, rest))
                })
                .collect(),
        );
    }
    if let Some(rest) = key.strip_prefix("resource.") {
        // `resource.N` with the path, or the dotted form `resource.N.attr`.
        let (name, dotted) = match rest.split_once('.') {
            Some((n, attr)) => (n, Some(attr)),
            None => (rest, None),
        };
        let Some(member) = members.iter().find(|m| m.name == name) else {
            return Value::Null;
        };
        return match dotted {
            Some(attr) => {
                let mut full = vec![Value::String(attr.to_string())];
                full.extend_from_slice(path);
                member_attribute(member, &full)
            }
            None => member_attribute(member, path),
        };
    }
    Value::Array(
        members
            .iter()
            .map(|m| select_attribute(m.attributes.get(key).unwrap_or(&Value::Null), path))
            .collect(),
    )
}

/// Heat's AutoScalingGroup `get_attr`: persisted names (`refs`, `refs_map`,
/// `current_size`), `outputs` + attribute path (a map over member names), `outputs_list` +
/// attribute path (a list in member order). Anything else, or no path, is null.
pub fn autoscaling_attribute(
    members: &[GroupMember],
    persisted: &Map<String, Value>,
    key: &str,
    path: &[Value],
) -> Value {
    if let Some(v) = persisted.get(key) {
        return select_attribute(v, path);
    }
    let Some((Value::String(attr), rest)) = path.split_first() else {
        return Value::Null;
    };
    let value =
        |m: &GroupMember| select_attribute(m.attributes.get(attr).unwrap_or(&Value::Null), rest);
    match key {
        "outputs" => Value::Object(members.iter().map(|m| (m.name.clone(), value(m))).collect()),
        "outputs_list" => Value::Array(members.iter().map(value).collect()),
        _ => Value::Null,
    }
}

/// Heat's SoftwareDeploymentGroup `get_attr`: a map of member name → the member's
/// attribute (`deploy_stdouts` → `deploy_stdout`, `deploy_stderrs` → `deploy_stderr`,
/// `deploy_status_codes` → `deploy_status_code`, any other name as it is), then `path`
/// taken from that map.
pub fn deployment_group_attribute(members: &[GroupMember], key: &str, path: &[Value]) -> Value {
    let attr = match key {
        "deploy_stdouts" => "deploy_stdout",
        "deploy_stderrs" => "deploy_stderr",
        "deploy_status_codes" => "deploy_status_code",
        other => other,
    };
    let map = Value::Object(
        members
            .iter()
            .map(|m| {
                let v = m.attributes.get(attr).cloned().unwrap_or(Value::Null);
                (m.name.clone(), v)
            })
            .collect(),
    );
    select_attribute(&map, path)
}

/// `get_attr` on a group in its `form`.
pub fn attribute_in(
    form: AttributeForm,
    members: &[GroupMember],
    persisted: &Map<String, Value>,
    key: &str,
    path: &[Value],
) -> Value {
    match form {
        AttributeForm::ResourceGroup => attribute(members, persisted, key, path),
        AttributeForm::AutoScaling => autoscaling_attribute(members, persisted, key, path),
        AttributeForm::DeploymentGroup => deployment_group_attribute(members, key, path),
    }
}

/// Replaces `index_var` with the member name in every string of `value` (Heat's textual
/// `%index%` substitution).
pub fn substitute_index(value: &Value, index_var: &str, name: &str) -> Value {
    if index_var.is_empty() {
        return value.clone();
    }
    match value {
        Value::String(s) => Value::String(s.replace(index_var, name)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_index(v, index_var, name))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute_index(v, index_var, name)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn members() -> Vec<GroupMember> {
        (0..3)
            .map(|i| GroupMember {
                name: i.to_string(),
                reference: format!("ref{i}"),
                attributes: json!({"value": format!("v{i}"), "deep": {"k": i}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            })
            .collect()
    }

    #[test]
    fn group_attribute_forms() {
        let m = members();
        let persisted = static_attributes(&m, &["7".into()]);
        assert_eq!(
            attribute(&m, &persisted, "refs", &[]),
            json!(["ref0", "ref1", "ref2"])
        );
        assert_eq!(
            attribute(&m, &persisted, "refs_map", &[json!("1")]),
            json!("ref1")
        );
        assert_eq!(
            attribute(&m, &persisted, "removed_rsrc_list", &[]),
            json!(["7"])
        );
        assert_eq!(
            attribute(&m, &persisted, "value", &[]),
            json!(["v0", "v1", "v2"])
        );
        assert_eq!(
            attribute(&m, &persisted, "deep", &[json!("k")]),
            json!([0, 1, 2])
        );
        assert_eq!(attribute(&m, &persisted, "resource.2", &[]), json!("ref2"));
        assert_eq!(
            attribute(&m, &persisted, "resource.2", &[json!("value")]),
            json!("v2")
        );
        assert_eq!(
            attribute(&m, &persisted, "resource.1.deep", &[json!("k")]),
            json!(1)
        );
        assert_eq!(
            attribute(&m, &persisted, "attributes", &[json!("value")]),
            json!({"0": "v0", "1": "v1", "2": "v2"})
        );
        assert_eq!(attribute(&m, &persisted, "resource.9", &[]), Value::Null);
    }

    #[test]
    fn autoscaling_attribute_forms() {
        let m = members();
        let mut persisted = static_attributes(&m, &[]);
        persisted.remove("removed_rsrc_list");
        persisted.insert("current_size".into(), json!(3));
        let at = |key: &str, path: &[Value]| {
            attribute_in(AttributeForm::AutoScaling, &m, &persisted, key, path)
        };
        assert_eq!(at("current_size", &[]), json!(3));
        assert_eq!(at("refs", &[]), json!(["ref0", "ref1", "ref2"]));
        assert_eq!(at("refs_map", &[json!("2")]), json!("ref2"));
        assert_eq!(
            at("outputs", &[json!("value")]),
            json!({"0": "v0", "1": "v1", "2": "v2"})
        );
        assert_eq!(
            at("outputs_list", &[json!("deep"), json!("k")]),
            json!([0, 1, 2])
        );
        assert_eq!(at("outputs", &[]), Value::Null);
        assert_eq!(at("value", &[]), Value::Null);
        let mut data = Map::new();
        assert_eq!(AttributeForm::recorded(&data), AttributeForm::ResourceGroup);
        data.insert(
            FORM_KEY.into(),
            json!(AttributeForm::AutoScaling.recorded_as()),
        );
        assert_eq!(AttributeForm::recorded(&data), AttributeForm::AutoScaling);
    }

    #[test]
    fn index_substitution_reaches_nested_strings() {
        let v = json!({"name": "node-%index%", "list": ["%index%", 3], "n": 1});
        assert_eq!(
            substitute_index(&v, "%index%", "4"),
            json!({"name": "node-4", "list": ["4", 3], "n": 1})
        );
    }

    #[test]
    fn members_sort_numerically() {
        let rows: Vec<ResourceRow> = ["10", "2", "0"]
            .iter()
            .map(|n| ResourceRow {
                name: n.to_string(),
                physical_id: format!("p{n}"),
                ..crate::engine::lifecycle::init_row("s", n, "OS::Heat::None")
            })
            .collect();
        let names: Vec<String> = from_rows(&rows).into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["0", "2", "10"]);
    }
}
