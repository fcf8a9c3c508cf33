//! The software-deployments API (`/software_deployments`) end to end: create, list, show,
//! update and delete over HTTP, scoped to the path's project; a deployment made by the API
//! reaches the metadata an agent polls for its server; the `openstack software deployment`
//! commands against the real server; and a signal for a deployment resource whose row does
//! not exist is Heat's 404 `ResourceNotAvailable`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::openstack::{openstack, openstack_cli};
use updraft_e2e::{Api, Server, one_deployment_template};

const SERVER_ONLY: &str = r#"heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
"#;

/// Creates a stack with one DeployedServer; its physical id and metadata URL.
async fn server_stack(api: &Api, name: &str) -> (String, String) {
    let stack = api
        .create_stack(name, SERVER_ONLY, json!({}))
        .await
        .unwrap();
    let done = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let (_, res) = api.get(&format!("{stack}/resources/server")).await.unwrap();
    let server_id = res["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    (server_id, url)
}

/// The `deployments` of the document at a server's metadata URL, as an agent gets them.
async fn polled_deployments(url: &str) -> Vec<Value> {
    let doc: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    doc["deployments"].as_array().cloned().unwrap_or_default()
}

async fn new_config(api: &Api, name: &str) -> String {
    let (status, body) = api
        .call(
            Method::POST,
            "/software_configs",
            Some(json!({"name": name, "group": "script", "config": "#!/bin/sh\necho hi\n"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["software_config"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn deployments_are_created_listed_updated_and_deleted() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (server_id, url) = server_stack(&api, "srv").await;
    let config = new_config(&api, "cfg-a").await;
    assert!(polled_deployments(&url).await.is_empty());

    let (status, body) = api
        .call(
            Method::POST,
            "/software_deployments",
            Some(json!({"config_id": config, "server_id": server_id,
                        "input_values": {"a": 1}, "action": "CREATE", "status": "IN_PROGRESS"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let dep = body["software_deployment"].clone();
    let mut keys: Vec<&str> = dep
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action",
            "config_id",
            "creation_time",
            "id",
            "input_values",
            "output_values",
            "server_id",
            "status",
            "status_reason",
            "updated_time"
        ]
    );
    assert_eq!(dep["input_values"], json!({"a": 1}));
    assert_eq!(dep["output_values"], json!({}));
    assert_eq!(dep["action"], "CREATE");
    assert_eq!(dep["status"], "IN_PROGRESS");
    assert_eq!(dep["updated_time"], Value::Null);
    assert!(dep["creation_time"].as_str().unwrap().ends_with('Z'));
    let id = dep["id"].as_str().unwrap().to_string();

    // The agent's document has it, as does the metadata API.
    let polled = polled_deployments(&url).await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0]["id"], config.as_str());
    assert_eq!(polled[0]["name"], "cfg-a");
    let (_, md) = api
        .get(&format!("/software_deployments/metadata/{server_id}"))
        .await
        .unwrap();
    assert_eq!(md["metadata"][0]["id"], config.as_str(), "{md}");

    // Defaults: INIT / COMPLETE, no inputs.
    let (status, body) = api
        .call(
            Method::POST,
            "/software_deployments",
            Some(json!({"config_id": config, "server_id": "elsewhere"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["software_deployment"]["action"], "INIT");
    assert_eq!(body["software_deployment"]["status"], "COMPLETE");
    assert_eq!(body["software_deployment"]["input_values"], json!({}));
    let other_id = body["software_deployment"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let ids = |body: &Value| -> Vec<String> {
        body["software_deployments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, all) = api.get("/software_deployments").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let mut listed = ids(&all);
    listed.sort();
    let mut expected = vec![id.clone(), other_id.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    let (_, one) = api
        .get(&format!("/software_deployments?server_id={server_id}"))
        .await
        .unwrap();
    assert_eq!(ids(&one), [id.as_str()]);

    let (status, shown) = api
        .get(&format!("/software_deployments/{id}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["software_deployment"], dep);

    // A plain setter: given keys only, nulls ignored, no signal rules.
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/software_deployments/{id}"),
            Some(json!({"status": "FAILED", "status_reason": "by hand",
                        "output_values": {"deploy_status_code": 0, "result": "r"}, "action": null})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated = &body["software_deployment"];
    assert_eq!(updated["status"], "FAILED");
    assert_eq!(updated["status_reason"], "by hand");
    assert_eq!(updated["action"], "CREATE");
    assert_eq!(updated["output_values"]["result"], "r");
    assert!(updated["updated_time"].as_str().unwrap().ends_with('Z'));

    // A new config_id republishes the server's document.
    let config_b = new_config(&api, "cfg-b").await;
    let (status, _) = api
        .call(
            Method::PUT,
            &format!("/software_deployments/{id}"),
            Some(json!({"config_id": config_b})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let polled = polled_deployments(&url).await;
    assert_eq!(polled[0]["id"], config_b.as_str(), "{polled:?}");

    // Another project sees none of it.
    let mut stranger = api.clone();
    stranger.project = "other".into();
    for method in [Method::GET, Method::DELETE] {
        let (status, body) = stranger
            .call(method, &format!("/software_deployments/{id}"), None)
            .await
            .unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["type"], "NotFound", "{body}");
    }
    let (_, none) = stranger.get("/software_deployments").await.unwrap();
    assert_eq!(none["software_deployments"], json!([]));
    // Nor can a deployment use another project's config.
    let (status, body) = stranger
        .call(
            Method::POST,
            "/software_deployments",
            Some(json!({"config_id": config, "server_id": server_id})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Bad requests.
    for bad in [
        json!({"config_id": config}),
        json!({"server_id": "s"}),
        json!({"config_id": config, "server_id": "s", "input_values": [1]}),
    ] {
        let (status, body) = api
            .call(Method::POST, "/software_deployments", Some(bad))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error"]["message"].is_string());
    }

    // Delete: 204, gone from the API and from the agent's document.
    let (status, _) = api
        .call(Method::DELETE, &format!("/software_deployments/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api
        .get(&format!("/software_deployments/{id}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"]["message"],
        format!("Software deployment with id {id} not found")
    );
    assert!(polled_deployments(&url).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_manages_software_deployments() {
    let Some(cli) = openstack_cli() else { return };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (server_id, url) = server_stack(&api, "clisrv").await;
    let config = new_config(&api, "src").await;

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &[
            "software",
            "deployment",
            "create",
            "--config",
            &config,
            "--server",
            &server_id,
            "--signal-transport",
            "NO_SIGNAL",
            "--input-value",
            "a=1",
            "-f",
            "json",
            "dep1",
        ],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["server_id"], server_id.as_str());
    assert_eq!(created["action"], "UPDATE");
    assert_eq!(created["status"], "IN_PROGRESS");
    let id = created["id"].as_str().unwrap().to_string();
    let derived = created["config_id"].as_str().unwrap().to_string();
    assert_ne!(derived, config);

    // The derived config the client built is what the agent polls.
    let polled = polled_deployments(&url).await;
    assert_eq!(polled.len(), 1, "{polled:?}");
    assert_eq!(polled[0]["name"], "dep1");
    let inputs = polled[0]["inputs"].as_array().unwrap();
    assert!(
        inputs
            .iter()
            .any(|i| i["name"] == "deploy_signal_transport" && i["value"] == "NO_SIGNAL"),
        "{inputs:?}"
    );

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &[
            "software",
            "deployment",
            "show",
            "--long",
            "-f",
            "json",
            &id,
        ],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["config_id"], derived.as_str());
    assert_eq!(shown["status"], "IN_PROGRESS");

    // What an agent's result would set (heatclient's update sends only the given keys).
    let (status, _) = api
        .call(
            Method::PUT,
            &format!("/software_deployments/{id}"),
            Some(
                json!({"output_values": {"result": "it worked", "deploy_status_code": 0},
                        "status": "COMPLETE", "status_reason": "Outputs received"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["software", "deployment", "output", "show", &id, "result"],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("it worked"), "{out}");

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["software", "deployment", "metadata", "show", &server_id],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let md: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(md[0]["id"], derived.as_str(), "{md}");
    assert_eq!(md[0]["name"], "dep1");

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["software", "deployment", "list", "-f", "json"],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");

    // Delete removes the deployment and (client side) its derived config.
    let (ok, out, err) = openstack(&cli, &api, &["software", "deployment", "delete", &id]).await;
    assert!(ok, "{out}\n{err}");
    let (status, _) = api
        .get(&format!("/software_deployments/{id}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .get(&format!("/software_configs/{derived}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(polled_deployments(&url).await.is_empty());
    let (ok, _, err) = openstack(&cli, &api, &["software", "deployment", "show", &id]).await;
    assert!(!ok);
    assert!(err.contains("Software Deployment not found"), "{err}");
    server.stop().await;
}

#[tokio::test]
async fn a_signal_before_the_deployment_row_exists_is_resource_not_available() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack(
            "early",
            &one_deployment_template("script", "#!/bin/sh\n"),
            json!({}),
        )
        .await
        .unwrap();
    let res = api
        .wait_resource(
            &stack,
            "deployment",
            "CREATE_IN_PROGRESS",
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    // Wait until the row exists, then take it away: the resource is as it is in the moment
    // between recording its physical id and writing its row.
    let id = res["physical_resource_id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = api
            .get(&format!("/software_deployments/{id}"))
            .await
            .unwrap();
        if status == StatusCode::OK {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no deployment row");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = api
        .call(Method::DELETE, &format!("/software_deployments/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api
        .call(
            Method::POST,
            &format!("{stack}/resources/deployment/signal"),
            Some(json!({"deploy_status_code": 0})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["type"], "ResourceNotAvailable");
    assert_eq!(
        body["error"]["message"],
        "The Resource (deployment) is not available."
    );
    server.stop().await;
}

#[tokio::test]
async fn an_agent_runs_a_deployment_made_through_the_api() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let (server_id, url) = server_stack(&api, "agentsrv").await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mut agent = updraft_e2e::Agent::start(&url, &dir.path().join("state"), &[]).unwrap();
    let (status, body) = api
        .call(
            Method::POST,
            "/software_configs",
            Some(json!({"name": "touch", "group": "script",
                        "config": format!("#!/bin/sh\necho $greeting > {}\n", marker.display()),
                        "inputs": [{"name": "greeting", "value": "hello"}]})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let config = body["software_config"]["id"].as_str().unwrap().to_string();
    let (status, body) = api
        .call(
            Method::POST,
            "/software_deployments",
            Some(json!({"config_id": config, "server_id": server_id,
                        "action": "CREATE", "status": "IN_PROGRESS"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the agent never ran the deployment: {}",
            agent.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), "hello");
    assert!(agent.is_running());
    agent.kill().await;
    server.stop().await;
}
