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
