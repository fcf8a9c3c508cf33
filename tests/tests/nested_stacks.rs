//! The nested-stack resource types through the API (real server binary): provider
//! templates (`type: file.yaml` and a `resource_registry` mapping, templates in the request's
//! `files`), their outputs and `OS::stack_id` reference, updates in place (a property, then
//! only the template in `files`), `OS::Heat::ResourceChain` order, `OS::Heat::Stack`,
//! `AWS::CloudFormation::Stack` (HOT and CFN `Fn::GetAtt`), delete, and the 400s.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server, postgres_available};

const THING: &str = "file:///tmp/templates/thing.yaml";
const IDREF: &str = "file:///tmp/templates/idref.yaml";

fn thing(separator: &str) -> String {
    format!(
        "heat_template_version: 2018-08-31
parameters:
  name: {{type: string}}
  tags: {{type: comma_delimited_list, default: []}}
resources:
  v:
    type: OS::Heat::Value
    properties:
      value: {{list_join: ['{separator}', [{{get_param: name}}, {{list_join: ['+', {{get_param: tags}}]}}]]}}
outputs:
  joined: {{value: {{get_attr: [v, value]}}}}
"
    )
}

const IDREF_TEMPLATE: &str = "heat_template_version: 2018-08-31
parameters:
  id: {type: string}
outputs:
  OS::stack_id: {value: {get_param: id}}
";

const CFN_NESTED: &str = r#"{"AWSTemplateFormatVersion": "2010-09-09",
 "Parameters": {"Greeting": {"Type": "String"}},
 "Resources": {"W": {"Type": "OS::Heat::None"}},
 "Outputs": {"Message": {"Value": {"Fn::Join": ["", [{"Ref": "Greeting"}, " world"]]}}}}"#;

const ROOT: &str = "heat_template_version: 2018-08-31
parameters:
  name: {type: string, default: unused}
resources:
  direct:
    type: file:///tmp/templates/thing.yaml
    properties:
      name: {get_param: name}
      tags: [a, b]
  mapped:
    type: My::Thing
    properties:
      name: {get_attr: [direct, joined]}
  ided:
    type: file:///tmp/templates/idref.yaml
    properties: {id: custom-ref}
  chain:
    type: OS::Heat::ResourceChain
    properties:
      resources: [OS::Heat::TestResource, OS::Heat::TestResource, OS::Heat::TestResource]
      resource_properties: {value: linked, wait_secs: 0.3}
  heat_stack:
    type: OS::Heat::Stack
    properties:
      parameters: {x: ab}
      template: |
        heat_template_version: 2018-08-31
        parameters:
          x: {type: string}
        outputs:
          doubled: {value: {list_join: ['-', [{get_param: x}, {get_param: x}]]}}
  cfn:
    type: AWS::CloudFormation::Stack
    properties:
      TemplateURL: cfn.template
      Parameters: {Greeting: hello}
outputs:
  direct: {value: {get_attr: [direct, joined]}}
  mapped: {value: {get_attr: [mapped, joined]}}
  ided_ref: {value: {get_resource: ided}}
  direct_ref: {value: {get_resource: direct}}
  chain_refs: {value: {get_attr: [chain, refs]}}
  chain_values: {value: {get_attr: [chain, output]}}
  stack_out: {value: {get_attr: [heat_stack, outputs, doubled]}}
  stack_name: {value: {get_attr: [heat_stack, stack_name]}}
  cfn_out: {value: {get_attr: [cfn, Outputs.Message]}}
";

fn files(separator: &str) -> Value {
    json!({THING: thing(separator), IDREF: IDREF_TEMPLATE, "cfn.template": CFN_NESTED})
}

/// The registry mapping, and a value for the root's parameter that nested stacks (whose
/// templates do not declare it) must not inherit.
fn environment() -> Value {
    json!({"parameters": {"name": "first"}, "resource_registry": {"My::Thing": THING}})
}

async fn physical_id(api: &Api, stack: &str, resource: &str) -> String {
    let (_, body) = api
        .get(&format!("{stack}/resources/{resource}"))
        .await
        .unwrap();
    body["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The nested stack `id` (its body), and its canonical path.
async fn nested(api: &Api, id: &str) -> (Value, String) {
    let (status, body) = api.get(&format!("/stacks/{id}")).await.unwrap();
    assert!(status.is_success(), "nested stack {id}: {status} {body}");
    let path = format!(
        "/stacks/{}/{id}",
        body["stack"]["stack_name"].as_str().unwrap()
    );
    (body["stack"].clone(), path)
}

async fn put(api: &Api, stack: &str, parameters: Value, separator: &str) -> Value {
    let body = json!({"template": ROOT, "parameters": parameters, "files": files(separator),
        "environment": environment()});
    let (status, reply) = api.call(Method::PUT, stack, Some(body)).await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    api.wait_stack(stack, Duration::from_secs(120))
        .await
        .unwrap()
}

/// `(resource_name, resource_status)` of the members' events, oldest first.
async fn member_events(api: &Api, path: &str) -> Vec<(String, String)> {
    let (_, events) = api
        .get(&format!("{path}/events?sort_dir=asc"))
        .await
        .unwrap();
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ["0", "1", "2"].contains(&e["resource_name"].as_str().unwrap_or_default()))
        .map(|e| {
            (
                e["resource_name"].as_str().unwrap().to_string(),
                e["resource_status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn nested_stack_types_on_sqlite() {
    lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn nested_stack_types_on_postgresql() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    lifecycle(Backend::Postgres).await;
}

async fn lifecycle(backend: Backend) {
    let server = Server::start_with(backend, &[]).await.unwrap();
    let api = server.api();
    let body = json!({"stack_name": "nest", "template": ROOT, "files": files("/"),
        "environment": environment()});
    let (status, created) = api.call(Method::POST, "/stacks", Some(body)).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let stack = format!("/stacks/nest/{}", created["stack"]["id"].as_str().unwrap());
    let done = api
        .wait_stack(&stack, Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");

    // Provider templates: outputs as attributes, through a type and through the registry.
    assert_eq!(Api::output(&done, "direct"), json!("first/a+b"));
    assert_eq!(Api::output(&done, "mapped"), json!("first/a+b/"));
    // `OS::stack_id` is the reference id; otherwise the nested stack's ARN.
    assert_eq!(Api::output(&done, "ided_ref"), json!("custom-ref"));
    let direct_id = physical_id(&api, &stack, "direct").await;
    let (direct_stack, _) = nested(&api, &direct_id).await;
    assert_eq!(
        Api::output(&done, "direct_ref"),
        json!(format!(
            "arn:openstack:heat::demo:stacks/{}/{direct_id}",
            direct_stack["stack_name"].as_str().unwrap()
        ))
    );
    // The nested stack got the properties as parameters (a list as a comma string).
    assert_eq!(direct_stack["parameters"]["tags"], json!("a,b"));
    assert_eq!(direct_stack["parameters"]["name"], json!("first"));
    let (_, res) = api.get(&format!("{stack}/resources/direct")).await.unwrap();
    assert_eq!(res["resource"]["resource_type"], json!(THING));
    // Heat's `nested` link (heat_integrationtests find nested stacks by it), in the show
    // and in a list that does not descend.
    let (_, direct_path) = nested(&api, &direct_id).await;
    let nested_href = |links: &Value| {
        links
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "nested")
            .map(|l| l["href"].as_str().unwrap().to_string())
    };
    let href = nested_href(&res["resource"]["links"]).unwrap();
    assert!(href.ends_with(&format!("/v1/demo{direct_path}")), "{href}");
    let (_, listed) = api.get(&format!("{stack}/resources")).await.unwrap();
    let item = listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_name"] == "direct")
        .unwrap();
    assert_eq!(nested_href(&item["links"]), Some(href));

    // ResourceChain: members one after the other, each finished before the next starts.
    let refs = Api::output(&done, "chain_refs");
    assert_eq!(refs.as_array().unwrap().len(), 3, "{refs}");
    assert_eq!(
        Api::output(&done, "chain_values"),
        json!(["linked", "linked", "linked"])
    );
    let chain_id = physical_id(&api, &stack, "chain").await;
    let (_, chain_path) = nested(&api, &chain_id).await;
    let order: Vec<String> = member_events(&api, &chain_path)
        .await
        .into_iter()
        .map(|(n, s)| format!("{n} {s}"))
        .collect();
    assert_eq!(
        order,
        [
            "0 CREATE_IN_PROGRESS",
            "0 CREATE_COMPLETE",
            "1 CREATE_IN_PROGRESS",
            "1 CREATE_COMPLETE",
            "2 CREATE_IN_PROGRESS",
            "2 CREATE_COMPLETE"
        ]
    );

    // OS::Heat::Stack and AWS::CloudFormation::Stack.
    assert_eq!(Api::output(&done, "stack_out"), json!("ab-ab"));
    let heat_stack_id = physical_id(&api, &stack, "heat_stack").await;
    let (heat_stack, _) = nested(&api, &heat_stack_id).await;
    assert_eq!(
        Api::output(&done, "stack_name"),
        heat_stack["stack_name"].clone()
    );
    assert_eq!(Api::output(&done, "cfn_out"), json!("hello world"));
    let cfn_id = physical_id(&api, &stack, "cfn").await;

    // A property change updates the provider's nested stack in place.
    let updated = put(&api, &stack, json!({"name": "second"}), "/").await;
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    assert_eq!(Api::output(&updated, "direct"), json!("second/a+b"));
    assert_eq!(Api::output(&updated, "mapped"), json!("second/a+b/"));
    assert_eq!(physical_id(&api, &stack, "direct").await, direct_id);
    let (direct_stack, _) = nested(&api, &direct_id).await;
    assert_eq!(direct_stack["stack_status"], "UPDATE_COMPLETE");
    assert_eq!(direct_stack["parameters"]["name"], json!("second"));

    // Only the provider template changed (in files): the nested stacks follow it.
    let updated = put(&api, &stack, json!({"name": "second"}), "|").await;
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    assert_eq!(Api::output(&updated, "direct"), json!("second|a+b"));
    assert_eq!(Api::output(&updated, "mapped"), json!("second|a+b|"));
    assert_eq!(physical_id(&api, &stack, "direct").await, direct_id);

    // Delete removes every nested stack.
    let (status, _) = api.call(Method::DELETE, &stack, None).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(gone["stack_status"], "DELETE_COMPLETE", "{gone}");
    for id in [&direct_id, &chain_id, &heat_stack_id, &cfn_id] {
        let (body, _) = nested(&api, id).await;
        assert_eq!(body["stack_status"], "DELETE_COMPLETE", "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn concurrent_chains_and_cfn_templates() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = r#"{"AWSTemplateFormatVersion": "2010-09-09",
 "Resources": {
  "Inner": {"Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": "https://example.com/inner.template",
                           "Parameters": {"Greeting": "hi"}, "TimeoutInMinutes": 5}},
  "Chain": {"Type": "OS::Heat::ResourceChain",
            "Properties": {"resources": ["OS::Heat::TestResource", "OS::Heat::TestResource",
                                         "OS::Heat::TestResource"],
                           "concurrent": true,
                           "resource_properties": {"wait_secs": 0.5}}}},
 "Outputs": {"Message": {"Value": {"Fn::GetAtt": ["Inner", "Outputs.Message"]}},
             "Ref": {"Value": {"Ref": "Inner"}}}}"#;
    let body = json!({"stack_name": "cfn", "template": template,
        "files": {"https://example.com/inner.template": CFN_NESTED}});
    let (status, created) = api.call(Method::POST, "/stacks", Some(body)).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let stack = format!("/stacks/cfn/{}", created["stack"]["id"].as_str().unwrap());
    let done = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "Message"), json!("hi world"));
    let inner_id = physical_id(&api, &stack, "Inner").await;
    let reference = Api::output(&done, "Ref");
    assert!(
        reference
            .as_str()
            .unwrap()
            .starts_with("arn:openstack:heat::demo:stacks/cfn-Inner-")
            && reference.as_str().unwrap().ends_with(&inner_id),
        "{reference}"
    );
    let (inner, _) = nested(&api, &inner_id).await;
    assert_eq!(inner["timeout_mins"], json!(5), "{inner}");

    // Concurrent members all start before any finishes.
    let chain_id = physical_id(&api, &stack, "Chain").await;
    let (_, chain_path) = nested(&api, &chain_id).await;
    let statuses: Vec<String> = member_events(&api, &chain_path)
        .await
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        statuses[..3],
        [
            "CREATE_IN_PROGRESS",
            "CREATE_IN_PROGRESS",
            "CREATE_IN_PROGRESS"
        ],
        "{statuses:?}"
    );
    server.stop().await;
}

async fn rejected(api: &Api, template: &str, files: Value, environment: Value) -> String {
    let body = json!({"stack_name": "bad", "template": template, "files": files,
        "environment": environment});
    let (status, reply) = api.call(Method::POST, "/stacks", Some(body)).await.unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    reply["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn bad_provider_references_are_rejected_at_create() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let missing = "heat_template_version: 2018-08-31\nresources:\n  bad: {type: missing.yaml}\n";
    assert_eq!(
        rejected(&api, missing, json!({}), Value::Null).await,
        "resources.bad: Could not fetch remote template \"missing.yaml\": Invalid URL scheme "
    );
    let mapped = "heat_template_version: 2018-08-31\nresources:\n  bad: {type: My::Gone}\n";
    let message = rejected(
        &api,
        mapped,
        json!({}),
        json!({"resource_registry": {"My::Gone": "file:///gone.yaml"}}),
    )
    .await;
    assert_eq!(
        message,
        "resources.bad: Could not fetch remote template \"file:///gone.yaml\": Invalid URL scheme file"
    );
    let props = "heat_template_version: 2018-08-31
resources:
  r: {type: file:///tmp/templates/thing.yaml, properties: {nmae: x, tags: {a: 1}}}
";
    assert_eq!(
        rejected(&api, props, files("/"), Value::Null).await,
        "resources.r.properties: Unknown Property nmae\n\
         resources.r.properties: Property name not assigned\n\
         resources.r.properties.tags: Value must be a list, not a map"
    );
    let inner = "heat_template_version: 2018-08-31
resources:
  s:
    type: OS::Heat::Stack
    properties:
      template: \"heat_template_version: 2018-08-31\\nresources:\\n  x: {type: OS::Heat::Nope}\\n\"
  c:
    type: AWS::CloudFormation::Stack
    properties: {TemplateURL: nowhere.template}
  remote:
    type: OS::Heat::Stack
    properties:
      context: {region_name: RegionTwo}
      template: \"heat_template_version: 2018-08-31\\n\"
";
    let message = rejected(&api, inner, json!({}), Value::Null).await;
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines,
        [
            "resources.s<nested_stack>.resources.x: The Resource Type (OS::Heat::Nope) could not be found.",
            "resources.c.properties.TemplateURL: Could not fetch remote template 'nowhere.template': Invalid URL scheme ",
            "resources.remote.properties.context.region_name: Updraft creates OS::Heat::Stack in its own cloud only; a stack in another region (RegionTwo) is not supported",
        ]
    );
    server.stop().await;
}
