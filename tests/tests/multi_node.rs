//! Several server nodes on one PostgreSQL database: a node's stack is left alone while the
//! node lives (its lease is renewed), and resumed by another node once the node dies and
//! its lease lapses — nothing created twice, nothing lost.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server, postgres_available};

const LEASE: &[&str] = &["--lease-seconds", "2"];

fn template(name: &str, wait: f64) -> String {
    let mut t = format!(
        "heat_template_version: 2018-08-31\nresources:\n  slow:\n    type: OS::Heat::TestResource\n    properties:\n      value: {name}\n      action_wait_secs: {{create: {wait}}}\n"
    );
    for i in 0..10 {
        t.push_str(&format!(
            "  v{i}:\n    type: OS::Heat::Value\n    depends_on: slow\n    properties:\n      value: {{get_attr: [slow, output]}}\n"
        ));
    }
    t.push_str("outputs:\n  out: {value: {get_attr: [v9, value]}}\n");
    t
}

/// How many `<action>_IN_PROGRESS` and `_COMPLETE` events each resource has.
async fn event_counts(api: &Api, stack: &str) -> HashMap<String, (usize, usize)> {
    let (_, body) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    let mut out: HashMap<String, (usize, usize)> = HashMap::new();
    for e in body["events"].as_array().unwrap() {
        let entry = out
            .entry(e["resource_name"].as_str().unwrap().to_string())
            .or_default();
        match e["resource_status"].as_str().unwrap() {
            "CREATE_IN_PROGRESS" => entry.0 += 1,
            "CREATE_COMPLETE" => entry.1 += 1,
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn a_dead_nodes_stack_is_resumed_by_another_and_a_live_ones_is_left_alone() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    let mut a = Server::start_with(Backend::Postgres, LEASE).await.unwrap();
    let b = a.start_sharing(LEASE).await.unwrap();
    let api_a = a.api();
    let api_b = b.api();

    // Live node: a create longer than several leases runs once, on A only.
    let stack = api_a
        .create_stack("alive", &template("alive", 5.0), json!({}))
        .await
        .unwrap();
    let body = api_b
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let counts = event_counts(&api_b, &stack).await;
    assert_eq!(counts["slow"], (1, 1), "{counts:?}");

    // Dead node: A dies while `slow` is being created; B takes the stack over once A's
    // lease lapses and finishes it. `slow` was mid-create: resumed, not created again.
    let stack = api_a
        .create_stack("orphaned", &template("orphaned", 3.0), json!({}))
        .await
        .unwrap();
    api_a
        .wait_resource(
            &stack,
            "slow",
            "CREATE_IN_PROGRESS",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    a.kill().await;
    let body = api_b
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    assert_eq!(Api::output(&body, "out"), json!("orphaned"));
    let counts = event_counts(&api_b, &stack).await;
    assert_eq!(counts["slow"], (1, 1), "{counts:?}");
    for i in 0..10 {
        assert_eq!(counts[&format!("v{i}")], (1, 1), "{counts:?}");
    }
    let _: Value = body;
    b.stop().await;
    a.stop().await;
}

const SERVER_ONLY: &str = r#"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
"#;

const WITH_DEPLOYMENT: &str = r##"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
  cfg:
    type: OS::Heat::SoftwareConfig
    properties: {group: script, config: "#!/bin/sh\ntrue\n"}
  dep:
    type: OS::Heat::SoftwareDeployment
    properties: {config: {get_resource: cfg}, server: {get_resource: server}}
"##;

#[tokio::test]
async fn a_metadata_long_poll_on_one_node_wakes_for_a_change_made_on_another() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    let a = Server::start_with(Backend::Postgres, &[]).await.unwrap();
    let b = a.start_sharing(&[]).await.unwrap();
    let api_a = a.api();
    let stack = api_a
        .create_stack("polled", SERVER_ONLY, json!({}))
        .await
        .unwrap();
    api_a
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    // The agent's URL names node A; the same capability URL works on node B.
    let url_a = api_a.metadata_url(&stack, "server").await.unwrap();
    let url_b = url_a.replace(&a.base, &b.base);
    let http = reqwest::Client::new();
    let first = http.get(&url_b).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let poll = tokio::spawn(async move {
        http.get(&url_b)
            .header("If-None-Match", etag)
            .header("Prefer", "wait=60")
            .send()
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The change happens on A: B's long-poll answers with the new document rather than
    // a 304 at the end of its wait.
    let (status, _) = api_a
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": WITH_DEPLOYMENT, "parameters": {}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 202);
    let answer = tokio::time::timeout(Duration::from_secs(30), poll)
        .await
        .expect("the long-poll on B was not woken by A's change")
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let doc: Value = answer.json().await.unwrap();
    assert_eq!(doc["deployments"].as_array().unwrap().len(), 1, "{doc}");
    b.stop().await;
    a.stop().await;
}
