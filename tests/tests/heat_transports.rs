//! The CFN and HEAT transports as an in-guest agent uses them, request by request:
//! POLL_SERVER_CFN (`DescribeStackResource` signed with the server's access key),
//! POLL_SERVER_HEAT and HEAT_SIGNAL (a stack user's password exchanged at `/v3` for a
//! token, then the native metadata and signal API), and the wait condition handle's
//! CFN_SIGNAL, TEMP_URL_SIGNAL and HEAT_SIGNAL `signal` attributes. Each credential reaches
//! only its own resource (403, nothing changed), stops working when its stack is deleted,
//! and never appears in the server's log. The stock Python agents run the same transports
//! in `stock_agents.rs`.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use updraft_e2e::{Api, Server};
use updraft_hooks::ec2_signature;

const T: Duration = Duration::from_secs(60);

fn template(server_transport: &str, signal_transport: &str) -> String {
    format!(
        r##"
heat_template_version: 2018-08-31
parameters:
  db_password:
    type: string
    hidden: true
    default: hidden-8f3a1c-value
resources:
  server:
    type: OS::Heat::DeployedServer
    properties:
      software_config_transport: {server_transport}
  other:
    type: OS::Heat::DeployedServer
    properties:
      software_config_transport: {server_transport}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      outputs: [{{name: result}}]
      config: "#!/bin/sh\necho hi > $heat_outputs_path.result\n"
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {{get_resource: config}}
      server: {{get_resource: server}}
      signal_transport: {signal_transport}
      input_values: {{db_password: {{get_param: db_password}}}}
outputs:
  result: {{value: {{get_attr: [deployment, result]}}}}
  occ: {{value: {{get_attr: [server, os_collect_config]}}}}
"##
    )
}

/// The `os-collect-config` section and the deployments of a server, as the admin sees them.
async fn server_document(api: &Api, stack: &str, server: &str) -> Value {
    for _ in 0..300 {
        let (_, md) = api
            .get(&format!("{stack}/resources/{server}/metadata"))
            .await
            .unwrap();
        if md["metadata"]["deployments"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
            || (server != "server" && md["metadata"]["os-collect-config"].is_object())
        {
            return md["metadata"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no document for {server}");
}

fn input(document: &Value, name: &str) -> Value {
    document["deployments"][0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .map(|i| i["value"].clone())
        .unwrap_or(Value::Null)
}

/// A signed `DescribeStackResource` as os-collect-config's cfn collector sends it.
async fn describe(
    cfn: &Value,
    logical: &str,
    extra: &[(&str, &str)],
    tamper: bool,
) -> (StatusCode, String) {
    let url = cfn["metadata_url"].as_str().unwrap();
    let (host, path) = url
        .strip_prefix("http://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let mut params: Vec<(String, String)> = vec![
        ("Action".into(), "DescribeStackResource".into()),
        (
            "StackName".into(),
            cfn["stack_name"].as_str().unwrap().into(),
        ),
        ("LogicalResourceId".into(), logical.into()),
        (
            "AWSAccessKeyId".into(),
            cfn["access_key_id"].as_str().unwrap().into(),
        ),
        ("SignatureVersion".into(), "2".into()),
        ("SignatureMethod".into(), "HmacSHA256".into()),
    ];
    params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut signature = ec2_signature::sign(
        cfn["secret_access_key"].as_str().unwrap(),
        "GET",
        host,
        &format!("/{path}"),
        &params,
    );
    if tamper {
        signature = format!("A{}", &signature[1..]);
    }
    params.push(("Signature".into(), signature));
    let response = reqwest::Client::new()
        .get(url)
        .query(&params)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn xml_field(xml: &str, field: &str) -> String {
    let open = format!("<{field}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = xml[start..].find(&format!("</{field}>")).unwrap() + start;
    xml[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn poll_server_cfn_reads_only_its_own_metadata_and_cfn_signal_completes() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack(
            "cfnpoll",
            &template("POLL_SERVER_CFN", "CFN_SIGNAL"),
            json!({}),
        )
        .await
        .unwrap();
    let doc = server_document(&api, &stack, "server").await;
    let occ = &doc["os-collect-config"];
    assert_eq!(occ["collectors"], json!(["cfn", "local"]));
    assert_eq!(occ["cfn"]["path"], json!("server.Metadata"));
    assert_eq!(occ["cfn"]["stack_name"], json!("cfnpoll"));
    let cfn = occ["cfn"].clone();

    // The agent's poll: XML with the document as JSON text inside <Metadata>.
    let (status, xml) = describe(&cfn, "server", &[], false).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(xml.starts_with("<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail><Description>"), "{xml}");
    assert!(xml.contains("<ResourceType>OS::Heat::DeployedServer</ResourceType>"));
    assert!(xml.ends_with("<ResourceStatus>CREATE_COMPLETE</ResourceStatus></StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>"), "{xml}");
    let served: Value = serde_json::from_str(&xml_field(&xml, "Metadata")).unwrap();
    assert_eq!(
        served, doc,
        "DescribeStackResource serves the server's document"
    );
    let (status, body) = describe(&cfn, "server", &[("ContentType", "JSON")], false).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["DescribeStackResourceResponse"]["DescribeStackResourceResult"]["StackResourceDetail"]
            ["Metadata"],
        doc
    );

    // Its key reads nothing else; a tampered signature nothing at all.
    let (status, xml) = describe(&cfn, "other", &[], false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{xml}");
    assert!(xml.contains("<Code>AccessDenied</Code>"), "{xml}");
    let (status, xml) = describe(&cfn, "server", &[], true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(xml.contains("<Code>SignatureDoesNotMatch</Code>"), "{xml}");

    // CFN_SIGNAL, Heat's default for deployments: POST the pre-signed URL.
    let url = input(&served, "deploy_signal_id");
    assert!(
        url.as_str()
            .unwrap()
            .contains("/v1/signal/arn%3Aopenstack%3Aheat%3A%3A"),
        "{url}"
    );
    assert_eq!(input(&served, "deploy_signal_verb"), json!("POST"));
    let status = reqwest::Client::new()
        .post(url.as_str().unwrap())
        .json(&json!({"deploy_stdout": "", "deploy_stderr": "", "deploy_status_code": 0, "result": "hi"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let body = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    assert_eq!(Api::output(&body, "result"), json!("hi"));

    // Deleted: the key stops working.
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    api.wait_stack(&stack, T).await.unwrap();
    let (status, _) = describe(&cfn, "server", &[], false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let log = server.log_text();
    assert!(
        !log.contains(cfn["secret_access_key"].as_str().unwrap()),
        "a secret key was logged"
    );
}

/// `POST /v3/auth/tokens` with a stack user's id and password: the status, the token and
/// the body.
async fn keystone_token(
    auth_url: &str,
    user_id: &str,
    password: &str,
    project: &str,
) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/auth/tokens", auth_url.trim_end_matches('/')))
        .json(&json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": user_id, "password": password}}},
            "scope": {"project": {"id": project}},
        }}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let token = response
        .headers()
        .get("x-subject-token")
        .map(|v| v.to_str().unwrap().to_string());
    (status, token, response.json().await.unwrap_or(Value::Null))
}

fn orchestration_url(token_body: &Value) -> String {
    token_body["token"]["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "orchestration")
        .unwrap()["endpoints"][0]["url"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn with_token(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("X-Auth-Token", token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let response = req.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn poll_server_heat_and_heat_signal_go_through_v3_and_stay_in_scope() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack(
            "heatpoll",
            &template("POLL_SERVER_HEAT", "HEAT_SIGNAL"),
            json!({}),
        )
        .await
        .unwrap();
    let neighbour = api
        .create_stack(
            "neighbour",
            &template("POLL_SERVER_HEAT", "HEAT_SIGNAL"),
            json!({}),
        )
        .await
        .unwrap();
    let doc = server_document(&api, &stack, "server").await;
    let occ = &doc["os-collect-config"];
    assert_eq!(occ["collectors"], json!(["heat", "local"]));
    let heat = occ["heat"].clone();
    assert_eq!(heat["resource_name"], json!("server"));
    let auth_url = heat["auth_url"].as_str().unwrap();
    assert!(auth_url.ends_with("/v3/"), "{auth_url}");

    // Discovery, then a token for the server's user.
    let discovery: Value = reqwest::get(auth_url).await.unwrap().json().await.unwrap();
    assert_eq!(discovery["version"]["id"], json!("v3.14"));
    assert_eq!(discovery["version"]["links"][0]["href"], json!(auth_url));
    let project = heat["project_id"].as_str().unwrap();
    let (status, _, _) = keystone_token(
        auth_url,
        heat["user_id"].as_str().unwrap(),
        "not-the-password",
        project,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, token, body) = keystone_token(
        auth_url,
        heat["user_id"].as_str().unwrap(),
        heat["password"].as_str().unwrap(),
        project,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = token.unwrap();
    let heat_url = orchestration_url(&body);
    assert_eq!(heat_url, api.url(""));

    // The heat collector's read: its own metadata, nothing else.
    let own = format!(
        "{heat_url}/stacks/{}/resources/server/metadata",
        heat["stack_id"].as_str().unwrap()
    );
    let (status, md) = with_token(reqwest::Method::GET, &own, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{md}");
    assert_eq!(md["metadata"], doc);
    let sibling = own.replace("/resources/server/", "/resources/other/");
    assert_eq!(
        with_token(reqwest::Method::GET, &sibling, &token, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let foreign = format!("{heat_url}{neighbour}/resources/server/metadata");
    assert_eq!(
        with_token(reqwest::Method::GET, &foreign, &token, None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        with_token(
            reqwest::Method::GET,
            &format!("{heat_url}/stacks"),
            &token,
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let server_id = input(&doc, "deploy_server_id");
    let (status, listed) = with_token(
        reqwest::Method::GET,
        &format!(
            "{heat_url}/software_deployments/metadata/{}",
            server_id.as_str().unwrap()
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["metadata"], doc["deployments"]);
    let (_, other_resource) = api.get(&format!("{stack}/resources/other")).await.unwrap();
    let other_id = other_resource["resource"]["physical_resource_id"]
        .as_str()
        .unwrap();
    let (status, _) = with_token(
        reqwest::Method::GET,
        &format!("{heat_url}/software_deployments/metadata/{other_id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // HEAT_SIGNAL as heat-config-notify does it: the deployment's own user signals it.
    assert_eq!(input(&doc, "deploy_auth_url"), json!(auth_url));
    let (status, dep_token, dep_body) = keystone_token(
        input(&doc, "deploy_auth_url").as_str().unwrap(),
        input(&doc, "deploy_user_id").as_str().unwrap(),
        input(&doc, "deploy_password").as_str().unwrap(),
        input(&doc, "deploy_project_id").as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{dep_body}");
    let dep_token = dep_token.unwrap();
    // Not the neighbour's deployment, and the server's own token signals nothing.
    let neighbour_signal = format!("{heat_url}{neighbour}/resources/deployment/signal");
    let body =
        json!({"deploy_stdout": "", "deploy_stderr": "", "deploy_status_code": 0, "result": "hi"});
    assert_eq!(
        with_token(
            reqwest::Method::POST,
            &neighbour_signal,
            &dep_token,
            Some(body.clone())
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let signal = format!(
        "{heat_url}/stacks/{}/resources/{}/signal",
        input(&doc, "deploy_stack_id").as_str().unwrap(),
        input(&doc, "deploy_resource_name").as_str().unwrap()
    );
    assert_eq!(
        with_token(reqwest::Method::POST, &signal, &token, Some(body.clone()))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, neighbour_body) = api.get(&neighbour).await.unwrap();
    assert_eq!(
        neighbour_body["stack"]["stack_status"],
        "CREATE_IN_PROGRESS"
    );
    let (status, reply) = with_token(reqwest::Method::POST, &signal, &dep_token, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "result"), json!("hi"));

    // Validation of a token, then the stack goes and so do its users.
    let validate = reqwest::Client::new()
        .get(format!("{}auth/tokens", auth_url))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &dep_token)
        .send()
        .await
        .unwrap();
    assert_eq!(validate.status(), StatusCode::OK);
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        with_token(reqwest::Method::GET, &own, &token, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = keystone_token(
        auth_url,
        heat["user_id"].as_str().unwrap(),
        heat["password"].as_str().unwrap(),
        project,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The hidden parameter is shown masked, and never logged.
    let (_, shown) = api.get(&neighbour).await.unwrap();
    assert_eq!(shown["stack"]["parameters"]["db_password"], json!("******"));
    let log = server.log_text();
    assert!(
        !log.contains("hidden-8f3a1c-value"),
        "a hidden parameter was logged"
    );
    for secret in [
        heat["password"].as_str().unwrap(),
        input(&doc, "deploy_password").as_str().unwrap(),
        &token,
        &dep_token,
    ] {
        assert!(!log.contains(secret), "a password or token was logged");
    }
}

const HANDLES: &str = r#"
heat_template_version: 2018-08-31
resources:
  cfn_handle:
    type: OS::Heat::WaitConditionHandle
    properties: {signal_transport: CFN_SIGNAL}
  temp_handle:
    type: OS::Heat::WaitConditionHandle
    properties: {signal_transport: TEMP_URL_SIGNAL}
  heat_handle:
    type: OS::Heat::WaitConditionHandle
    properties: {signal_transport: HEAT_SIGNAL}
  cfn_wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: cfn_handle}, timeout: 120}
  temp_wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: temp_handle}, timeout: 120}
  heat_wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: heat_handle}, timeout: 120}
outputs:
  cfn: {value: {get_attr: [cfn_handle, signal]}}
  temp: {value: {get_attr: [temp_handle, signal]}}
  heat: {value: {get_attr: [heat_handle, signal]}}
  curl: {value: {get_attr: [heat_handle, curl_cli]}}
  data: {value: [{get_attr: [cfn_wait, data]}, {get_attr: [temp_wait, data]}, {get_attr: [heat_wait, data]}]}
"#;

fn curl(method: &str, url: &str, headers: &[String], body: &str) -> String {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.args(["--data-binary", body, url]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn wait_condition_handles_signal_over_every_transport() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("handles", HANDLES, json!({}))
        .await
        .unwrap();
    let mut signals = serde_json::Map::new();
    for _ in 0..300 {
        let (_, body) = api.get(&stack).await.unwrap();
        for key in ["cfn", "temp", "heat"] {
            let v = Api::output(&body["stack"], key);
            if v.is_string() {
                signals.insert(
                    key.into(),
                    serde_json::from_str(v.as_str().unwrap()).unwrap(),
                );
            }
        }
        if signals.len() == 3 {
            assert!(
                Api::output(&body["stack"], "curl").is_null(),
                "curl_cli is TOKEN_SIGNAL's only"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(signals.len(), 3, "signal attributes: {signals:?}");
    let json_header = vec!["Content-Type: application/json".to_string()];
    let cfn = signals["cfn"]["alarm_url"].as_str().unwrap();
    assert!(
        cfn.contains("/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3A"),
        "{cfn}"
    );
    assert_eq!(
        curl(
            "PUT",
            cfn,
            &json_header,
            r#"{"status": "SUCCESS", "data": "cfn-ok", "id": "c"}"#
        ),
        "200"
    );
    let temp = signals["temp"]["alarm_url"].as_str().unwrap();
    assert_eq!(
        curl(
            "PUT",
            temp,
            &json_header,
            r#"{"status": "SUCCESS", "data": "temp-ok", "id": "t"}"#
        ),
        "200"
    );
    // A PUT URL is not a POST URL.
    assert_eq!(
        curl("POST", temp, &json_header, r#"{"status": "FAILURE"}"#),
        "403"
    );
    let heat = &signals["heat"];
    assert_eq!(
        heat.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "auth_url",
            "username",
            "user_id",
            "password",
            "project_id",
            "domain_id",
            "region_name",
            "alarm_url"
        ]
    );
    let (status, token, _) = keystone_token(
        heat["auth_url"].as_str().unwrap(),
        heat["user_id"].as_str().unwrap(),
        heat["password"].as_str().unwrap(),
        heat["project_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let auth = format!("X-Auth-Token: {}", token.unwrap());
    let other_handle = heat["alarm_url"]
        .as_str()
        .unwrap()
        .replace("/heat_handle/", "/cfn_handle/");
    assert_eq!(
        curl(
            "POST",
            &other_handle,
            &[auth.clone(), json_header[0].clone()],
            "{}"
        ),
        "403"
    );
    assert_eq!(
        curl(
            "POST",
            heat["alarm_url"].as_str().unwrap(),
            &[auth, json_header[0].clone()],
            r#"{"status": "SUCCESS", "data": "heat-ok", "id": "h"}"#
        ),
        "200"
    );
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let data: Vec<Value> = Api::output(&done, "data")
        .as_array()
        .unwrap()
        .iter()
        .map(|d| serde_json::from_str(d.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        data,
        [
            json!({"c": "cfn-ok"}),
            json!({"t": "temp-ok"}),
            json!({"h": "heat-ok"})
        ]
    );
    assert!(
        !server
            .log_text()
            .contains(heat["password"].as_str().unwrap())
    );
}
