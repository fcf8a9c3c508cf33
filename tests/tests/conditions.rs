//! Conditions: the `conditions` section, `condition` on resources and outputs, `if` with
//! two and three arguments, and Heat's errors.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server};

const TEMPLATE: &str = r#"
heat_template_version: wallaby
parameters:
  env: {type: string, default: dev}
conditions:
  prod: {equals: [{get_param: env}, prod]}
  dev: {not: prod}
resources:
  always:
    type: OS::Heat::Value
    properties:
      value:
        tier: {if: [prod, gold, bronze]}
        audit: {if: [prod, enabled]}
        list: [a, {if: [dev, b]}, {if: [prod, c]}]
  only_prod:
    type: OS::Heat::Value
    condition: prod
    properties: {value: big}
outputs:
  always: {value: {get_attr: [always, value]}}
  prod_only:
    condition: prod
    value: {get_attr: [only_prod, value]}
"#;

async fn run(api: &Api, name: &str, env: &str) -> Value {
    let stack = api
        .create_stack(name, TEMPLATE, json!({"env": env}))
        .await
        .unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let (_, resources) = api.get(&format!("{stack}/resources")).await.unwrap();
    let mut names: Vec<String> = resources["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource_name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    json!({"outputs": {"always": Api::output(&done, "always"), "prod_only": Api::output(&done, "prod_only")}, "resources": names})
}

#[tokio::test]
async fn conditions_select_resources_outputs_and_values() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    assert_eq!(
        run(&api, "dev", "dev").await,
        json!({"outputs": {"always": {"tier": "bronze", "list": ["a", "b"]}, "prod_only": null}, "resources": ["always"]})
    );
    assert_eq!(
        run(&api, "prod", "prod").await,
        json!({"outputs": {"always": {"tier": "gold", "audit": "enabled", "list": ["a", "c"]}, "prod_only": "big"}, "resources": ["always", "only_prod"]})
    );

    let bad = TEMPLATE.replace("condition: prod\n", "condition: prdo\n");
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "bad", "template": bad})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "resources.only_prod.condition: Invalid condition \"prdo\"\noutputs.prod_only.condition: Invalid condition \"prdo\""
    );

    let cyclic = TEMPLATE.replace(
        "prod: {equals: [{get_param: env}, prod]}",
        "prod: {not: dev}",
    );
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "cyclic", "template": cyclic})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Circular definition for condition"),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn environment_registry_and_environment_files_apply() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = "heat_template_version: 2018-08-31\nparameters:\n  greeting: {type: string}\nresources:\n  v:\n    type: My::Value\n    properties: {value: {get_param: greeting}}\noutputs:\n  v: {value: {get_attr: [v, value]}}\n";
    let body = json!({
        "stack_name": "envfiles",
        "template": template,
        "files": {
            "file:///base.yaml": "parameters: {greeting: hello}\nresource_registry: {\"My::*\": \"OS::Heat::*\"}\n",
            "file:///more.yaml": "parameter_merge_strategies: {greeting: merge}\nparameters: {greeting: \" world\"}\n",
        },
        "environment_files": ["file:///base.yaml", "file:///more.yaml"],
    });
    let (status, created) = api
        .call(reqwest::Method::POST, "/stacks", Some(body))
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
    let id = created["stack"]["id"].as_str().unwrap();
    let done = api
        .wait_stack(&format!("/stacks/envfiles/{id}"), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "v"), json!("hello world"));
    let (_, res) = api
        .get(&format!("/stacks/envfiles/{id}/resources/v"))
        .await
        .unwrap();
    // Shown as the template names it (Heat's `resource.type()`), though it runs as the
    // registry's OS::Heat::Value.
    assert_eq!(res["resource"]["resource_type"], "My::Value");

    let bad = json!({"stack_name": "badenv", "template": template, "environment": {"parameters": {"greeting": "x"}, "resource_registry": {"My::Value": "nested.yaml"}}});
    let (status, body) = api
        .call(reqwest::Method::POST, "/stacks", Some(bad))
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "resources.v: Could not fetch remote template \"nested.yaml\": Invalid URL scheme "
    );
    server.stop().await;
}
