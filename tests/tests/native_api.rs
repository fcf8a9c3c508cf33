//! The native API as Heat clients use it: name redirects, resource and event listings,
//! signals through the API, outputs from `OS::Heat::Value` and `OS::Heat::RandomString`,
//! and Heat's error bodies.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server};

const TEMPLATE: &str = r##"
heat_template_version: 2018-08-31
parameters:
  prefix: {type: string, default: pre}
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: 16
      character_classes: [{class: digits, min: 16}]
  joined:
    type: OS::Heat::Value
    properties:
      value:
        str_replace:
          template: PREFIX-SECRET
          params: {PREFIX: {get_param: prefix}, SECRET: {get_resource: secret}}
  server:
    type: OS::Heat::DeployedServer
  dep:
    type: OS::Heat::SoftwareDeployment
    properties:
      server: {get_resource: server}
      input_values: {v: {get_attr: [joined, value]}}
outputs:
  joined: {value: {get_attr: [joined, value]}}
  secret: {value: {get_attr: [secret, value]}}
  dep_result: {value: {get_attr: [dep, result]}}
"##;

#[tokio::test]
async fn native_api_behaves_as_heat() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("native", TEMPLATE, json!({}))
        .await
        .unwrap();
    let stack_id = stack.rsplit('/').next().unwrap().to_string();

    // A name-only URL answers 302 to the canonical one, keeping the query string.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .get(api.url("/stacks/native/resources?nested_depth=1"))
        .header("X-Auth-Token", &api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::FOUND);
    assert_eq!(
        resp.headers()["location"],
        format!(
            "{}/v1/demo/stacks/native/{stack_id}/resources?nested_depth=1",
            server.base
        )
        .as_str()
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "302 Found");

    // The deployment waits for a signal; the native signal API delivers one.
    api.wait_resource(&stack, "dep", "CREATE_IN_PROGRESS", Duration::from_secs(30))
        .await
        .unwrap();
    // As an agent would: signal once the deployment is in the server's metadata (the
    // resource is IN_PROGRESS a moment before its deployment is stored).
    let started = std::time::Instant::now();
    loop {
        let (_, md) = api
            .get(&format!("{stack}/resources/server/metadata"))
            .await
            .unwrap();
        if md["metadata"]["deployments"][0]["id"].is_string() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{md}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("{stack}/resources/dep/signal"),
            Some(json!({"deploy_stdout": "hi", "deploy_status_code": 0, "result": "from-api"})),
        )
        .await
        .unwrap();
    assert_eq!((status, body), (reqwest::StatusCode::OK, Value::Null));
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let secret = Api::output(&done, "secret");
    let secret = secret.as_str().unwrap();
    assert_eq!(secret.len(), 16);
    assert!(secret.chars().all(|c| c.is_ascii_digit()), "{secret}");
    assert_eq!(Api::output(&done, "joined"), json!(format!("pre-{secret}")));
    // Deployment outputs are only those declared by its config; without one, a signal's
    // extra keys are dropped, as in Heat.
    assert_eq!(Api::output(&done, "dep_result"), Value::Null);
    assert_eq!(done["parameters"]["prefix"], "pre");
    assert_eq!(done["parameters"]["OS::stack_name"], "native");

    // Resources: Heat's fields, dependency links.
    let (_, resources) = api.get(&format!("{stack}/resources")).await.unwrap();
    let by_name = |n: &str| {
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource_name"] == n)
            .cloned()
            .unwrap()
    };
    let secret_res = by_name("secret");
    assert_eq!(secret_res["resource_status"], "CREATE_COMPLETE");
    assert_eq!(secret_res["required_by"], json!(["joined"]));
    assert_eq!(secret_res["logical_resource_id"], "secret");
    assert!(
        secret_res["physical_resource_id"]
            .as_str()
            .unwrap()
            .starts_with("native-secret-")
    );

    // Events: newest first by default, the signal recorded with its reason.
    let (_, events) = api.get(&format!("{stack}/events")).await.unwrap();
    let events = events["events"].as_array().unwrap();
    assert_eq!(events[0]["resource_name"], "native");
    assert_eq!(events[0]["resource_status"], "CREATE_COMPLETE");
    assert_eq!(
        events[0]["resource_status_reason"],
        "Stack CREATE completed successfully"
    );
    let signal = events
        .iter()
        .find(|e| e["resource_status"] == "SIGNAL_IN_PROGRESS")
        .unwrap();
    assert!(
        signal["resource_status_reason"]
            .as_str()
            .unwrap()
            .starts_with("Signal: deployment ")
    );
    assert!(
        signal["resource_status_reason"]
            .as_str()
            .unwrap()
            .ends_with(" succeeded")
    );

    // Types that take no signals say so; unknown stacks and resources are Heat's 404s.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            &format!("{stack}/resources/joined/signal"),
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["type"], "ResourceActionNotSupported");
    let (status, body) = api.get(&format!("{stack}/resources/nope")).await.unwrap();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"]["message"],
        "The Resource (nope) could not be found in Stack native."
    );
    let (status, body) = api.get("/stacks/missing").await.unwrap();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"code": 404, "title": "Not Found", "explanation": "The resource could not be found.",
               "error": {"type": "EntityNotFound", "traceback": null, "message": "The Stack (missing) could not be found."}})
    );
    let (status, _) = api.get(&format!("/stacks/other/{stack_id}")).await.unwrap();
    assert_eq!(
        status,
        reqwest::StatusCode::NOT_FOUND,
        "a wrong name with a right id is a 404"
    );

    // The same name cannot be used twice.
    let (status, body) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "native", "template": TEMPLATE})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::CONFLICT);
    assert_eq!(
        body["error"]["message"],
        "The Stack (native) already exists."
    );

    let (_, list) = api.get("/stacks").await.unwrap();
    assert_eq!(list["stacks"][0]["stack_name"], "native");
    assert_eq!(list["stacks"][0]["stack_status"], "CREATE_COMPLETE");
    server.stop().await;
}

#[tokio::test]
async fn deletion_policy_retain_keeps_the_physical_resource() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = "heat_template_version: 2018-08-31\nresources:\n  kept:\n    type: OS::Heat::DeployedServer\n    deletion_policy: Retain\n  gone:\n    type: OS::Heat::DeployedServer\n";
    let stack = api
        .create_stack("retain", template, json!({}))
        .await
        .unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let kept = api.metadata_url(&stack, "kept").await.unwrap();
    let gone = api.metadata_url(&stack, "gone").await.unwrap();
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let deleted = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(deleted["stack_status"], "DELETE_COMPLETE", "{deleted}");
    assert_eq!(
        reqwest::get(&kept).await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    assert_eq!(
        reqwest::get(&gone).await.unwrap().status(),
        reqwest::StatusCode::NOT_FOUND
    );
    server.stop().await;
}
