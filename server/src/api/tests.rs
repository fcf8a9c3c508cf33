//! HTTP tests through the real router on a real SQLite store.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{ApiState, router};
use crate::auth::temp_url::TempUrls;
use crate::engine::Engine;
use crate::engine::notifier::Notifier;
use crate::engine::services::Services;
use crate::resources::Registry;

const TOKEN: &str = "test-token";

pub(super) async fn app() -> (Router, tempfile::TempDir) {
    let (store, dir) = crate::store::test_store().await;
    let services = Arc::new(Services {
        store,
        temp_urls: TempUrls::new("http://127.0.0.1:9", b"key".to_vec()),
        notifier: Notifier::default(),
        registry: Registry::builtin(),
        limits: Default::default(),
        node: Default::default(),
        transports: Default::default(),
    });
    let state = ApiState {
        engine: Engine::new(services),
        admin_token: Arc::new(TOKEN.to_string()),
        identity: Default::default(),
    };
    (router(state), dir)
}

pub(super) async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-auth-token", TOKEN)
        .header("content-type", "application/json")
        .body(match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    (status, value)
}

/// Compares two JSON objects key by key, naming the first field that differs.
fn assert_same_fields(actual: &Value, expected: &Value, at: &str) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let mut ak: Vec<&String> = a.keys().collect();
            let mut ek: Vec<&String> = e.keys().collect();
            ak.sort();
            ek.sort();
            assert_eq!(ak, ek, "the fields of {at}");
            for (k, v) in e {
                assert_same_fields(&a[k], v, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(actual, expected, "{at}"),
    }
}

const EVERY_FEATURE: &str = r#"heat_template_version: 2018-03-02
description: Every parameter feature.
parameter_groups:
  - label: Server
    description: What runs where.
    parameters: [flavor, port]
  - label: Secrets
    parameters: [password]
parameters:
  flavor:
    type: string
    label: Flavor
    description: Instance flavor.
    default: m1.small
    tags: [compute, sizing]
    constraints:
      - allowed_values: [m1.small, m1.large]
        description: Small or large.
      - custom_constraint: nova.flavor
  port:
    type: number
    default: 8080
    immutable: true
    constraints:
      - range: {min: 1024, max: 65535}
        description: Unprivileged.
      - modulo: {step: 2, offset: 0}
  password:
    type: string
    hidden: true
    constraints:
      - length: {min: 8, max: 64}
      - allowed_pattern: "[A-Za-z0-9]+"
        description: Letters and digits.
  addresses:
    type: comma_delimited_list
    default: "10.0.0.1,10.0.0.2"
    constraints:
      - length: {min: 1}
      - custom_constraint: ip_addr
  settings:
    type: json
    default: {debug: false}
  enabled:
    type: boolean
    default: true
resources:
  v:
    type: OS::Heat::Value
    properties:
      value: {get_param: flavor}
"#;

#[tokio::test]
async fn validate_answers_heats_shape_for_every_parameter_feature() {
    let (app, _dir) = app().await;
    let body = json!({
        "template": EVERY_FEATURE,
        "parameters": {"flavor": "m1.large"},
        "environment": {
            "parameters": {"password": "S3cretpass"},
            "parameter_defaults": {"port": 9090}
        }
    });
    let (status, got) = call(&app, "POST", "/v1/p1/validate", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let expected = json!({
        "Description": "Every parameter feature.",
        "Parameters": {
            "flavor": {
                "Type": "String", "Description": "Instance flavor.", "NoEcho": "false",
                "Label": "Flavor", "Default": "m1.small", "Value": "m1.large",
                "Tags": ["compute", "sizing"], "AllowedValues": ["m1.small", "m1.large"],
                "CustomConstraint": "nova.flavor", "ConstraintDescription": "Small or large."
            },
            "port": {
                "Type": "Number", "Description": "", "NoEcho": "false", "Label": "port",
                "Default": 9090, "MinValue": 1024, "MaxValue": 65535, "Step": 2, "Offset": 0,
                "ConstraintDescription": "Unprivileged."
            },
            "password": {
                "Type": "String", "Description": "", "NoEcho": "true", "Label": "password",
                "Value": "******", "MinLength": 8, "MaxLength": 64,
                "AllowedPattern": "[A-Za-z0-9]+", "ConstraintDescription": "Letters and digits."
            },
            "addresses": {
                "Type": "CommaDelimitedList", "Description": "", "NoEcho": "false",
                "Label": "addresses", "Default": "10.0.0.1,10.0.0.2", "MinLength": 1,
                "CustomConstraint": "ip_addr"
            },
            "settings": {
                "Type": "Json", "Description": "", "NoEcho": "false", "Label": "settings",
                "Default": {"debug": false}
            },
            "enabled": {
                "Type": "Boolean", "Description": "", "NoEcho": "false", "Label": "enabled",
                "Default": true
            }
        },
        "ParameterGroups": [
            {"label": "Server", "description": "What runs where.", "parameters": ["flavor", "port"]},
            {"label": "Secrets", "parameters": ["password"]}
        ],
        "Environment": {
            "resource_registry": {"resources": {}},
            "parameters": {"password": "******", "flavor": "m1.large"},
            "parameter_defaults": {"port": 9090},
            "event_sinks": []
        }
    });
    assert_same_fields(&got, &expected, "response");
    // Heat's key order within a parameter.
    let keys: Vec<&String> = got["Parameters"]["flavor"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        keys,
        [
            "Type",
            "Description",
            "NoEcho",
            "Label",
            "Default",
            "Value",
            "Tags",
            "AllowedValues",
            "CustomConstraint",
            "ConstraintDescription"
        ]
    );
    assert!(!got.to_string().contains("S3cretpass"));
}

#[tokio::test]
async fn validate_without_description_or_groups() {
    let (app, _dir) = app().await;
    let body = json!({"template": {"heat_template_version": "2013-05-23"}});
    let (status, got) = call(&app, "POST", "/v1/p1/validate?show_nested=true", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(
        got,
        json!({
            "Description": "No description",
            "Parameters": {},
            "Environment": {
                "resource_registry": {"resources": {}}, "parameters": {},
                "parameter_defaults": {}, "event_sinks": []
            }
        })
    );
}

#[tokio::test]
async fn validate_reports_every_error_as_bad_request() {
    let (app, _dir) = app().await;
    let template = "heat_template_version: 2018-08-31
parameters:
  p: {type: number, default: 5, constraints: [{range: {max: 1}}]}
resources:
  a: {type: OS::Nope}
  b: {type: OS::Heat::Value, properties: {value: {get_param: q}}}
";
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/validate",
        Some(json!({"template": template})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["type"], "HTTPBadRequest");
    assert_eq!(
        got["error"]["message"],
        "Parameter 'p' is invalid: Invalid default 5 (5 is out of range (min: None, max: 1))\n\
         resources.a: The Resource Type (OS::Nope) could not be found.\n\
         resources.b.properties.value.get_param: The Parameter (q) was not provided."
    );
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/validate?ignore_errors=99001,12",
        Some(json!({"template": {"heat_template_version": "2013-05-23"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["error"]["message"],
        "Invalid codes in ignore_errors : ['12']"
    );
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/validate?show_nested=maybe",
        Some(json!({"template": {"heat_template_version": "2013-05-23"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["error"]["message"],
        "Unrecognized value \"maybe\" for \"show_nested\", acceptable values are: true, false."
    );
    let (status, got) = call(&app, "POST", "/v1/p1/validate", Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["message"], "No template specified");
}

#[tokio::test]
async fn create_reports_one_error_as_heat_and_several_joined() {
    let (app, _dir) = app().await;
    let one = json!({
        "stack_name": "s1",
        "template": "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string}\n"
    });
    let (status, got) = call(&app, "POST", "/v1/p1/stacks", Some(one)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["type"], "UserParameterMissing");
    assert_eq!(
        got["error"]["message"],
        "The Parameter (p) was not provided."
    );
    let several = json!({
        "stack_name": "s1",
        "template": "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string, constraints: [{length: {max: 2}}]}\nresources:\n  a: {type: OS::Nope}\n",
        "parameters": {"p": "long", "q": 1}
    });
    let (status, got) = call(&app, "POST", "/v1/p1/stacks", Some(several)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["type"], "StackValidationFailed");
    assert_eq!(
        got["error"]["message"],
        "The Parameter (q) was not defined in template.\n\
         Parameter 'p' is invalid: length (4) is out of range (min: None, max: 2)\n\
         resources.a: The Resource Type (OS::Nope) could not be found."
    );
    let hidden = json!({
        "stack_name": "s1",
        "template": "heat_template_version: 2018-08-31\nparameters:\n  p: {type: string, hidden: true, constraints: [{allowed_pattern: '[0-9]+'}]}\n",
        "parameters": {"p": "Hunter2"}
    });
    let (status, got) = call(&app, "POST", "/v1/p1/stacks", Some(hidden)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["error"]["message"],
        "Parameter 'p' is invalid: \"******\" does not match pattern \"[0-9]+\""
    );
}

pub(super) async fn wait_for(app: &Router, href: &str, status: &str) -> Value {
    for _ in 0..200 {
        let (_, got) = call(app, "GET", href, None).await;
        let s = got["stack"]["stack_status"].as_str().unwrap_or_default();
        if s == status {
            return got;
        }
        assert!(!s.ends_with("FAILED"), "{got}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{href} never reached {status}");
}

#[tokio::test]
async fn update_refuses_to_change_an_immutable_parameter() {
    let (app, _dir) = app().await;
    let template = "heat_template_version: 2018-08-31
parameters:
  fixed: {type: string, immutable: true}
  free: {type: string, default: a}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: fixed}}}
";
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/stacks",
        Some(json!({"stack_name": "s", "template": template, "parameters": {"fixed": "1"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["stack"]["id"].as_str().unwrap().to_string();
    let href = format!("/v1/p1/stacks/s/{id}");
    wait_for(&app, &href, "CREATE_COMPLETE").await;
    let (status, got) = call(
        &app,
        "PUT",
        &href,
        Some(json!({"template": template, "parameters": {"fixed": "2", "free": "b"}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(got["error"]["type"], "ImmutableParameterModified");
    assert_eq!(
        got["error"]["message"],
        "The following parameters are immutable and may not be updated: fixed"
    );
    let (status, got) = call(
        &app,
        "PUT",
        &href,
        Some(json!({"template": template, "parameters": {"fixed": "1", "free": "b"}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{got}");
    wait_for(&app, &href, "UPDATE_COMPLETE").await;
}

const TEST_TYPES: &str = "heat_template_version: 2018-08-31
parameters:
  greeting: {type: string, default: hello}
  replace: {type: boolean, default: false}
resources:
  stub:
    type: OS::Heat::None
    properties:
      anything: {get_param: greeting}
      flavor: m1.small
  pause:
    type: OS::Heat::Delay
    properties: {min_wait: 0.05, max_jitter: 0.05}
  test:
    type: OS::Heat::TestResource
    depends_on: [pause, stub]
    properties:
      value: {get_param: greeting}
      update_replace: {get_param: replace}
      action_wait_secs: {create: 0.05}
outputs:
  out: {value: {get_attr: [test, output]}}
  stub_attr: {value: {get_attr: [stub, whatever]}}
  stub_id: {value: {get_resource: stub}}
";

fn output(stack: &Value, key: &str) -> Value {
    stack["stack"]["outputs"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["output_key"] == key))
        .map(|o| o["output_value"].clone())
        .unwrap_or_else(|| panic!("no output {key} in {stack}"))
}

#[tokio::test]
async fn none_test_resource_and_delay_create_and_update() {
    let (app, _dir) = app().await;
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/stacks",
        Some(json!({"stack_name": "t", "template": TEST_TYPES})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["stack"]["id"].as_str().unwrap().to_string();
    let href = format!("/v1/p1/stacks/t/{id}");
    let stack = wait_for(&app, &href, "CREATE_COMPLETE").await;
    assert_eq!(output(&stack, "out"), json!("hello"));
    assert_eq!(output(&stack, "stub_attr"), Value::Null);
    let stub_id = output(&stack, "stub_id");
    assert!(
        uuid::Uuid::parse_str(stub_id.as_str().unwrap()).is_ok(),
        "{stub_id}"
    );

    // A new greeting: the TestResource updates in place, the None resource is left alone
    // although its properties changed.
    let (status, got) = call(
        &app,
        "PUT",
        &href,
        Some(json!({"template": TEST_TYPES, "parameters": {"greeting": "bye"}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{got}");
    let stack = wait_for(&app, &href, "UPDATE_COMPLETE").await;
    assert_eq!(output(&stack, "out"), json!("bye"));
    assert_eq!(output(&stack, "stub_id"), stub_id);
    let (_, resources) = call(&app, "GET", &format!("{href}/resources"), None).await;
    let status = |name: &str| {
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource_name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {resources}"))["resource_status"]
            .clone()
    };
    assert_eq!(status("stub"), json!("CREATE_COMPLETE"));
    assert_eq!(status("pause"), json!("CREATE_COMPLETE"));
    assert_eq!(status("test"), json!("UPDATE_COMPLETE"));
    let physical = |resources: &Value, name: &str| {
        resources["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource_name"] == name)
            .unwrap()["physical_resource_id"]
            .clone()
    };
    let before = physical(&resources, "test");

    // update_replace with a new value: the TestResource is replaced.
    let (status, got) = call(
        &app,
        "PUT",
        &href,
        Some(json!({"template": TEST_TYPES, "parameters": {"greeting": "again", "replace": true}})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{got}");
    let stack = wait_for(&app, &href, "UPDATE_COMPLETE").await;
    assert_eq!(output(&stack, "out"), json!("again"));
    let (_, resources) = call(&app, "GET", &format!("{href}/resources"), None).await;
    let after = physical(&resources, "test");
    assert_ne!(after, before);
    assert!(after.as_str().unwrap().starts_with("t-test-"), "{after}");
}

#[tokio::test]
async fn a_failing_test_resource_fails_the_stack_with_heats_reason() {
    let (app, _dir) = app().await;
    let template = "heat_template_version: 2018-08-31
resources:
  broken: {type: OS::Heat::TestResource, properties: {fail: true}}
";
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/stacks",
        Some(json!({"stack_name": "f", "template": template})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let href = format!("/v1/p1/stacks/f/{}", got["stack"]["id"].as_str().unwrap());
    for _ in 0..200 {
        let (_, got) = call(&app, "GET", &href, None).await;
        if got["stack"]["stack_status"] == "CREATE_FAILED" {
            assert_eq!(
                got["stack"]["stack_status_reason"],
                "Resource CREATE failed: ValueError: resources.broken: Test Resource failed broken"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the stack never failed");
}

#[tokio::test]
async fn validation_reports_type_errors_in_heats_words() {
    let (app, _dir) = app().await;
    let template = "heat_template_version: 2018-08-31
resources:
  d: {type: OS::Heat::Delay, properties: {min_wait: -1, actions: [UPDATE]}}
  r: {type: OS::Heat::RandomString, properties: {length: 3, character_classes: [{class: digits, min: 4}]}}
  p: {type: OS::Heat::None, properties: {whatever: 1}, deletion_policy: Keep}
";
    let (status, got) = call(
        &app,
        "POST",
        "/v1/p1/validate",
        Some(json!({"template": template})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");
    let message = got["error"]["message"].as_str().unwrap();
    for expected in [
        "resources.p.deletion_policy: Invalid deletion policy \"Keep\"",
        "resources.d.properties.min_wait: -1 is out of range (min: 0, max: None)",
        "resources.d.properties.actions: [\"UPDATE\"] is not an allowed value [\"CREATE\", \"DELETE\", \"SUSPEND\", \"RESUME\"]",
        "resources.r: Length property cannot be smaller than combined character class and character sequence minimums",
    ] {
        assert!(message.contains(expected), "{expected}\nnot in\n{message}");
    }
    assert!(!message.contains("whatever"), "{message}");
}
