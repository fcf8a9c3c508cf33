//! Bad input gets a clear error that says where and what, never a panic: malformed YAML,
//! unknown types and functions, missing auth, forged capability URLs, an unreachable server.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Agent, Api, Server};

async fn create_raw(api: &Api, template: &str) -> (reqwest::StatusCode, Value) {
    api.call(
        reqwest::Method::POST,
        "/stacks",
        Some(json!({"stack_name": "bad", "template": template})),
    )
    .await
    .unwrap()
}

fn heat_error(body: &Value) -> (&str, &str) {
    (
        body["error"]["type"].as_str().unwrap_or_default(),
        body["error"]["message"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn template_errors_name_where_and_what() {
    let server = Server::start().await.unwrap();
    let api = server.api();

    let (status, body) = create_raw(
        &api,
        "heat_template_version: 2018-08-31\nresources:\n  a: [1, 2\n  b: 3\n",
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 400);
    assert_eq!(body["title"], "Bad Request");
    let (_, message) = heat_error(&body);
    assert!(
        message.contains("line ") && message.contains("column "),
        "{message}"
    );

    let (status, body) = create_raw(
        &api,
        "heat_template_version: 2018-08-31\nresources:\n  app:\n    type: OS::Nova::Nope\n",
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        heat_error(&body),
        (
            "StackValidationFailed",
            "resources.app: The Resource Type (OS::Nova::Nope) could not be found."
        )
    );

    let (status, body) = create_raw(
        &api,
        "heat_template_version: 2018-08-31\nresources:\n  app:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      config: {get_parm: script}\n",
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    let (kind, message) = heat_error(&body);
    assert_eq!(kind, "StackValidationFailed");
    assert!(
        message.starts_with("resources.app.properties.config: Unknown function \"get_parm\""),
        "{message}"
    );

    let (status, body) = create_raw(
        &api,
        "heat_template_version: 2018-08-31\nresources:\n  app:\n    type: OS::Heat::SoftwareConfig\n    properties:\n      config: [not, a, string]\n",
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        heat_error(&body).1,
        "resources.app.properties.config: Value must be a string, not a list"
    );

    let (status, body) = create_raw(
        &api,
        "heat_template_version: 2018-08-31\nresources:\n  dep:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      server: {get_resource: nowhere}\n",
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        heat_error(&body),
        (
            "InvalidTemplateReference",
            "The specified reference \"nowhere\" (in resources.dep.properties.server.get_resource) is incorrect."
        )
    );

    let (status, body) = create_raw(&api, "heat_template_version: 2099-01-01\n").await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(heat_error(&body).0, "InvalidTemplateVersion");

    let huge = format!(
        "heat_template_version: 2018-08-31\ndescription: {}\n",
        "x".repeat(600_000)
    );
    let (status, body) = create_raw(&api, &huge).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        heat_error(&body),
        (
            "RequestLimitExceeded",
            "Request limit exceeded: Template size (600048 bytes) exceeds maximum allowed size (524288 bytes)."
        )
    );

    // Nothing half-written: no stack was stored by any of these.
    let (_, list) = api.get("/stacks").await.unwrap();
    assert_eq!(list["stacks"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn requests_without_the_token_get_401() {
    let server = Server::start().await.unwrap();
    let resp = reqwest::get(format!("{}/v1/demo/stacks", server.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["type"], "HTTPUnauthorized");
    let mut api = server.api();
    api.token = "wrong".into();
    assert_eq!(
        api.get("/stacks").await.unwrap().0,
        reqwest::StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

#[tokio::test]
async fn forged_capability_urls_get_403_and_change_nothing() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n  dep:\n    type: OS::Heat::SoftwareDeployment\n    properties:\n      server: {get_resource: server}\n";
    let stack = api
        .create_stack("forged", template, json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "dep", "CREATE_IN_PROGRESS", Duration::from_secs(30))
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let client = reqwest::Client::new();

    let (base, sig) = url.split_once("?temp_url_sig=").unwrap();
    let mut forged = sig.to_string();
    forged.replace_range(0..1, if sig.starts_with('0') { "1" } else { "0" });
    for bad in [
        base.to_string(),
        format!("{base}?temp_url_sig={forged}"),
        format!("{base}?temp_url_sig=zz"),
    ] {
        let resp = client.get(&bad).send().await.unwrap();
        assert_eq!(resp.status(), reqwest::StatusCode::FORBIDDEN, "{bad}");
    }
    // Another server's path with this server's signature.
    let other = url.replacen("/metadata/", "/metadata/0", 1);
    assert_eq!(
        client.get(&other).send().await.unwrap().status(),
        reqwest::StatusCode::FORBIDDEN
    );

    // A metadata signature does not sign signals, and a forged signal changes nothing.
    let (_, dep) = api.get(&format!("{stack}/resources/dep")).await.unwrap();
    let deployment_id = dep["resource"]["physical_resource_id"].as_str().unwrap();
    let signal = format!(
        "{}/temp_url/v1/signal/{deployment_id}?temp_url_sig={sig}",
        server.base
    );
    let resp = client
        .put(&signal)
        .json(&json!({"deploy_status_code": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, dep) = api.get(&format!("{stack}/resources/dep")).await.unwrap();
    assert_eq!(dep["resource"]["resource_status"], "CREATE_IN_PROGRESS");
    let (_, events) = api.get(&format!("{stack}/events")).await.unwrap();
    assert!(!events.to_string().contains("SIGNAL_"), "{events}");
    server.stop().await;
}

#[tokio::test]
async fn agent_keeps_retrying_an_unreachable_server_with_growing_capped_delays() {
    // A port that nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/temp_url/v1/metadata/x?temp_url_sig=secret");
    let state = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(&url, &state.path().join("agent"), &[]).unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        agent.is_running(),
        "the agent gave up: {}",
        agent.log_text()
    );
    let log = agent.log_text();
    let delays: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("cannot reach metadata URL"))
        .filter_map(|l| l.split("retrying in ").nth(1))
        .filter_map(|rest| rest.split('s').next())
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    assert!(
        delays.len() >= 2,
        "expected repeated failures in the log:\n{log}"
    );
    assert!(
        delays.windows(2).all(|w| w[1] > w[0] * 0.9),
        "delays should grow: {delays:?}"
    );
    assert!(
        delays.iter().all(|d| *d <= 60.0 * 1.25),
        "delays should be capped: {delays:?}"
    );
    assert!(
        !log.contains("secret"),
        "the signature leaked into the log:\n{log}"
    );
    agent.kill().await;
}
