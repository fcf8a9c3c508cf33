use super::*;
use crate::engine::validate::{Values, check_stack};
use crate::resources::Registry;
use crate::resources::heat::test_support::Harness;
use crate::template::loader::load_document;
use serde_json::json;

const PROVIDER: &str = "heat_template_version: 2018-08-31
parameters:
  name: {type: string}
  size: {type: number, default: 1}
  tags: {type: comma_delimited_list, default: []}
  extra: {type: json, default: {}}
resources:
  v:
    type: OS::Heat::Value
    properties:
      value: {list_join: ['-', [{get_param: name}, {get_param: size}]]}
outputs:
  joined: {value: {get_attr: [v, value]}}
  tags: {value: {get_param: tags}}
";

fn decls(text: &str) -> Template {
    Template::parse_text(text).unwrap()
}

fn map(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn properties_become_parameters_as_heat_passes_them() {
    let t = decls(PROVIDER);
    let props = map(json!({"name": "a", "size": "3", "tags": ["x", 2, null],
        "extra": [{"k": 1}]}));
    let (params, complete, errors) = child_params(
        &t.parameters,
        &[],
        &props,
        &Map::new(),
        "resources.r.properties",
        &|_| false,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(complete);
    assert_eq!(
        Value::Object(params),
        json!({"name": "a", "size": 3, "tags": "x,2,", "extra": "[{\"k\": 1}]"})
    );
    // A list of maps is flattened into `.member.N.key=value` items.
    assert_eq!(
        parameter_value(json!([{"a": 1}, {"b": "x"}])),
        json!(".member.0.a=1,.member.1.b=x")
    );
    assert_eq!(parameter_value(json!([])), json!(""));
}

#[test]
fn unknown_missing_and_mistyped_properties_are_reported() {
    let t = decls(PROVIDER);
    let props = map(json!({"bogus": 1, "size": "big", "extra": 3}));
    let (_, _, errors) = child_params(
        &t.parameters,
        &[],
        &props,
        &Map::new(),
        "resources.r.properties",
        &|_| false,
    );
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "resources.r.properties: Unknown Property bogus",
            "resources.r.properties: Property name not assigned",
            "resources.r.properties.size: could not convert string to float: 'big'",
            "resources.r.properties.extra: Value must be a map, not a number",
        ]
    );
    // `parameter_defaults` make a parameter optional; an unresolved value is not checked.
    let defaults = map(json!({"name": "d"}));
    let props = map(json!({"size": {"get_attr": ["x", "y"]}}));
    let (params, complete, errors) = child_params(
        &t.parameters,
        &[],
        &props,
        &defaults,
        "resources.r.properties",
        &|v| v.is_object(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!complete);
    assert!(params.is_empty());
}

fn check(template: &str, files: Value, environment: Value) -> Vec<String> {
    let request = crate::engine::StackRequest {
        template: load_document(template).unwrap(),
        parameters: Map::new(),
        environment,
        files,
        timeout_mins: None,
        disable_rollback: true,
        tags: None,
    };
    match check_stack(&Registry::builtin(), &request, Values::Required) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn provider_templates_are_checked_before_the_stack_is_created() {
    let files = json!({"file:///p.yaml": PROVIDER});
    let ok = "heat_template_version: 2018-08-31
resources:
  r: {type: file:///p.yaml, properties: {name: a}}
  s:
    type: My::Thing
    properties: {name: {get_attr: [r, joined]}, size: 2}
outputs:
  o: {value: {get_attr: [r, joined]}}
";
    let env = json!({"resource_registry": {"My::Thing": "file:///p.yaml"}});
    assert_eq!(check(ok, files.clone(), env.clone()), Vec::<String>::new());

    let bad = "heat_template_version: 2018-08-31
resources:
  r: {type: file:///p.yaml, properties: {nmae: a}}
  m: {type: missing.yaml}
";
    assert_eq!(
        check(bad, files.clone(), Value::Null),
        [
            "resources.r.properties: Unknown Property nmae",
            "resources.r.properties: Property name not assigned",
            "resources.m: Could not fetch remote template \"missing.yaml\": Invalid URL scheme ",
        ]
    );

    // Problems inside the provider template are placed under the resource.
    let broken = json!({"b.yaml": "heat_template_version: 2018-08-31
resources:
  x: {type: OS::Heat::Value, properties: {vaule: 1}}
"});
    assert_eq!(
        check(
            "heat_template_version: 2018-08-31\nresources:\n  r: {type: b.yaml}\n",
            broken,
            Value::Null
        ),
        [
            "resources.r<b.yaml>.resources.x.properties: Unknown Property vaule",
            "resources.r<b.yaml>.resources.x.properties: Property value not assigned"
        ]
    );
}

#[test]
fn a_template_implementing_the_type_it_overrides_does_not_recurse() {
    // `My::Thing` maps to t.yaml, which uses `My::Thing`: inside, the mapping is gone, and
    // a per-resource alias makes it a built-in type.
    let files = json!({"t.yaml": "heat_template_version: 2018-08-31
resources:
  inner: {type: My::Thing, properties: {value: 1}}
"});
    let env = json!({"resource_registry": {"My::Thing": "t.yaml",
        "resources": {"outer": {"inner": {"My::Thing": "OS::Heat::Value"}}}}});
    let template = "heat_template_version: 2018-08-31\nresources:\n  outer: {type: My::Thing}\n";
    assert_eq!(check(template, files, env), Vec::<String>::new());

    // A template that really includes itself stops being checked at the validation depth.
    let files = json!({"self.yaml": "heat_template_version: 2018-08-31
resources:
  again: {type: self.yaml}
"});
    let template = "heat_template_version: 2018-08-31\nresources:\n  r: {type: self.yaml}\n";
    assert_eq!(check(template, files, Value::Null), Vec::<String>::new());
    // Twenty copies of itself per level: the check's budget keeps it short.
    let copies: String = (0..20)
        .map(|i| format!("  r{i}: {{type: many.yaml}}\n"))
        .collect();
    let many = format!("heat_template_version: 2018-08-31\nresources:\n{copies}");
    let files = json!({"many.yaml": many});
    let started = std::time::Instant::now();
    assert_eq!(check(&many, files, Value::Null), Vec::<String>::new());
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn a_provider_resource_runs_its_template_as_a_nested_stack() {
    let provider = "heat_template_version: 2018-08-31
parameters:
  name: {type: string}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: name}}}
outputs:
  value: {value: {get_attr: [v, value]}}
  OS::stack_id: {value: {list_join: ['-', [ref, {get_param: name}]]}}
";
    let h = Harness::with_files(json!({"p.yaml": provider})).await;
    let rtype = TemplateResource::new("p.yaml");
    let row = h
        .create(&rtype, "thing", json!({"name": "one"}))
        .await
        .unwrap();
    assert_eq!(row.attributes["value"], json!("one"));
    assert_eq!(row.reference_id.as_deref(), Some("ref-one"));
    let nested = h
        .services
        .store
        .stack(&row.physical_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(nested.parameters["name"], json!("one"));
    assert_eq!(nested.owner_resource.as_deref(), Some("thing"));

    let (kind, updated) = h.update(&rtype, &row, json!({"name": "two"})).await;
    assert_eq!(kind, UpdateKind::InPlace);
    let updated = updated.unwrap().unwrap();
    assert_eq!(updated.physical_id, row.physical_id);
    assert_eq!(updated.attributes["value"], json!("two"));

    rtype.delete(&h.ctx("thing"), &updated).await.unwrap();
    let gone = h
        .services
        .store
        .stack(&row.physical_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (gone.action.as_str(), gone.status.as_str()),
        ("DELETE", "COMPLETE")
    );
}

#[tokio::test]
async fn without_an_os_stack_id_output_the_reference_is_the_arn() {
    let provider = "heat_template_version: 2018-08-31\noutputs:\n  o: {value: 1}\n";
    let h = Harness::with_files(json!({"p.yaml": provider})).await;
    let row = h
        .create(&TemplateResource::new("p.yaml"), "thing", json!({}))
        .await
        .unwrap();
    let nested = h
        .services
        .store
        .stack(&row.physical_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.reference_id.unwrap(),
        format!("arn:openstack:heat::p:stacks/{}/{}", nested.name, nested.id)
    );
    assert_eq!(row.attributes["o"], json!(1));
}
