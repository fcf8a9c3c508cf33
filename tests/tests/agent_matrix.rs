//! Our `updraft-agent` against our server across every transport cell:
//! software_config_transport ∈ {POLL_TEMP_URL, POLL_SERVER_CFN, POLL_SERVER_HEAT} ×
//! signal_transport ∈ {TEMP_URL_SIGNAL, CFN_SIGNAL, HEAT_SIGNAL}. Each cell creates a
//! script deployment that writes an output, started from the server's `os-collect-config`
//! section whatever its collector, and must reach CREATE_COMPLETE with the output and
//! stdout. Then a stack update changes the server's transport (TEMP_URL → CFN → HEAT →
//! TEMP_URL) and the input: the running agent must follow the new section (the old
//! transport still serves the document that names the new one), save it in its state
//! directory, and complete the UPDATE deployment. The stack delete then runs the script
//! once more (DELETE is among the deployment's actions), run by the agent restarted with its
//! first command line: it must poll with the saved collector only. No credential may appear
//! in the agent's log.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server, saved_collector};

const T: Duration = Duration::from_secs(90);

const TEMPLATE: &str = r#"
heat_template_version: 2018-08-31
parameters:
  foo:
    type: string
  transport:
    type: string
  signal:
    type: string
resources:
  server:
    type: OS::Heat::DeployedServer
    properties:
      software_config_transport: {get_param: transport}
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs:
        - name: foo
      outputs:
        - name: result
      config: |
        #!/bin/sh
        echo "deploying $deploy_resource_name (action $deploy_action) foo=$foo"
        printf '%s' "result-of-$foo" > "$heat_outputs_path.result"
  deployment:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      signal_transport: {get_param: signal}
      actions: [CREATE, UPDATE, DELETE]
      input_values:
        foo: {get_param: foo}
outputs:
  result:
    value: {get_attr: [deployment, result]}
  stdout:
    value: {get_attr: [deployment, deploy_stdout]}
  status_code:
    value: {get_attr: [deployment, deploy_status_code]}
"#;

fn collector(transport: &str) -> &'static str {
    match transport {
        "POLL_TEMP_URL" => "request",
        "POLL_SERVER_CFN" => "cfn",
        "POLL_SERVER_HEAT" => "heat",
        other => panic!("no collector for {other}"),
    }
}

/// The transport an update moves a cell's server to.
fn next(transport: &str) -> &'static str {
    match transport {
        "POLL_TEMP_URL" => "POLL_SERVER_CFN",
        "POLL_SERVER_CFN" => "POLL_SERVER_HEAT",
        _ => "POLL_TEMP_URL",
    }
}

/// The secrets of a section: what must never be logged.
fn secrets(section: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (collector, key) in [
        ("cfn", "secret_access_key"),
        ("heat", "password"),
        ("request", "metadata_url"),
    ] {
        if let Some(s) = section[collector][key].as_str() {
            out.push(match s.split_once("temp_url_sig=") {
                Some((_, sig)) => sig.to_string(),
                None => s.to_string(),
            });
        }
    }
    out
}

fn assert_deployed(stack: &Value, action: &str, input: &str, log: &str) {
    assert_eq!(
        json!({
            "result": Api::output(stack, "result"),
            "stdout": Api::output(stack, "stdout"),
            "status_code": Api::output(stack, "status_code"),
        }),
        json!({
            "result": format!("result-of-{input}"),
            "stdout": format!("deploying deployment (action {action}) foo={input}\n"),
            "status_code": 0,
        }),
        "{stack}\n--- agent log ---\n{log}"
    );
}

async fn cell(transport: &str, signal: &str) {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let name = format!(
        "matrix-{}-{}",
        collector(transport),
        signal.to_lowercase().replace('_', "-")
    );
    let stack = api
        .create_stack(
            &name,
            TEMPLATE,
            json!({"foo": "one", "transport": transport, "signal": signal}),
        )
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let first = api.collect_config(&stack, "server").await.unwrap();
    assert_eq!(first["collectors"][0], collector(transport), "{first}");

    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        created["stack_status"],
        "CREATE_COMPLETE",
        "{created}\n{}",
        agent.log_text()
    );
    assert_deployed(&created, "CREATE", "one", &agent.log_text());

    // The server moves to another transport while its input changes.
    let moved = next(transport);
    let (status, body) = api
        .call(
            reqwest::Method::PATCH,
            &stack,
            Some(json!({"parameters": {"foo": "two", "transport": moved}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 202, "{body}");
    let updated = api.wait_stack(&stack, T).await.unwrap();
    let log = agent.log_text();
    assert_eq!(
        updated["stack_status"], "UPDATE_COMPLETE",
        "{updated}\n{log}"
    );
    assert_deployed(&updated, "UPDATE", "two", &log);
    let second = api.collect_config(&stack, "server").await.unwrap();
    assert_eq!(second["collectors"][0], collector(moved), "{second}");
    // The agent follows the section after the deployment's signal went out, so the switch
    // may be logged just after UPDATE_COMPLETE.
    agent
        .wait_log(&format!("switching to {}", collector(moved)), T)
        .await;
    let log = agent.log_text();
    let agent_state = state.path().join("server");
    let saved = saved_collector(&agent_state).unwrap();
    assert_eq!(saved["collector"], collector(moved), "{saved}");
    let mode = std::fs::metadata(agent_state.join("collector.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(agent.is_running(), "{log}");
    for secret in secrets(&first).into_iter().chain(secrets(&second)) {
        assert!(!log.contains(&secret), "a credential was logged:\n{log}");
    }

    // Restarted with its first command line, the agent keeps the saved collector.
    agent.kill().await;
    let agent = updraft_e2e::Agent::start_for(&first, &agent_state, &[]).unwrap();
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 204);
    let deleted = api.wait_stack(&stack, T).await.unwrap();
    let log = agent.log_text();
    assert_eq!(
        deleted["stack_status"], "DELETE_COMPLETE",
        "{deleted}\n{log}"
    );
    // CREATE, UPDATE and DELETE each ran once and were acknowledged. The agent writes the
    // last marker only after the server answered, which may be just after DELETE_COMPLETE.
    let started = std::time::Instant::now();
    let mut delivered = signalled(&agent_state.join("deployed"));
    while delivered.len() < 3 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        delivered = signalled(&agent_state.join("deployed"));
    }
    delivered.sort_by_key(|(a, _)| a.to_string());
    assert_eq!(
        delivered,
        [
            (json!("CREATE"), json!("delivered")),
            (json!("DELETE"), json!("delivered")),
            (json!("UPDATE"), json!("delivered")),
        ],
        "{log}"
    );
    assert!(
        log.contains("using the collector saved by an earlier run")
            && !log.contains("switching to"),
        "the restarted agent must poll with the saved collector:\n{log}"
    );
    assert!(
        log.contains(&format!("collector=\"{}\"", collector(moved))),
        "{log}"
    );
    if std::env::var_os("SHOW_AGENT_LOG").is_some() {
        eprintln!("{}", agent.log_text());
    }
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn poll_temp_url_with_temp_url_signal() {
    cell("POLL_TEMP_URL", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_temp_url_with_cfn_signal() {
    cell("POLL_TEMP_URL", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_temp_url_with_heat_signal() {
    cell("POLL_TEMP_URL", "HEAT_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_temp_url_signal() {
    cell("POLL_SERVER_CFN", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_cfn_signal() {
    cell("POLL_SERVER_CFN", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_cfn_with_heat_signal() {
    cell("POLL_SERVER_CFN", "HEAT_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_temp_url_signal() {
    cell("POLL_SERVER_HEAT", "TEMP_URL_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_cfn_signal() {
    cell("POLL_SERVER_HEAT", "CFN_SIGNAL").await;
}

#[tokio::test]
async fn poll_server_heat_with_heat_signal() {
    cell("POLL_SERVER_HEAT", "HEAT_SIGNAL").await;
}

/// `(deploy_action, outcome)` of every `<id>.signalled` marker in `deployed`.
fn signalled(deployed: &std::path::Path) -> Vec<(Value, Value)> {
    let mut delivered = Vec::new();
    for entry in std::fs::read_dir(deployed).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "signalled") {
            let marker: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let record = path.with_extension("json");
            let record: Value = serde_json::from_slice(&std::fs::read(record).unwrap()).unwrap();
            let action = record["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == "deploy_action")
                .unwrap()["value"]
                .clone();
            delivered.push((action, marker["outcome"].clone()));
        }
    }
    delivered
}
