//! Update classification by converge's rules, on hand-made stored rows.

use serde_json::{Map, Value, json};

use super::*;

const TEMPLATE: &str = "heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: one}
  len: {type: number, default: 8}
resources:
  value:
    type: OS::Heat::Value
    properties: {value: {get_param: v}}
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: len}}
  nothing:
    type: OS::Heat::None
    properties: {anything: {get_param: v}}
  uses_secret:
    type: OS::Heat::Value
    properties: {value: {get_resource: secret}}
  fresh:
    type: OS::Heat::None
";

fn stack() -> StackIdentity {
    StackIdentity {
        id: "sid".into(),
        name: "s".into(),
        project: "p".into(),
    }
}

fn row(name: &str, rtype: &str, action: &str, status: &str, props: Value) -> ResourceRow {
    ResourceRow {
        id: format!("row-{name}"),
        stack_id: "sid".into(),
        name: name.into(),
        resource_type: rtype.into(),
        action: action.into(),
        status: status.into(),
        status_reason: String::new(),
        physical_id: format!("phys-{name}"),
        reference_id: None,
        properties: props,
        attributes: Map::new(),
        data: Map::new(),
        created_at: "2020-01-01T00:00:00Z".into(),
        updated_at: None,
    }
}

/// Rows as a create of [`TEMPLATE`] leaves them (no `fresh`, plus `old`, which the
/// template no longer has); their properties are filled in by [`settle`].
fn stored_rows() -> Vec<ResourceRow> {
    [
        ("value", "OS::Heat::Value"),
        ("secret", "OS::Heat::RandomString"),
        ("nothing", "OS::Heat::None"),
        ("uses_secret", "OS::Heat::Value"),
        ("old", "OS::Heat::None"),
    ]
    .into_iter()
    .map(|(name, rtype)| row(name, rtype, "CREATE", "COMPLETE", json!({})))
    .collect()
}

/// Stores in each row what resolving the template with the default parameters gives, so
/// that the tests only see the changes they make.
fn settle(rows: &mut [ResourceRow], template: &Template, view: &StackView) {
    let registry = Registry::builtin();
    for r in rows.iter_mut() {
        if let (Some(def), Some(t)) = (
            template.resources.get(&r.name),
            registry.get(&r.resource_type),
        ) {
            r.properties =
                Value::Object(resolve_properties(t.as_ref(), def, template, view).unwrap());
        }
    }
}

fn classes(params: Value, rows: &[ResourceRow]) -> Vec<(String, Change)> {
    let template = Template::parse_text(TEMPLATE).unwrap();
    let params = params.as_object().cloned().unwrap_or_default();
    let view = StackView::new(stack(), params, &template, rows);
    classify_all(&Registry::builtin(), &template, &view, rows)
}

fn defaults() -> Value {
    json!({"v": "one", "len": 8})
}

fn settled() -> Vec<ResourceRow> {
    let template = Template::parse_text(TEMPLATE).unwrap();
    let mut rows = stored_rows();
    let params = defaults().as_object().cloned().unwrap_or_default();
    let view = StackView::new(stack(), params, &template, &rows);
    settle(&mut rows, &template, &view);
    rows
}

fn of(found: &[(String, Change)], name: &str) -> Change {
    found
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("{name} not classified: {found:?}"))
}

#[test]
fn the_same_template_changes_nothing_but_adds_and_deletes() {
    let found = classes(defaults(), &settled());
    assert_eq!(
        found,
        vec![
            ("value".to_string(), Change::Unchanged),
            ("secret".to_string(), Change::Unchanged),
            ("nothing".to_string(), Change::Unchanged),
            ("uses_secret".to_string(), Change::Unchanged),
            ("fresh".to_string(), Change::Added),
            ("old".to_string(), Change::Deleted),
        ]
    );
}

#[test]
fn update_allowed_changes_update_in_place_others_replace() {
    let found = classes(json!({"v": "two", "len": 12}), &settled());
    assert_eq!(of(&found, "value"), Change::Updated);
    assert_eq!(of(&found, "secret"), Change::Replaced);
    // OS::Heat::None is never touched, whatever its properties say.
    assert_eq!(of(&found, "nothing"), Change::Unchanged);
    // Seen against the stored stack: the secret's reference is still the stored one.
    assert_eq!(of(&found, "uses_secret"), Change::Unchanged);
}

#[test]
fn failed_unfinished_and_retyped_resources_are_replaced() {
    let mut rows = settled();
    for r in rows.iter_mut() {
        match r.name.as_str() {
            "value" => r.status = "FAILED".into(),
            "secret" => r.action = "INIT".into(),
            "nothing" => r.resource_type = "OS::Heat::Value".into(),
            "uses_secret" => {
                r.action = "DELETE".into();
            }
            _ => {}
        }
    }
    let found = classes(defaults(), &rows);
    assert_eq!(of(&found, "value"), Change::Replaced);
    assert_eq!(of(&found, "secret"), Change::Replaced);
    assert_eq!(of(&found, "nothing"), Change::Replaced);
    assert_eq!(of(&found, "uses_secret"), Change::Replaced);
}

#[test]
fn interrupted_actions_are_resumed_as_they_were() {
    let mut rows = settled();
    for r in rows.iter_mut() {
        match r.name.as_str() {
            "value" => {
                r.action = "UPDATE".into();
                r.status = "IN_PROGRESS".into();
            }
            "secret" => r.status = "IN_PROGRESS".into(),
            _ => {}
        }
    }
    let found = classes(defaults(), &rows);
    assert_eq!(of(&found, "value"), Change::Updated);
    assert_eq!(of(&found, "secret"), Change::Replaced);
}

#[test]
fn a_dependency_that_is_replaced_is_seen_by_reference() {
    // The stored reference differs from what the secret resolves to now: the dependent
    // takes the new value in place.
    let mut rows = settled();
    for r in rows.iter_mut() {
        if r.name == "uses_secret" {
            r.properties = json!({"value": "earlier-secret", "type": null});
        }
    }
    let found = classes(defaults(), &rows);
    assert_eq!(of(&found, "uses_secret"), Change::Updated);
}
