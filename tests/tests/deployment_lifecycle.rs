//! The hello-world stack end to end with real processes: create, update (the script runs
//! again with deploy_action=UPDATE), agent restart (nothing runs twice), delete.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server, repo_root};

const T: Duration = Duration::from_secs(60);

async fn signal_events(api: &Api, stack: &str) -> Vec<Value> {
    let (_, events) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["resource_status"]
                .as_str()
                .unwrap_or_default()
                .starts_with("SIGNAL_")
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn hello_world_create_update_restart_delete() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = std::fs::read_to_string(repo_root().join("templates/hello-world.yaml")).unwrap();
    let stack = api
        .create_stack("hello", &template, json!({"name": "world"}))
        .await
        .unwrap();

    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();

    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    assert_eq!(
        created["stack_status_reason"],
        "Stack CREATE completed successfully"
    );
    assert_eq!(Api::output(&created, "greeting"), json!("Hello, world!"));
    let stdout = Api::output(&created, "stdout");
    assert!(
        stdout
            .as_str()
            .unwrap()
            .starts_with("Running CREATE of deployment on "),
        "{stdout}"
    );
    assert_eq!(Api::output(&created, "status_code"), json!(0));

    // Update an input: the deployment runs again with deploy_action=UPDATE.
    let (status, _) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template, "parameters": {"name": "updraft"}})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    let updated = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(updated["stack_status"], "UPDATE_COMPLETE", "{updated}");
    assert_eq!(Api::output(&updated, "greeting"), json!("Hello, updraft!"));
    assert!(
        Api::output(&updated, "stdout")
            .as_str()
            .unwrap()
            .starts_with("Running UPDATE of deployment")
    );
    assert_eq!(updated["parameters"]["name"], "updraft");
    assert_eq!(signal_events(&api, &stack).await.len(), 2);

    // Restart the agent on the same state: it must not run (or signal) anything again.
    agent.kill().await;
    let mut agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        agent.is_running(),
        "agent died after restart: {}",
        agent.log_text()
    );
    let signals = signal_events(&api, &stack).await;
    assert_eq!(
        signals.len(),
        2,
        "a deployment ran twice: {signals:?}\n{}",
        agent.log_text()
    );
    let (_, after) = api.get(&stack).await.unwrap();
    assert_eq!(after["stack"]["stack_status"], "UPDATE_COMPLETE");

    // Delete: the stack ends DELETE_COMPLETE and the metadata URL stops working.
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let deleted = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(deleted["stack_status"], "DELETE_COMPLETE", "{deleted}");
    let gone = reqwest::get(&url).await.unwrap();
    assert_eq!(gone.status(), reqwest::StatusCode::NOT_FOUND);
    let (status, _) = api.get("/stacks/hello").await.unwrap();
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn failing_script_fails_the_stack_with_heats_reason() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = r#"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: |
        #!/bin/sh
        echo "about to fail" >&2
        exit 3
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      signal_transport: TEMP_URL_SIGNAL
"#;
    let stack = api
        .create_stack("failing", template, json!({}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let failed = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(failed["stack_status"], "CREATE_FAILED", "{failed}");
    assert_eq!(
        failed["stack_status_reason"],
        "Resource CREATE failed: Error: resources.deployment: Deployment to server failed: deploy_status_code : Deployment exited with non-zero status code: 3"
    );
    let (_, dep) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(dep["resource"]["resource_status"], "CREATE_FAILED");
    assert_eq!(
        dep["resource"]["attributes"]["deploy_stderr"],
        "about to fail\n"
    );
    assert_eq!(dep["resource"]["attributes"]["deploy_status_code"], 3);
    agent.kill().await;
    server.stop().await;
}

/// More deployments waiting for their signals than the engine runs resources at once
/// (16): all of them reach the server's metadata before any agent runs, and another
/// server in the same stack is still created meanwhile.
#[tokio::test]
async fn twenty_waiting_deployments_do_not_hold_up_the_rest_of_the_stack() {
    let mut template = String::from(
        "heat_template_version: 2018-08-31\nresources:\n  server:\n    type: OS::Heat::DeployedServer\n  cfg:\n    type: OS::Heat::SoftwareConfig\n    properties: {group: script, config: \"#!/bin/sh\\necho ok\\n\"}\n",
    );
    for d in 0..20 {
        template.push_str(&format!(
            "  dep{d:02}:\n    type: OS::Heat::SoftwareDeployment\n    properties: {{config: {{get_resource: cfg}}, server: {{get_resource: server}}, signal_transport: TEMP_URL_SIGNAL}}\n"
        ));
    }
    // Named to sort after the deployments, so it is the last ready resource.
    template.push_str("  zz_other:\n    type: OS::Heat::DeployedServer\n");
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("twenty", &template, json!({}))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let (_, md) = api
            .get(&format!("{stack}/resources/server/metadata"))
            .await
            .unwrap();
        let (_, other) = api
            .get(&format!("{stack}/resources/zz_other"))
            .await
            .unwrap();
        let published = md["metadata"]["deployments"].as_array().map_or(0, Vec::len);
        if published == 20 && other["resource"]["resource_status"] == "CREATE_COMPLETE" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "only {published} of 20 deployments published, zz_other {}",
            other["resource"]["resource_status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{}",
        agent.log_text()
    );
    agent.kill().await;
    server.stop().await;
}
