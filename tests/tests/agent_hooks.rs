//! The agent's hooks against the real server: an executable hook found in a hooks
//! directory speaks heat-agents' JSON protocol; a group with no hook fails the deployment
//! with a clear message; `--one-time` runs one cycle and exits.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;
use updraft_e2e::{Api, Server, binary};

const T: Duration = Duration::from_secs(60);

fn template(group: &str) -> String {
    format!(
        r##"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      group: {group}
      config: "payload for the hook"
      outputs: [{{name: seen}}]
  dep:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {{get_resource: cfg}}
      server: {{get_resource: server}}
      input_values: {{colour: blue}}
outputs:
  seen: {{value: {{get_attr: [dep, seen]}}}}
  stdout: {{value: {{get_attr: [dep, deploy_stdout]}}}}
"##
    )
}

/// A hook in the heat-agents style: reads the deployment on stdin, answers JSON on stdout.
const HOOK: &str = r#"#!/bin/sh
input=$(cat)
case "$input" in
  *'"group":"recorder"'*) group=ok ;;
  *) group=missing ;;
esac
case "$input" in
  *'"value":"blue"'*) colour=blue ;;
  *) colour=unknown ;;
esac
printf '{"deploy_stdout": "hook ran", "deploy_stderr": "", "deploy_status_code": 0, "seen": "%s-%s"}' "$group" "$colour"
"#;

#[tokio::test]
async fn an_executable_hook_in_a_hooks_dir_runs_the_deployment() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let hooks = tempfile::tempdir().unwrap();
    let hook = hooks.path().join("recorder");
    std::fs::write(&hook, HOOK).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stack = api
        .create_stack("hooked", &template("recorder"), json!({}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let hooks_dir = hooks.path().to_str().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &["--hooks-dir", hooks_dir])
        .await
        .unwrap();
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        done["stack_status"],
        "CREATE_COMPLETE",
        "{done}\n{}",
        agent.log_text()
    );
    assert_eq!(Api::output(&done, "seen"), json!("ok-blue"));
    assert_eq!(Api::output(&done, "stdout"), json!("hook ran"));
    agent.kill().await;
    server.stop().await;
}

#[tokio::test]
async fn a_group_without_a_hook_fails_clearly_and_one_time_exits() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("nohook", &template("no-such-tool"), json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "dep", "CREATE_IN_PROGRESS", T)
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let hooks = tempfile::tempdir().unwrap();
    // Wait until the deployment is in the metadata, then run exactly one cycle.
    for _ in 0..100 {
        let doc: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if doc["deployments"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let out = tokio::process::Command::new(binary("updraft-agent"))
        .args(["run", "--one-time", "--metadata-url", &url, "--hooks-dir"])
        .arg(hooks.path())
        .arg("--state-dir")
        .arg(state.path())
        .env("HEAT_CONFIG_HOOKS", hooks.path())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(done["stack_status"], "CREATE_FAILED", "{done}");
    let (_, dep) = api.get(&format!("{stack}/resources/dep")).await.unwrap();
    let stderr = dep["resource"]["attributes"]["deploy_stderr"]
        .as_str()
        .unwrap();
    assert!(
        stderr.starts_with("no hook for group \"no-such-tool\": searched "),
        "{stderr}"
    );
    assert!(stderr.contains(hooks.path().to_str().unwrap()), "{stderr}");
    server.stop().await;
}

#[tokio::test]
async fn one_time_against_an_unreachable_server_exits_non_zero_with_the_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let state = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(binary("updraft-agent"))
        .args(["run", "--one-time", "--metadata-url"])
        .arg(format!("http://127.0.0.1:{port}/md?temp_url_sig=hidden"))
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot reach metadata URL http://127.0.0.1:{port}/md"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hidden"), "{stderr}");
}
