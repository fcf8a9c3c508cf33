//! python-heatclient's ways in besides a Keystone session (reference §5.1), against a live
//! `updraft server`: the legacy `heat` CLI with `--os-no-client-auth`, and the Python API in
//! Heat's functional-test password mode.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::Value;
use updraft_e2e::Server;
use updraft_e2e::openstack::{VALUE_TEMPLATE, project_user, venv_bin};

#[tokio::test]
async fn the_legacy_heat_cli_without_client_auth() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let api = server.api();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), VALUE_TEMPLATE).unwrap();
    let heat = |args: Vec<String>| {
        let bin = bin.clone();
        let base = api.base.clone();
        let project = api.project.clone();
        let token = api.token.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let out = tokio::process::Command::new(bin.join("heat"))
                .args(["--os-no-client-auth", "--heat-url"])
                .arg(format!("{base}/v1/{project}"))
                .args(["--os-auth-token", &token])
                .args(&args)
                .current_dir(dir)
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (ok, _, err) = heat(vec![
        "stack-create".into(),
        "-f".into(),
        "t.yaml".into(),
        "-P".into(),
        "value=legacy".into(),
        "old".into(),
    ])
    .await;
    assert!(ok, "{err}");
    api.wait_stack("/stacks/old", Duration::from_secs(60))
        .await
        .unwrap();
    let (ok, out, err) = heat(vec!["stack-list".into()]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("old") && out.contains("CREATE_COMPLETE"),
        "{out}"
    );
    let (ok, out, err) = heat(vec!["output-show".into(), "old".into(), "value".into()]).await;
    assert!(ok, "{err}");
    assert!(out.contains("legacy"), "{out}");
    server.stop().await;
}

/// Heat's own functional tests with `OS_NO_CLIENT_AUTH`: heatclient's Python API with
/// `endpoint=`, `username=`, `password=`, `include_pass=True` sends `X-Auth-User` and
/// `X-Auth-Key` (+ `X-Auth-Url`) and no token (reference §5.1).
const HEATCLIENT_PASSWORD_MODE: &str = r#"
import json, sys, time
from heatclient import client
endpoint, user, password, auth_url = sys.argv[1:5]
hc = client.Client('1', endpoint=endpoint, username=user, password=password,
                   include_pass=True, auth_url=auth_url)
template = {"heat_template_version": "2018-08-31",
            "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": "pw-mode"}}},
            "outputs": {"o": {"value": {"get_attr": ["v", "value"]}}}}
hc.stacks.create(stack_name="functional", template=template)
for _ in range(100):
    stack = hc.stacks.get("functional")
    if stack.stack_status != "CREATE_IN_PROGRESS":
        break
    time.sleep(0.2)
print(json.dumps({"status": stack.stack_status,
                  "listed": [s.stack_name for s in hc.stacks.list()],
                  "output": hc.stacks.output_show("functional", "o")["output"]["output_value"]}))
try:
    client.Client('1', endpoint=endpoint, username=user, password="wrong",
                  include_pass=True).stacks.list().__next__()
    print("accepted a wrong password")
except Exception as e:
    print(json.dumps({"wrong": str(e)}))
"#;

#[tokio::test]
async fn heatclient_password_mode_as_heats_functional_tests() {
    let Some(bin) = venv_bin() else { return };
    let server = Server::start().await.unwrap();
    let project_id = project_user(&server, "functional", "tester", "member", "pw-1234")
        .await
        .unwrap();
    let endpoint = format!("{}/v1/{project_id}", server.base);
    let auth_url = format!("{}/v3", server.base);
    let out = tokio::process::Command::new(bin.join("python3"))
        .args([
            "-c",
            HEATCLIENT_PASSWORD_MODE,
            &endpoint,
            "tester",
            "pw-1234",
            &auth_url,
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    let result: Value = serde_json::from_str(lines.next().unwrap_or_default()).unwrap();
    assert_eq!(result["status"], "CREATE_COMPLETE", "{result}");
    assert_eq!(result["listed"], serde_json::json!(["functional"]));
    assert_eq!(result["output"], "pw-mode");
    let wrong: Value =
        serde_json::from_str(lines.next().unwrap_or_default()).unwrap_or(Value::Null);
    assert!(
        wrong["wrong"]
            .as_str()
            .is_some_and(|e| e.contains("requires authentication")),
        "{stdout}"
    );
    server.stop().await;
}
