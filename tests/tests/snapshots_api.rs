//! Stack snapshots end to end: create (the stack goes SNAPSHOT_IN_PROGRESS →
//! SNAPSHOT_COMPLETE), list, show, restore (an update back to the snapshot's definition,
//! RESTORE_COMPLETE), delete, 409 while the stack is busy;
//! the same through `openstack stack snapshot …`; and abandon/export/adopt behind their
//! switches.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::openstack::{openstack, openstack_cli};
use updraft_e2e::{Api, Backend, Server, one_deployment_template, postgres_available};

const TEMPLATE: &str = r#"heat_template_version: 2018-08-31
parameters:
  v: {type: string, default: zero}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: 12}
  val:
    type: OS::Heat::Value
    properties:
      value: {get_param: v}
outputs:
  out: {value: {get_attr: [val, value]}}
  secret: {value: {get_attr: [secret, value]}}
"#;

async fn wait_done(api: &Api, stack: &str) -> Value {
    api.wait_stack(stack, Duration::from_secs(60))
        .await
        .unwrap()
}

/// The stack-level events of a stack, oldest first, as `ACTION_STATUS`.
async fn stack_events(api: &Api, stack: &str, name: &str) -> Vec<String> {
    let (_, body) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_name"] == name)
        .map(|e| e["resource_status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn snapshots_are_taken_listed_restored_and_deleted() {
    snapshot_round_trip(Backend::Sqlite).await;
}

/// The same on PostgreSQL (migration 0007 there too).
#[tokio::test]
async fn snapshots_work_on_postgres() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    snapshot_round_trip(Backend::Postgres).await;
}

async fn snapshot_round_trip(backend: Backend) {
    let server = Server::start_with(backend, &[]).await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("snappy", TEMPLATE, json!({"v": "one"}))
        .await
        .unwrap();
    let done = wait_done(&api, &stack).await;
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let secret = Api::output(&done, "secret");

    let (status, snap) = api
        .call(
            Method::POST,
            &format!("{stack}/snapshots"),
            Some(json!({"name": "first"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{snap}");
    let mut keys: Vec<&str> = snap
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
            "creation_time",
            "data",
            "id",
            "name",
            "stack_id",
            "status",
            "status_reason"
        ]
    );
    assert_eq!(snap["name"], "first");
    assert_eq!(snap["action"], "SNAPSHOT");
    assert_eq!(snap["status"], "COMPLETE");
    assert_eq!(snap["stack_id"], done["id"]);
    let data = &snap["data"];
    assert_eq!(data["id"], done["id"]);
    assert_eq!(data["name"], "snappy");
    assert_eq!(data["project_id"], "demo");
    assert_eq!(
        data["template"]["resources"]["val"]["type"],
        "OS::Heat::Value"
    );
    assert_eq!(data["environment"]["parameters"]["v"], "one", "{data}");
    assert_eq!(data["files"], json!({}));
    let val = &data["resources"]["val"];
    assert_eq!(val["type"], "OS::Heat::Value");
    assert_eq!(val["action"], "CREATE");
    assert_eq!(val["status"], "COMPLETE");
    let (_, res) = api.get(&format!("{stack}/resources/secret")).await.unwrap();
    assert_eq!(
        data["resources"]["secret"]["resource_id"],
        res["resource"]["physical_resource_id"]
    );
    let sid = snap["id"].as_str().unwrap().to_string();

    let (_, shown) = api.get(&stack).await.unwrap();
    assert_eq!(shown["stack"]["stack_status"], "SNAPSHOT_COMPLETE");
    assert_eq!(
        shown["stack"]["stack_status_reason"],
        "Stack SNAPSHOT completed successfully"
    );
    let events = stack_events(&api, &stack, "snappy").await;
    assert!(
        events.ends_with(&["SNAPSHOT_IN_PROGRESS".into(), "SNAPSHOT_COMPLETE".into()]),
        "{events:?}"
    );

    // Listed and shown.
    let (status, listed) = api.get(&format!("{stack}/snapshots")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["snapshots"].as_array().unwrap().len(), 1);
    assert_eq!(listed["snapshots"][0]["id"], sid.as_str());
    let (status, one) = api.get(&format!("{stack}/snapshots/{sid}")).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["snapshot"], snap);
    let (status, body) = api
        .get(&format!(
            "{stack}/snapshots/00000000-0000-0000-0000-000000000000"
        ))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["type"], "EntityNotFound", "{body}");

    // Change the stack, then restore it.
    let updated = api
        .update_stack(&stack, TEMPLATE, json!({"v": "two"}))
        .await
        .unwrap();
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE");
    assert_eq!(Api::output(&updated, "out"), "two");
    let (status, _) = api
        .call(
            Method::POST,
            &format!("{stack}/snapshots/{sid}/restore"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::ACCEPTED);
    let restored = wait_done(&api, &stack).await;
    assert_eq!(restored["stack_status"], "RESTORE_COMPLETE", "{restored}");
    assert_eq!(
        restored["stack_status_reason"],
        "Stack RESTORE completed successfully"
    );
    assert_eq!(Api::output(&restored, "out"), "one");
    assert_eq!(Api::output(&restored, "secret"), secret);
    let events = stack_events(&api, &stack, "snappy").await;
    assert!(
        events.ends_with(&["RESTORE_IN_PROGRESS".into(), "RESTORE_COMPLETE".into()]),
        "{events:?}"
    );

    // Delete: 204, then 404.
    let (status, _) = api
        .call(Method::DELETE, &format!("{stack}/snapshots/{sid}"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.get(&format!("{stack}/snapshots/{sid}")).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A snapshot of another stack is not found through this one.
    let other = api
        .create_stack("other", TEMPLATE, json!({}))
        .await
        .unwrap();
    wait_done(&api, &other).await;
    let (_, theirs) = api
        .call(Method::POST, &format!("{other}/snapshots"), Some(json!({})))
        .await
        .unwrap();
    let theirs = theirs["id"].as_str().unwrap().to_string();
    let (status, _) = api
        .get(&format!("{stack}/snapshots/{theirs}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    server.stop().await;
}

#[tokio::test]
async fn a_busy_stack_cannot_be_snapshotted() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    // The deployment waits for a signal that never comes: the stack stays IN_PROGRESS.
    let stack = api
        .create_stack(
            "busy",
            &one_deployment_template("script", "#!/bin/sh\n"),
            json!({}),
        )
        .await
        .unwrap();
    let (status, body) = api
        .call(
            Method::POST,
            &format!("{stack}/snapshots"),
            Some(json!({"name": "s"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["type"], "ActionInProgress");
    assert_eq!(
        body["error"]["message"],
        "Stack busy already has an action (CREATE) in progress."
    );
    let (_, listed) = api.get(&format!("{stack}/snapshots")).await.unwrap();
    assert_eq!(listed["snapshots"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_manages_snapshots() {
    let Some(cli) = openstack_cli() else { return };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("clisnap", TEMPLATE, json!({"v": "one"}))
        .await
        .unwrap();
    wait_done(&api, &stack).await;

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &[
            "stack", "snapshot", "create", "--name", "s1", "-f", "json", "clisnap",
        ],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["name"], "s1", "{created}");
    assert_eq!(created["status"], "COMPLETE");
    // The client names this column `ID`.
    let sid = created["ID"].as_str().unwrap().to_string();

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "snapshot", "list", "-f", "json", "clisnap"],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["id"], sid.as_str(), "{listed}");
    assert_eq!(listed[0]["name"], "s1");

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "snapshot", "show", "-f", "json", "clisnap", &sid],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    // The client prints Heat's body as it is: `{"snapshot": {...}}`.
    assert_eq!(shown["snapshot"]["id"], sid.as_str(), "{shown}");
    assert_eq!(shown["snapshot"]["status"], "COMPLETE");

    api.update_stack(&stack, TEMPLATE, json!({"v": "two"}))
        .await
        .unwrap();
    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "snapshot", "restore", "clisnap", &sid],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let restored = wait_done(&api, &stack).await;
    assert_eq!(restored["stack_status"], "RESTORE_COMPLETE", "{restored}");
    assert_eq!(Api::output(&restored, "out"), "one");

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "snapshot", "delete", "--yes", "clisnap", &sid],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let (status, _) = api.get(&format!("{stack}/snapshots/{sid}")).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

const ADOPTABLE: &str = r##"heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
  config:
    type: OS::Heat::SoftwareConfig
    properties: {group: script, config: "#!/bin/sh\necho hi\n"}
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      signal_transport: NO_SIGNAL
  secret:
    type: OS::Heat::RandomString
    properties: {length: 10}
outputs:
  secret: {value: {get_attr: [secret, value]}}
"##;

#[tokio::test]
async fn abandon_export_and_adopt_are_off_by_default() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("plain", TEMPLATE, json!({}))
        .await
        .unwrap();
    wait_done(&api, &stack).await;
    for (method, path) in [
        (Method::DELETE, format!("{stack}/abandon")),
        (Method::GET, format!("{stack}/export")),
    ] {
        let (status, body) = api.call(method, &path, None).await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["type"], "NotSupported");
        assert_eq!(body["error"]["message"], "Stack Abandon is not supported.");
    }
    let (status, body) = api
        .call(
            Method::POST,
            "/stacks",
            Some(json!({"stack_name": "adopted", "adopt_stack_data": "{}"})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["type"], "NotSupported");
    assert_eq!(body["error"]["message"], "Stack Adopt is not supported.");
    // The stack is untouched.
    let (_, shown) = api.get(&stack).await.unwrap();
    assert_eq!(shown["stack"]["stack_status"], "CREATE_COMPLETE");
    server.stop().await;
}

/// The `deployments` of the document at a server's metadata URL, as an agent gets them.
async fn polled_deployments(url: &str) -> Vec<Value> {
    let doc: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    doc["deployments"].as_array().cloned().unwrap_or_default()
}

async fn physical_id(api: &Api, stack: &str, name: &str) -> String {
    let (_, res) = api.get(&format!("{stack}/resources/{name}")).await.unwrap();
    res["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_abandoned_stack_keeps_its_resources_and_is_adopted_back() {
    let server = Server::start_with(
        Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    let api = server.api();
    let stack = api
        .create_stack("aband", ADOPTABLE, json!({}))
        .await
        .unwrap();
    let done = wait_done(&api, &stack).await;
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let secret = Api::output(&done, "secret");
    let deployment = physical_id(&api, &stack, "deployment").await;
    let url = api.metadata_url(&stack, "server").await.unwrap();
    assert_eq!(polled_deployments(&url).await.len(), 1);

    // Export changes nothing.
    let (status, exported) = api.get(&format!("{stack}/export")).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{exported}");
    assert_eq!(exported["name"], "aband");
    assert_eq!(exported["id"], done["id"]);
    assert_eq!(exported["project_id"], "demo");
    assert_eq!(
        exported["resources"]["deployment"]["resource_id"],
        deployment.as_str()
    );
    assert_eq!(
        exported["resources"]["deployment"]["type"],
        "OS::Heat::SoftwareDeployment"
    );
    assert!(exported["template"]["resources"]["server"].is_object());
    let (_, shown) = api.get(&stack).await.unwrap();
    assert_eq!(shown["stack"]["stack_status"], "CREATE_COMPLETE");

    // Abandon: the same data; the stack is gone, its deployment and metadata are not.
    let (status, data) = api
        .call(Method::DELETE, &format!("{stack}/abandon"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{data}");
    assert_eq!(data["resources"], exported["resources"]);
    let (status, _) = api.get("/stacks/aband").await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .get(&format!("/software_deployments/{deployment}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(polled_deployments(&url).await.len(), 1);
    // The stack's own DELETE events, none for its resources.
    let (_, events) = api.get(&format!("{stack}/events")).await.unwrap();
    let events = events["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["resource_name"] == "aband" && e["resource_status"] == "DELETE_COMPLETE"),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e["resource_name"] != "aband"
            && e["resource_status"].as_str().unwrap().starts_with("DELETE")),
        "{events:?}"
    );

    // Adopt it back (heatclient sends the data as a string and no template).
    let (status, body) = api
        .call(
            Method::POST,
            "/stacks",
            Some(
                json!({"stack_name": "adopted", "adopt_stack_data": data.to_string(),
                        "parameters": {}, "files": {}, "environment": {},
                        "disable_rollback": true}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let adopted = format!("/stacks/adopted/{}", body["stack"]["id"].as_str().unwrap());
    let done = wait_done(&api, &adopted).await;
    assert_eq!(done["stack_status"], "ADOPT_COMPLETE", "{done}");
    assert_eq!(
        done["stack_status_reason"],
        "Stack ADOPT completed successfully"
    );
    assert_eq!(Api::output(&done, "secret"), secret);
    assert_eq!(physical_id(&api, &adopted, "deployment").await, deployment);
    let (_, res) = api
        .get(&format!("{adopted}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(res["resource"]["resource_status"], "ADOPT_COMPLETE");
    // Nothing was redeployed: still the one deployment, with the same derived config.
    let polled = polled_deployments(&url).await;
    assert_eq!(polled.len(), 1, "{polled:?}");

    // The adopted stack owns the deployment now: deleting it deletes the deployment.
    let (status, _) = api.call(Method::DELETE, &adopted, None).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = wait_done(&api, &adopted).await;
    assert_eq!(gone["stack_status"], "DELETE_COMPLETE", "{gone}");
    let (status, _) = api
        .get(&format!("/software_deployments/{deployment}"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn openstack_cli_abandons_and_adopts() {
    let Some(cli) = openstack_cli() else { return };
    let server = Server::start_with(
        Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    let api = server.api();
    let stack = api
        .create_stack("cliab", TEMPLATE, json!({"v": "kept"}))
        .await
        .unwrap();
    let done = wait_done(&api, &stack).await;
    let secret = Api::output(&done, "secret");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("abandon.json");
    let file = file.to_str().unwrap();

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "abandon", "--output-file", file, "cliab"],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(data["name"], "cliab");
    let (status, _) = api.get("/stacks/cliab").await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (ok, out, err) = openstack(
        &cli,
        &api,
        &["stack", "adopt", "--adopt-file", file, "--wait", "cliback"],
    )
    .await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("ADOPT_COMPLETE"), "{out}");
    let (_, shown) = api.get("/stacks/cliback").await.unwrap();
    let shown = &shown["stack"];
    assert_eq!(shown["stack_status"], "ADOPT_COMPLETE", "{shown}");
    assert_eq!(Api::output(shown, "secret"), secret);
    assert_eq!(Api::output(shown, "out"), "kept");
    server.stop().await;
}
