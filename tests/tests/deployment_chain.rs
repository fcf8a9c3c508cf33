//! Several deployments to one server in a chain: each one's output feeds the next through
//! `get_attr`, so they must run in dependency order. The agent's poll interval is an hour:
//! only the server's long-poll can deliver the later deployments in time.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::json;
use updraft_e2e::{Api, Server};

const TEMPLATE: &str = r##"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
  step:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: previous}, {name: me}]
      outputs: [{name: trail}]
      config: |
        #!/bin/sh
        printf '%s%s' "$previous" "$me" > "$heat_outputs_path.trail"
  first:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: step}
      server: {get_resource: server}
      input_values: {previous: "", me: "a"}
  second:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: step}
      server: {get_resource: server}
      input_values: {previous: {get_attr: [first, trail]}, me: "b"}
  third:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: step}
      server: {get_resource: server}
      name: zz-third
      input_values:
        previous: {get_attr: [second, trail]}
        me: {list_join: ["", ["c", {get_param: OS::stack_name}]]}
outputs:
  trail:
    value: {get_attr: [third, trail]}
"##;

#[tokio::test]
async fn chained_deployments_run_in_order_through_long_poll() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("chain", TEMPLATE, json!({}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &["--poll-interval", "3600"])
        .await
        .unwrap();
    let done = match api.wait_stack(&stack, Duration::from_secs(60)).await {
        Ok(done) => done,
        Err(e) => panic!("{e}\nagent log:\n{}", agent.log_text()),
    };
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    assert_eq!(Api::output(&done, "trail"), json!("abcchain"));
    // The server's document lists every deployment, sorted by name.
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let doc: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let names: Vec<&str> = doc["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(names[2], "zz-third");
    assert!(
        names[0].starts_with("chain-step-") && names[1].starts_with("chain-step-"),
        "{names:?}"
    );
    agent.kill().await;
    server.stop().await;
}
