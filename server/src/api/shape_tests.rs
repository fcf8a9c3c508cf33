//! Response shapes of each endpoint group against reference heat-server.md §3.3 (field
//! names and JSON types), and the list/query behaviour of §3.2, through the real router.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::tests::{app, call, wait_for};

/// Checks that `value` has exactly these fields, each of one of the `|`-separated JSON
/// types (`string`, `number`, `bool`, `array`, `object`, `null`).
fn assert_shape(value: &Value, fields: &[(&str, &str)], at: &str) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{at} is not an object: {value}"));
    let mut expected: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let mut actual: Vec<&str> = object.keys().map(String::as_str).collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected, "the fields of {at}");
    for (key, kinds) in fields {
        let v = &object[*key];
        let kind = match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        assert!(
            kinds.split('|').any(|k| k == kind),
            "{at}.{key} is {kind} ({v}), expected {kinds}"
        );
    }
}

const STACK_SUMMARY: &[(&str, &str)] = &[
    ("id", "string"),
    ("links", "array"),
    ("stack_name", "string"),
    ("description", "string"),
    ("stack_status", "string"),
    ("stack_status_reason", "string"),
    ("creation_time", "string"),
    ("updated_time", "string|null"),
    ("deletion_time", "string|null"),
    ("stack_owner", "string|null"),
    ("parent", "string|null"),
    ("stack_user_project_id", "string"),
    ("tags", "array|null"),
];

const STACK_DETAIL: &[(&str, &str)] = &[
    ("stack_name", "string"),
    ("id", "string"),
    ("links", "array"),
    ("creation_time", "string"),
    ("updated_time", "string|null"),
    ("deletion_time", "string|null"),
    ("notification_topics", "array"),
    ("parameters", "object"),
    ("description", "string"),
    ("template_description", "string"),
    ("capabilities", "array"),
    ("disable_rollback", "bool"),
    ("timeout_mins", "number|null"),
    ("stack_owner", "string|null"),
    ("parent", "string|null"),
    ("stack_user_project_id", "string"),
    ("tags", "array"),
    ("stack_status", "string"),
    ("stack_status_reason", "string"),
];

const RESOURCE: &[(&str, &str)] = &[
    ("resource_name", "string"),
    ("logical_resource_id", "string"),
    ("physical_resource_id", "string"),
    ("resource_type", "string"),
    ("resource_status", "string"),
    ("resource_status_reason", "string"),
    ("creation_time", "string"),
    ("updated_time", "string"),
    ("required_by", "array"),
    ("links", "array"),
];

const EVENT: &[(&str, &str)] = &[
    ("id", "string"),
    ("links", "array"),
    ("event_time", "string"),
    ("logical_resource_id", "string"),
    ("resource_name", "string"),
    ("physical_resource_id", "string"),
    ("resource_status", "string"),
    ("resource_status_reason", "string"),
];

fn with(
    base: &[(&'static str, &'static str)],
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    base.iter().chain(extra).copied().collect()
}

/// A request answered with its headers too.
async fn raw(app: &Router, method: &str, uri: &str) -> (StatusCode, HeaderMap, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-auth-token", "test-token")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, value)
}

const TEMPLATE: &str = "heat_template_version: 2018-08-31
description: Two values.
resources:
  first:
    type: OS::Heat::Value
    description: The first one.
    properties: {value: one}
  second:
    type: OS::Heat::Value
    properties: {value: {get_attr: [first, value]}}
outputs:
  out: {value: {get_attr: [second, value]}}
";

async fn create(app: &Router, name: &str, tags: Option<&str>) -> String {
    let mut body = json!({"stack_name": name, "template": TEMPLATE,
        "environment": {"parameter_defaults": {"x": 1}}, "files": {"a.txt": "A"}});
    if let Some(tags) = tags {
        body["tags"] = json!(tags);
    }
    let (status, got) = call(app, "POST", "/v1/p1/stacks", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{got}");
    let id = got["stack"]["id"].as_str().unwrap().to_string();
    let href = format!("/v1/p1/stacks/{name}/{id}");
    wait_for(app, &href, "CREATE_COMPLETE").await;
    href
}

fn names(list: &Value) -> Vec<String> {
    list["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stack_name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn stack_list_filters_tags_pages_and_counts() {
    let (app, _dir) = app().await;
    let a = create(&app, "alpha", Some("web,prod")).await;
    // Creation times have a one-second resolution: keep the default order deterministic.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    create(&app, "beta", Some("web")).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    create(&app, "gamma", None).await;

    let (status, list) = call(&app, "GET", "/v1/p1/stacks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&list), ["gamma", "beta", "alpha"]);
    for s in list["stacks"].as_array().unwrap() {
        assert_shape(s, STACK_SUMMARY, "stacks[]");
    }
    assert_eq!(list["stacks"][2]["tags"], json!(["web", "prod"]));
    assert_eq!(list["stacks"][0]["tags"], Value::Null);
    assert!(list.get("links").is_none() && list.get("count").is_none());

    let (_, got) = call(&app, "GET", "/v1/p1/stacks?tags=web&sort_dir=asc", None).await;
    assert_eq!(names(&got), ["alpha", "beta"]);
    let (_, got) = call(&app, "GET", "/v1/p1/stacks?not_tags_any=prod", None).await;
    assert_eq!(names(&got), ["gamma", "beta"]);
    let (_, got) = call(&app, "GET", "/v1/p1/stacks?name=alpha&name=gamma", None).await;
    assert_eq!(names(&got), ["gamma", "alpha"]);
    let (_, got) = call(
        &app,
        "GET",
        "/v1/p1/stacks?stack_status=CREATE_COMPLETE&sort_keys=stack_name&sort_dir=asc",
        None,
    )
    .await;
    assert_eq!(names(&got), ["alpha", "beta", "gamma"]);

    // Paging: a full page has a `next` link carrying the marker; following it goes on.
    let (_, page1) = call(&app, "GET", "/v1/p1/stacks?limit=2&with_count=true", None).await;
    assert_eq!(names(&page1), ["gamma", "beta"]);
    assert_eq!(page1["count"], 3);
    let next = page1["links"][0]["href"].as_str().unwrap();
    assert_eq!(page1["links"][0]["rel"], "next");
    let beta_id = page1["stacks"][1]["id"].as_str().unwrap();
    assert!(next.contains(&format!("marker={beta_id}")), "{next}");
    let path = &next[next.find("/v1/").unwrap()..];
    let (_, page2) = call(&app, "GET", path, None).await;
    assert_eq!(names(&page2), ["alpha"]);
    assert!(page2.get("links").is_none());

    let (status, got) = call(&app, "GET", "/v1/p1/stacks?limit=x", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        got["error"]["message"],
        "Only integer is acceptable by 'limit'."
    );
    let (status, got) = call(&app, "GET", "/v1/p1/stacks?with_count=maybe", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");

    // Another project sees none of them; the admin's global_tenant sees them with `project`.
    let (_, got) = call(&app, "GET", "/v1/p2/stacks", None).await;
    assert_eq!(names(&got), Vec::<String>::new());
    let (_, got) = call(&app, "GET", "/v1/p2/stacks?global_tenant=true", None).await;
    assert_eq!(got["stacks"].as_array().unwrap().len(), 3);
    assert_eq!(got["stacks"][0]["project"], "p1");

    // Detail: full stack objects.
    let (status, detail) = call(&app, "GET", "/v1/p1/stacks/detail?name=alpha", None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_shape(&detail["stacks"][0], STACK_DETAIL, "stacks/detail[]");
    assert_eq!(detail["stacks"][0]["description"], "Two values.");

    // Show keeps the tags; a PATCH without tags keeps them, a PUT without tags drops them.
    let (_, shown) = call(&app, "GET", &a, None).await;
    assert_shape(
        &shown["stack"],
        &with(STACK_DETAIL, &[("outputs", "array")]),
        "stack",
    );
    assert_eq!(shown["stack"]["tags"], json!(["web", "prod"]));
    let (status, _) = call(&app, "PATCH", &a, Some(json!({"parameters": {}}))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let shown = wait_for(&app, &a, "UPDATE_COMPLETE").await;
    assert_eq!(shown["stack"]["tags"], json!(["web", "prod"]));
    let (_, _) = call(
        &app,
        "PUT",
        &a,
        Some(json!({"template": TEMPLATE, "tags": "blue"})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let shown = wait_for(&app, &a, "UPDATE_COMPLETE").await;
    assert_eq!(shown["stack"]["tags"], json!(["blue"]));

    // Deleted stacks only with show_deleted.
    let (status, _) = call(&app, "DELETE", &a, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for _ in 0..200 {
        let (_, got) = call(&app, "GET", "/v1/p1/stacks", None).await;
        if names(&got).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, got) = call(
        &app,
        "GET",
        "/v1/p1/stacks?show_deleted=true&name=alpha",
        None,
    )
    .await;
    assert_eq!(got["stacks"][0]["stack_status"], "DELETE_COMPLETE");
}

#[tokio::test]
async fn resources_events_environment_and_files() {
    let (app, _dir) = app().await;
    let href = create(&app, "s", None).await;

    let (_, list) = call(&app, "GET", &format!("{href}/resources"), None).await;
    for r in list["resources"].as_array().unwrap() {
        assert_shape(r, RESOURCE, "resources[]");
    }
    let (_, detailed) = call(
        &app,
        "GET",
        &format!("{href}/resources?with_detail=true&name=first"),
        None,
    )
    .await;
    let first = &detailed["resources"][0];
    assert_shape(
        first,
        &with(
            RESOURCE,
            &[("description", "string"), ("attributes", "object")],
        ),
        "resources[] with_detail",
    );
    assert_eq!(first["description"], "The first one.");
    assert_eq!(first["required_by"], json!(["second"]));
    let (_, got) = call(
        &app,
        "GET",
        &format!("{href}/resources?status=CREATE_COMPLETE&type=OS::Heat::Value"),
        None,
    )
    .await;
    assert_eq!(got["resources"].as_array().unwrap().len(), 2);
    let (status, got) = call(&app, "GET", &format!("{href}/resources?colour=red"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{got}");

    let (_, shown) = call(
        &app,
        "GET",
        &format!("{href}/resources/first?with_attr=value"),
        None,
    )
    .await;
    assert_shape(
        &shown["resource"],
        &with(
            RESOURCE,
            &[("description", "string"), ("attributes", "object")],
        ),
        "resource",
    );
    assert_eq!(shown["resource"]["attributes"]["value"], "one");

    let (_, events) = call(&app, "GET", &format!("{href}/events"), None).await;
    let events = events["events"].as_array().unwrap().clone();
    for e in &events {
        assert_shape(e, EVENT, "events[]");
    }
    // Newest first: the stack's own completion leads.
    assert_eq!(events[0]["resource_name"], "s");
    assert_eq!(events[0]["resource_status"], "CREATE_COMPLETE");
    let (_, got) = call(
        &app,
        "GET",
        &format!("{href}/events?resource_status=COMPLETE&resource_name=first"),
        None,
    )
    .await;
    assert_eq!(got["events"].as_array().unwrap().len(), 1);
    let (_, got) = call(
        &app,
        "GET",
        &format!("{href}/events?resource_type=OS::Heat::Value&sort_dir=asc&limit=1"),
        None,
    )
    .await;
    assert_eq!(got["events"][0]["resource_name"], "first");
    assert_eq!(got["events"][0]["resource_status"], "CREATE_IN_PROGRESS");
    let event_id = got["events"][0]["id"].as_str().unwrap();
    let (status, one) = call(
        &app,
        "GET",
        &format!("{href}/resources/first/events/{event_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_shape(
        &one["event"],
        &with(
            EVENT,
            &[
                ("resource_type", "string"),
                ("resource_properties", "object"),
            ],
        ),
        "event",
    );
    assert_eq!(one["event"]["resource_properties"]["value"], "one");
    let (status, _) = call(
        &app,
        "GET",
        &format!("{href}/resources/second/events/{event_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, env) = call(&app, "GET", &format!("{href}/environment"), None).await;
    assert_eq!(env["parameter_defaults"]["x"], 1);
    for section in [
        "parameters",
        "parameter_defaults",
        "resource_registry",
        "event_sinks",
        "encrypted_param_names",
    ] {
        assert!(env.get(section).is_some(), "{section} in {env}");
    }
    let (_, files) = call(&app, "GET", &format!("{href}/files"), None).await;
    assert_eq!(files, json!({"a.txt": "A"}));
    // Name-only forms redirect, as the other sub-paths.
    let (status, headers, _) = raw(&app, "GET", "/v1/p1/stacks/s/environment").await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("{href}/environment"))
    );
}

#[tokio::test]
async fn options_405_and_request_ids() {
    let (app, _dir) = app().await;
    let (status, headers, _) = raw(&app, "OPTIONS", "/v1/p1/stacks").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let allow = headers["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let (status, headers, body) = raw(&app, "DELETE", "/v1/p1/stacks").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], 405);
    assert_eq!(body["error"]["type"], "HTTPMethodNotAllowed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DELETE")
    );
    assert!(headers.contains_key("allow"));
    let id = headers["x-openstack-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("req-"), "{id}");
    // Repeated or bad query values are Heat's JSON error, never a bare text reply
    // (schemathesis found `?limit=1&limit=x` answered in plain text).
    let (status, _, body) = raw(&app, "GET", "/v1/p1/software_configs?limit=1&limit=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Only integer is acceptable by 'limit'."
    );
    let (status, _, body) = raw(
        &app,
        "GET",
        "/v1/p1/software_deployments?server_id=a&server_id=b",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, again, _) = raw(&app, "GET", "/v1/p1/nothing-here").await;
    assert_ne!(again["x-openstack-request-id"].to_str().unwrap(), id);
}

#[tokio::test]
async fn catalog_endpoints_have_heats_shapes() {
    let (app, _dir) = app().await;
    let (status, types) = call(&app, "GET", "/v1/p1/resource_types", None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = types["resource_types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.contains(&"OS::Heat::SoftwareDeployment")
            && names.contains(&"AWS::CloudFormation::WaitCondition")
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let (_, got) = call(
        &app,
        "GET",
        "/v1/p1/resource_types?name=OS::Heat::Software&with_description=true",
        None,
    )
    .await;
    for t in got["resource_types"].as_array().unwrap() {
        assert_shape(
            t,
            &[("resource_type", "string"), ("description", "string")],
            "resource_types[]",
        );
        assert!(
            t["resource_type"]
                .as_str()
                .unwrap()
                .starts_with("OS::Heat::Software")
        );
    }
    let (status, _) = call(&app, "GET", "/v1/p1/resource_types?name=(", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, schema) = call(
        &app,
        "GET",
        "/v1/p1/resource_types/OS::Heat::RandomString",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    assert_shape(
        &schema,
        &[
            ("resource_type", "string"),
            ("properties", "object"),
            ("attributes", "object"),
            ("support_status", "object"),
            ("description", "string"),
        ],
        "resource type",
    );
    let length = &schema["properties"]["length"];
    assert_shape(
        length,
        &[
            ("type", "string"),
            ("description", "string"),
            ("default", "number"),
            ("required", "bool"),
            ("update_allowed", "bool"),
            ("immutable", "bool"),
            ("constraints", "array"),
        ],
        "properties.length",
    );
    assert_eq!(length["default"], 32);
    let (status, got) = call(&app, "GET", "/v1/p1/resource_types/OS::Nope::Thing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        got["error"]["message"],
        "The Resource Type (OS::Nope::Thing) could not be found."
    );

    let (_, versions) = call(&app, "GET", "/v1/p1/template_versions", None).await;
    for v in versions["template_versions"].as_array().unwrap() {
        assert_shape(
            v,
            &[
                ("version", "string"),
                ("type", "string"),
                ("aliases", "array"),
            ],
            "template_versions[]",
        );
    }
    let (_, f) = call(
        &app,
        "GET",
        "/v1/p1/template_versions/heat_template_version.2013-05-23/functions",
        None,
    )
    .await;
    for item in f["template_functions"].as_array().unwrap() {
        assert_shape(
            item,
            &[("functions", "string"), ("description", "string")],
            "template_functions[]",
        );
    }
    let (_, f) = call(&app, "GET", "/v1/p1/template_versions/heat_template_version.2016-10-14/functions?with_condition_func=true", None).await;
    let names: Vec<&str> = f["template_functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["functions"].as_str())
        .collect();
    assert!(names.contains(&"equals"), "{names:?}");

    let (_, info) = call(&app, "GET", "/v1/p1/build_info", None).await;
    assert_shape(
        &info,
        &[("api", "object"), ("engine", "object")],
        "build_info",
    );
    assert!(
        info["api"]["revision"]
            .as_str()
            .unwrap()
            .starts_with("updraft ")
    );
}

#[tokio::test]
async fn software_and_snapshot_shapes() {
    let (app, _dir) = app().await;
    let (status, created) = call(
        &app,
        "POST",
        "/v1/p1/software_configs",
        Some(json!({"name": "c", "group": "script", "config": "echo hi",
                    "inputs": [{"name": "a"}], "outputs": [{"name": "b"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let config = &created["software_config"];
    assert_shape(
        config,
        &[
            ("id", "string"),
            ("name", "string"),
            ("group", "string"),
            ("creation_time", "string"),
            ("config", "string|object"),
            ("inputs", "array"),
            ("outputs", "array"),
            ("options", "object"),
        ],
        "software_config",
    );
    let config_id = config["id"].as_str().unwrap();
    let (_, listed) = call(&app, "GET", "/v1/p1/software_configs", None).await;
    assert_shape(
        &listed["software_configs"][0],
        &[
            ("id", "string"),
            ("name", "string"),
            ("group", "string"),
            ("creation_time", "string"),
        ],
        "software_configs[]",
    );

    let (status, deployed) = call(
        &app,
        "POST",
        "/v1/p1/software_deployments",
        Some(
            json!({"config_id": config_id, "server_id": "srv-1", "action": "CREATE",
                    "status": "IN_PROGRESS", "input_values": {"a": 1}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{deployed}");
    let deployment_fields: &[(&str, &str)] = &[
        ("id", "string"),
        ("server_id", "string"),
        ("config_id", "string"),
        ("input_values", "object"),
        ("output_values", "object|null"),
        ("action", "string"),
        ("status", "string"),
        ("status_reason", "string|null"),
        ("creation_time", "string"),
        ("updated_time", "string|null"),
    ];
    assert_shape(
        &deployed["software_deployment"],
        deployment_fields,
        "software_deployment",
    );
    let (_, listed) = call(
        &app,
        "GET",
        "/v1/p1/software_deployments?server_id=srv-1",
        None,
    )
    .await;
    assert_shape(
        &listed["software_deployments"][0],
        deployment_fields,
        "software_deployments[]",
    );
    let (_, metadata) = call(
        &app,
        "GET",
        "/v1/p1/software_deployments/metadata/srv-1",
        None,
    )
    .await;
    assert_eq!(
        metadata["metadata"].as_array().unwrap().len(),
        1,
        "{metadata}"
    );

    let href = create(&app, "snapped", None).await;
    let (status, snapshot) = call(
        &app,
        "POST",
        &format!("{href}/snapshots"),
        Some(json!({"name": "one"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{snapshot}");
    let snapshot_fields: &[(&str, &str)] = &[
        ("id", "string"),
        ("name", "string"),
        ("stack_id", "string"),
        ("data", "object"),
        ("action", "string"),
        ("status", "string"),
        ("status_reason", "string"),
        ("creation_time", "string"),
    ];
    assert_shape(&snapshot, snapshot_fields, "snapshot");
    let (_, listed) = call(&app, "GET", &format!("{href}/snapshots"), None).await;
    assert_shape(&listed["snapshots"][0], snapshot_fields, "snapshots[]");
    let sid = snapshot["id"].as_str().unwrap();
    let (_, shown) = call(&app, "GET", &format!("{href}/snapshots/{sid}"), None).await;
    assert_shape(&shown["snapshot"], snapshot_fields, "snapshot show");
}
