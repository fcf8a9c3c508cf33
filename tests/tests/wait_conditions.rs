//! Wait conditions as a post-boot script uses them: the handle's `curl_cli` line, run
//! verbatim by `sh`, completes an `OS::Heat::WaitCondition`; a FAILURE signal fails it with
//! the reason; too few signals time out with Heat's text. The handle's token reaches only
//! its own signal (403 elsewhere, nothing changed), stops working when the handle is
//! deleted, and never appears in the server's log.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server};

const WAIT: Duration = Duration::from_secs(60);

fn template(count: u32, timeout: u32) -> String {
    format!(
        r#"
heat_template_version: 2018-08-31
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  other_handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: {{get_resource: handle}}
      count: {count}
      timeout: {timeout}
outputs:
  curl: {{value: {{get_attr: [handle, curl_cli]}}}}
  token: {{value: {{get_attr: [handle, token]}}}}
  data: {{value: {{get_attr: [wait, data]}}}}
"#
    )
}

async fn output_now(api: &Api, stack: &str, key: &str) -> Value {
    for _ in 0..300 {
        let (_, body) = api.get(stack).await.unwrap();
        let v = Api::output(&body["stack"], key);
        if !v.is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no output {key}");
}

/// Runs `line` with `sh -c`, as a user_data script would.
fn sh(line: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(line)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn curl_cli_completes_a_wait_condition_and_the_token_is_scoped() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("waiting", &template(2, 120), json!({}))
        .await
        .unwrap();
    let curl = output_now(&api, &stack, "curl").await;
    let curl = curl.as_str().unwrap().to_string();
    let token = output_now(&api, &stack, "token").await;
    let token = token.as_str().unwrap().to_string();
    api.wait_resource(&stack, "wait", "CREATE_IN_PROGRESS", WAIT)
        .await
        .unwrap();

    // The token reaches nothing but its own handle's signal: 403 and nothing changes.
    let scoped = reqwest::Client::new();
    let as_handle = |method: reqwest::Method, path: &str| {
        scoped
            .request(method, api.url(path))
            .header("X-Auth-Token", &token)
            .json(&json!({"status": "SUCCESS"}))
            .send()
    };
    let other = as_handle(
        reqwest::Method::POST,
        &format!("{stack}/resources/other_handle/signal"),
    )
    .await
    .unwrap();
    assert_eq!(other.status().as_u16(), 403);
    let list = as_handle(reqwest::Method::GET, "/stacks").await.unwrap();
    assert_eq!(list.status().as_u16(), 403);
    let (_, events) = api
        .get(&format!("{stack}/resources/other_handle/events"))
        .await
        .unwrap();
    assert!(
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resource_status"] != "SIGNAL_COMPLETE"),
        "{events}"
    );

    // The curl line, run verbatim by sh, twice (count 2): the second with an id and data.
    let reply = sh(&curl);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    sh(&format!(
        "{curl} --data-binary '{{\"status\": \"SUCCESS\", \"id\": \"one\", \"data\": \"d1\"}}'"
    ));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let data: Value = serde_json::from_str(Api::output(&body, "data").as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"1": null, "one": "d1"}));
    let (_, events) = api
        .get(&format!("{stack}/resources/handle/events?sort_dir=asc"))
        .await
        .unwrap();
    let reasons: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource_status_reason"].as_str())
        .filter(|r| r.starts_with("Signal"))
        .collect();
    assert_eq!(
        reasons,
        [
            "Signal: status:SUCCESS reason:Signal 1 received",
            "Signal: status:SUCCESS reason:Signal 2 received"
        ]
    );

    // Deleted with its stack, the token stops working.
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 204);
    api.wait_stack(&stack, WAIT).await.unwrap();
    let late = as_handle(
        reqwest::Method::POST,
        &format!("{stack}/resources/handle/signal"),
    )
    .await
    .unwrap();
    assert_eq!(late.status().as_u16(), 401);

    // The secret never reaches the log (the public id may).
    let secret = token.rsplit('.').next().unwrap();
    let log = server.log_text();
    assert!(!log.is_empty());
    assert!(
        !log.contains(secret),
        "the token's secret is in the server log"
    );
    server.stop().await;
}

#[tokio::test]
async fn failure_signals_and_timeouts_fail_the_wait_condition_as_heat() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let failing = api
        .create_stack("failing", &template(1, 120), json!({}))
        .await
        .unwrap();
    let curl = output_now(&api, &failing, "curl").await;
    sh(&format!(
        "{} --data-binary '{{\"status\": \"FAILURE\", \"reason\": \"disk full\"}}'",
        curl.as_str().unwrap()
    ));
    let body = api.wait_stack(&failing, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_FAILED", "{body}");
    assert_eq!(
        body["stack_status_reason"],
        "Resource CREATE failed: WaitConditionFailure: resources.wait: disk full"
    );

    let late = api
        .create_stack("late", &template(2, 1), json!({}))
        .await
        .unwrap();
    let curl = output_now(&api, &late, "curl").await;
    sh(curl.as_str().unwrap());
    let body = api.wait_stack(&late, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_FAILED", "{body}");
    assert_eq!(
        body["stack_status_reason"],
        "Resource CREATE failed: WaitConditionTimeout: resources.wait: 1 of 2 received - Signal 1 received"
    );
    server.stop().await;
}

const AWS_TEMPLATE: &str = r#"
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  handle:
    Type: AWS::CloudFormation::WaitConditionHandle
  wait:
    Type: AWS::CloudFormation::WaitCondition
    Properties:
      Handle: {Ref: handle}
      Timeout: 120
      Count: 2
Outputs:
  url: {Value: {Ref: handle}}
  data: {Value: {'Fn::GetAtt': [wait, Data]}}
"#;

/// The stock `cfn-signal` (heat-cfntools from PyPI, installed by `.ci/run`).
fn cfn_signal() -> Option<std::path::PathBuf> {
    let venv = std::env::var("UPDRAFT_PYTHON")
        .map(std::path::PathBuf::from)
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("cfn-signal")))
        .unwrap_or_else(|| updraft_e2e::repo_root().join("target/venv/bin/cfn-signal"));
    if venv.exists() {
        return Some(venv);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "cfn-signal (heat-cfntools) is required when CI=true: run .ci/run"
    );
    None
}

#[tokio::test]
async fn cfn_signal_and_curl_put_complete_an_aws_wait_condition() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("awswait", AWS_TEMPLATE, json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "handle", "CREATE_COMPLETE", WAIT)
        .await
        .unwrap();
    let url = output_now(&api, &stack, "url").await;
    let url = url.as_str().unwrap().to_string();
    assert!(
        url.contains("/v1/waitcondition/arn%3Aopenstack%3Aheat%3A%3Ademo%3Astacks/awswait/"),
        "{url}"
    );

    // A tampered signature is refused and records nothing.
    let tampered = url.replace("Signature=", "Signature=x");
    let reply = sh(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' -X PUT -H 'Content-Type:' --data-binary '{{\"Status\": \"SUCCESS\", \"Reason\": \"r\", \"UniqueId\": \"bad\", \"Data\": \"x\"}}' '{tampered}'"
    ));
    assert_eq!(reply, "403");

    // The real cfn-signal (when installed), then cfn-signal's exact wire form with curl.
    match cfn_signal() {
        Some(tool) => {
            let out = std::process::Command::new(tool)
                .args([
                    "-e", "0", "-r", "booted", "-i", "first", "-d", "hello", &url,
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => {
            sh(&format!(
                "curl -s -X PUT -H 'Content-Type:' --data-binary '{{\"Status\": \"SUCCESS\", \"Reason\": \"booted\", \"UniqueId\": \"first\", \"Data\": \"hello\"}}' '{url}'"
            ));
        }
    }
    sh(&format!(
        "curl -s -X PUT -H 'Content-Type:' --data-binary '{{\"Status\": \"SUCCESS\", \"Reason\": \"done\", \"UniqueId\": \"second\", \"Data\": \"world\"}}' '{url}'"
    ));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let data: Value = serde_json::from_str(Api::output(&body, "data").as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"first": "hello", "second": "world"}));

    // Once the handle is deleted its URL stops working.
    api.call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    api.wait_stack(&stack, WAIT).await.unwrap();
    let reply = sh(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' -X PUT -H 'Content-Type:' --data-binary '{{\"Status\": \"SUCCESS\", \"Reason\": \"r\", \"UniqueId\": \"late\", \"Data\": \"x\"}}' '{url}'"
    ));
    assert_eq!(reply, "403");
    server.stop().await;
}

/// Our `cfn-signal`: `updraft-agent` linked under that name, and `updraft-agent signal`.
#[tokio::test]
async fn our_cfn_signal_completes_an_aws_wait_condition_and_fails_when_refused() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("ourcfn", AWS_TEMPLATE, json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "handle", "CREATE_COMPLETE", WAIT)
        .await
        .unwrap();
    let url = output_now(&api, &stack, "url").await;
    let url = url.as_str().unwrap().to_string();
    let bin = tempfile::tempdir().unwrap();
    let cfn_signal = bin.path().join("cfn-signal");
    std::os::unix::fs::symlink(updraft_e2e::binary("updraft-agent"), &cfn_signal).unwrap();

    // Refused (a tampered signature): exit 1, the status said, the signature not shown.
    let tampered = url.replace("Signature=", "Signature=x");
    let out = std::process::Command::new(&cfn_signal)
        .args(["-e", "0", "-i", "bad", &tampered])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
    assert!(!stderr.contains("Signature="), "{stderr}");

    let out = std::process::Command::new(&cfn_signal)
        .args([
            "-e", "0", "-r", "booted", "-i", "first", "-d", "hello", &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(updraft_e2e::binary("updraft-agent"))
        .args(["signal", "--id", "second", "--data", "world", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let data: Value = serde_json::from_str(Api::output(&body, "data").as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"first": "hello", "second": "world"}));

    // A failure exit code fails a second stack's wait condition with the reason.
    let stack2 = api
        .create_stack("ourcfn2", AWS_TEMPLATE, json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack2, "handle", "CREATE_COMPLETE", WAIT)
        .await
        .unwrap();
    let url2 = output_now(&api, &stack2, "url").await;
    let out = std::process::Command::new(&cfn_signal)
        .args(["-e", "3", "-r", "install failed", url2.as_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = api.wait_stack(&stack2, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_FAILED", "{body}");
    assert!(
        body["stack_status_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("install failed"),
        "{body}"
    );
    server.stop().await;
}
