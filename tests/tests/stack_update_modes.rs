//! Update modes beyond PUT, as heatclient drives them: `PATCH` (`stack update --existing`)
//! with parameter merging and `clear_parameters`, update previews (`--dry-run`) that
//! classify each resource and change nothing, and create previews (`stack create
//! --dry-run`) that store nothing.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::{Api, Server};

const TEMPLATE: &str = r#"
heat_template_version: 2018-08-31
description: Update modes.
parameters:
  greeting: {type: string, default: hello}
  size: {type: number, default: 8}
  fixed: {type: string, default: f, immutable: true}
resources:
  value:
    type: OS::Heat::Value
    properties: {value: {get_param: greeting}}
  steady:
    type: OS::Heat::Value
    properties: {value: constant}
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: size}}
  nothing:
    type: OS::Heat::None
    properties: {note: {get_param: greeting}}
  old:
    type: OS::Heat::None
  shifty:
    type: OS::Heat::None
outputs:
  greeting: {value: {get_attr: [value, value]}}
  secret_length: {value: {get_param: size}}
"#;

/// [`TEMPLATE`] without `old`, with `extra`, `shifty` of another type.
const NEXT: &str = r#"
heat_template_version: 2018-08-31
description: Update modes, next.
parameters:
  greeting: {type: string, default: hello}
  size: {type: number, default: 8}
  fixed: {type: string, default: f, immutable: true}
resources:
  value:
    type: OS::Heat::Value
    properties: {value: {get_param: greeting}}
  steady:
    type: OS::Heat::Value
    properties: {value: constant}
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: size}}
  nothing:
    type: OS::Heat::None
    properties: {note: {get_param: greeting}}
  extra:
    type: OS::Heat::None
  shifty:
    type: OS::Heat::Value
    properties: {value: 1}
"#;

const WAIT: Duration = Duration::from_secs(30);

async fn call(api: &Api, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    api.call(method, path, Some(body)).await.unwrap()
}

async fn complete(api: &Api, stack: &str, wanted: &str) -> Value {
    let done = api.wait_stack(stack, WAIT).await.unwrap();
    assert_eq!(done["stack_status"], wanted, "{done}");
    done
}

/// Names in one section of a preview's `resource_changes`, sorted.
fn names(changes: &Value, section: &str) -> Vec<String> {
    let mut out: Vec<String> = changes["resource_changes"][section]
        .as_array()
        .unwrap_or_else(|| panic!("no {section} in {changes}"))
        .iter()
        .map(|r| r["resource_name"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn entry<'a>(changes: &'a Value, section: &str, name: &str) -> &'a Value {
    changes["resource_changes"][section]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource_name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {section}: {changes}"))
}

/// Everything a preview must leave untouched.
async fn snapshot(api: &Api, stack: &str) -> (Value, Value, Value) {
    let (_, resources) = api.get(&format!("{stack}/resources")).await.unwrap();
    let (_, events) = api.get(&format!("{stack}/events")).await.unwrap();
    let (_, shown) = api.get(stack).await.unwrap();
    (resources, events, shown)
}

#[tokio::test]
async fn patch_keeps_what_is_not_given() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (status, body) = call(
        &api,
        Method::POST,
        "/stacks",
        json!({"stack_name": "modes", "template": TEMPLATE, "timeout_mins": 30,
               "disable_rollback": false, "parameters": {"greeting": "hi", "size": 10}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["stack"]["id"].as_str().unwrap().to_string();
    let stack = format!("/stacks/modes/{id}");
    complete(&api, &stack, "CREATE_COMPLETE").await;
    let (_, before) = api.get(&format!("{stack}/resources/secret")).await.unwrap();

    // Only the given parameter changes; the template, the other parameter, the timeout and
    // the rollback setting are kept (heatclient's `--existing` body: template null).
    let (status, body) = call(
        &api,
        Method::PATCH,
        &stack,
        json!({"parameters": {"size": 12}, "template": null, "files": {}, "environment": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let done = complete(&api, &stack, "UPDATE_COMPLETE").await;
    assert_eq!(done["parameters"]["greeting"], "hi");
    assert_eq!(done["parameters"]["size"], "12");
    assert_eq!(done["parameters"]["fixed"], "f");
    assert_eq!(done["timeout_mins"], 30);
    assert_eq!(done["disable_rollback"], false);
    assert_eq!(done["description"], "Update modes.");
    assert_eq!(Api::output(&done, "greeting"), "hi");
    let (_, after) = api.get(&format!("{stack}/resources/secret")).await.unwrap();
    assert_ne!(
        before["resource"]["physical_resource_id"], after["resource"]["physical_resource_id"],
        "a new length replaces the secret"
    );
    assert_eq!(
        after["resource"]["attributes"]["value"]
            .as_str()
            .unwrap()
            .len(),
        12
    );

    // clear_parameters forgets the stored value: the default applies again.
    let (status, body) = call(
        &api,
        Method::PATCH,
        &stack,
        json!({"clear_parameters": ["greeting"]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let done = complete(&api, &stack, "UPDATE_COMPLETE").await;
    assert_eq!(done["parameters"]["greeting"], "hello");
    assert_eq!(done["parameters"]["size"], "12");
    assert_eq!(Api::output(&done, "greeting"), "hello");

    // A name-only PATCH is redirected like the other methods; heatclient re-sends it.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .patch(api.url("/stacks/modes"))
        .header("X-Auth-Token", &api.token)
        .json(&json!({"parameters": {"greeting": "again"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("{}/v1/demo{stack}", server.base));
    let resp = no_redirect
        .patch(&location)
        .header("X-Auth-Token", &api.token)
        .json(&json!({"parameters": {"greeting": "again"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let done = complete(&api, &stack, "UPDATE_COMPLETE").await;
    assert_eq!(done["parameters"]["greeting"], "again");

    // Missing stacks are Heat's 404, by canonical path and by name.
    let missing = "/stacks/modes/00000000-0000-4000-8000-000000000000";
    let (status, body) = call(&api, Method::PATCH, missing, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["type"], "EntityNotFound");
    let (status, body) = call(&api, Method::PATCH, "/stacks/nope", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        body["error"]["message"],
        "The Stack (nope) could not be found."
    );

    // An immutable parameter cannot be patched either, and nothing changes.
    let before = snapshot(&api, &stack).await;
    let (status, body) = call(
        &api,
        Method::PATCH,
        &stack,
        json!({"parameters": {"fixed": "g"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["type"], "ImmutableParameterModified");
    assert_eq!(snapshot(&api, &stack).await, before);
    server.stop().await;
}

#[tokio::test]
async fn update_previews_classify_and_change_nothing() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("preview", TEMPLATE, json!({"greeting": "hi"}))
        .await
        .unwrap();
    complete(&api, &stack, "CREATE_COMPLETE").await;
    let untouched = snapshot(&api, &stack).await;

    // PUT preview: a new template and parameters.
    let (status, changes) = call(
        &api,
        Method::PUT,
        &format!("{stack}/preview"),
        json!({"template": NEXT, "parameters": {"greeting": "changed", "size": 20}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    assert_eq!(names(&changes, "added"), ["extra"]);
    assert_eq!(names(&changes, "deleted"), ["old"]);
    assert_eq!(names(&changes, "replaced"), ["secret", "shifty"]);
    assert_eq!(names(&changes, "updated"), ["value"]);
    assert_eq!(names(&changes, "unchanged"), ["nothing", "steady"]);
    // Updated and deleted resources are shown as stored, the others as the new template
    // defines them (as Heat's preview does).
    let (_, stored_value) = api.get(&format!("{stack}/resources/value")).await.unwrap();
    let value = entry(&changes, "updated", "value");
    assert_eq!(value["resource_type"], "OS::Heat::Value");
    assert_eq!(value["resource_action"], "CREATE");
    assert_eq!(value["resource_status"], "COMPLETE");
    assert_eq!(
        value["physical_resource_id"],
        stored_value["resource"]["physical_resource_id"]
    );
    assert_eq!(value["stack_name"], "preview");
    let stack_id = stack.rsplit('/').next().unwrap();
    assert_eq!(
        value["stack_identity"],
        json!({"tenant": "demo", "stack_name": "preview", "stack_id": stack_id, "path": ""})
    );
    assert_eq!(value["resource_identity"]["path"], "/resources/value");
    let extra = entry(&changes, "added", "extra");
    assert_eq!(extra["resource_type"], "OS::Heat::None");
    assert_eq!(extra["resource_action"], "INIT");
    assert_eq!(extra["resource_status"], "COMPLETE");
    assert_eq!(extra["physical_resource_id"], "");
    assert_eq!(
        entry(&changes, "deleted", "old")["resource_action"],
        "CREATE"
    );

    // PATCH preview: the stored template, one parameter changed.
    let (status, changes) = call(
        &api,
        Method::PATCH,
        &format!("{stack}/preview"),
        json!({"parameters": {"size": 9}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    assert_eq!(names(&changes, "replaced"), ["secret"]);
    assert_eq!(
        names(&changes, "unchanged"),
        ["nothing", "old", "shifty", "steady", "value"]
    );
    for section in ["added", "deleted", "updated"] {
        assert!(names(&changes, section).is_empty(), "{section}: {changes}");
    }
    // clear_parameters in a preview: greeting back to its default updates the value.
    let (status, changes) = call(
        &api,
        Method::PATCH,
        &format!("{stack}/preview"),
        json!({"clear_parameters": ["greeting"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    assert_eq!(names(&changes, "updated"), ["value"]);
    assert_eq!(
        names(&changes, "unchanged"),
        ["nothing", "old", "secret", "shifty", "steady"]
    );

    // Bad previews are refused as the update would be.
    let (status, body) = call(
        &api,
        Method::PUT,
        &format!("{stack}/preview"),
        json!({"template": NEXT, "parameters": {"bogus": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["type"], "UnknownUserParameter");
    assert_eq!(
        body["error"]["message"],
        "The Parameter (bogus) was not defined in template."
    );
    let (status, body) = call(
        &api,
        Method::PATCH,
        &format!("{stack}/preview"),
        json!({"parameters": {"fixed": "other"}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["type"], "ImmutableParameterModified");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("fixed"),
        "{body}"
    );
    let (status, body) = call(
        &api,
        Method::PUT,
        "/stacks/preview/00000000-0000-4000-8000-000000000000/preview",
        json!({"template": NEXT}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Nothing was written: resources, events and the stack are as they were.
    assert_eq!(snapshot(&api, &stack).await, untouched);
    server.stop().await;
}

#[tokio::test]
async fn create_preview_stores_nothing() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let existing = api.create_stack("present", NEXT, json!({})).await.unwrap();
    complete(&api, &existing, "CREATE_COMPLETE").await;
    let (_, stacks_before) = api.get("/stacks").await.unwrap();

    let (status, body) = call(
        &api,
        Method::POST,
        "/stacks/preview",
        json!({"stack_name": "dry", "template": TEMPLATE, "parameters": {"size": 11}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stack = &body["stack"];
    assert_eq!(stack["stack_name"], "dry");
    assert_eq!(stack["id"], "None");
    assert_eq!(stack["description"], "Update modes.");
    assert_eq!(stack["parameters"]["size"], "11");
    assert_eq!(stack["parameters"]["OS::stack_id"], "None");
    assert!(stack.get("stack_status").is_none(), "{stack}");
    let resources = stack["resources"].as_array().unwrap();
    let mut listed: Vec<&str> = resources
        .iter()
        .map(|r| r["resource_name"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        ["nothing", "old", "secret", "shifty", "steady", "value"]
    );
    let secret = resources
        .iter()
        .find(|r| r["resource_name"] == "secret")
        .unwrap();
    assert_eq!(secret["resource_type"], "OS::Heat::RandomString");
    assert_eq!(secret["resource_action"], "INIT");
    assert_eq!(secret["resource_status"], "COMPLETE");
    assert_eq!(secret["properties"]["length"], 11);
    assert_eq!(secret["properties"]["salt"], Value::Null);
    assert_eq!(secret["required_by"], json!([]));
    let value = resources
        .iter()
        .find(|r| r["resource_name"] == "value")
        .unwrap();
    assert_eq!(value["properties"]["value"], "hello");

    // Nothing stored: the list is as before and the name is free.
    let (_, stacks_after) = api.get("/stacks").await.unwrap();
    assert_eq!(stacks_after, stacks_before);
    let (status, _) = api.get("/stacks/dry").await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The create's own checks apply.
    let (status, body) = call(
        &api,
        Method::POST,
        "/stacks/preview",
        json!({"stack_name": "present", "template": NEXT}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["type"], "StackExists");
    let (status, body) = call(
        &api,
        Method::POST,
        "/stacks/preview",
        json!({"stack_name": "dry", "template": TEMPLATE, "parameters": {"bogus": 1}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["type"], "UnknownUserParameter");
    server.stop().await;
}
