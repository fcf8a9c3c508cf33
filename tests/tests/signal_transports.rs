//! Deployment signal transports beyond the capability URL: CFN_SIGNAL gives the agent a
//! pre-signed `POST /v1/signal/<ARN>` URL; our agent signals through it; a signal delivered
//! three times changes the deployment once; a tampered URL is refused.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Server, repo_root};

const T: Duration = Duration::from_secs(60);

fn template() -> String {
    std::fs::read_to_string(repo_root().join("templates/hello-world.yaml"))
        .unwrap()
        .replace(
            "signal_transport: TEMP_URL_SIGNAL",
            "signal_transport: CFN_SIGNAL",
        )
}

/// The deployment's derived input `name` from the server's metadata.
async fn deploy_input(api: &Api, stack: &str, name: &str) -> Value {
    let (_, md) = api
        .get(&format!("{stack}/resources/server/metadata"))
        .await
        .unwrap();
    md["metadata"]["deployments"][0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .map(|i| i["value"].clone())
        .unwrap_or(Value::Null)
}

fn curl_post(url: &str, body: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
            url,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn cfn_signal_deployments_complete_through_the_presigned_url() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("cfnsig", &template(), json!({"name": "cfn"}))
        .await
        .unwrap();
    api.wait_resource(&stack, "deployment", "CREATE_IN_PROGRESS", T)
        .await
        .unwrap();
    let url = loop {
        let v = deploy_input(&api, &stack, "deploy_signal_id").await;
        if let Some(u) = v.as_str() {
            break u.to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        url.contains("/v1/signal/arn%3Aopenstack%3Aheat%3A%3Ademo%3Astacks/cfnsig/"),
        "{url}"
    );
    assert_eq!(
        deploy_input(&api, &stack, "deploy_signal_verb").await,
        "POST"
    );
    assert_eq!(
        deploy_input(&api, &stack, "deploy_signal_transport").await,
        "CFN_SIGNAL"
    );

    // A tampered signature is refused; the deployment still waits.
    let tampered = url.replace("Signature=", "Signature=A");
    assert_eq!(curl_post(&tampered, "{\"deploy_status_code\": 0}"), "403");

    // Our agent runs the script and signals through the URL.
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        created["stack_status"],
        "CREATE_COMPLETE",
        "{created}\n{}",
        agent.log_text()
    );
    assert_eq!(Api::output(&created, "greeting"), json!("Hello, cfn!"));
    agent.kill().await;

    // The same signal delivered again (three times) changes nothing.
    for _ in 0..3 {
        assert_eq!(
            curl_post(
                &url,
                "{\"deploy_status_code\": 1, \"deploy_stderr\": \"late\"}"
            ),
            "200"
        );
    }
    let (_, res) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(res["resource"]["resource_status"], "CREATE_COMPLETE");
    let (_, body) = api.get(&stack).await.unwrap();
    assert_eq!(Api::output(&body["stack"], "status_code"), json!(0));

    // Deleted, the URL stops working.
    api.call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(curl_post(&url, "{}"), "403");
    server.stop().await;
}

#[tokio::test]
async fn a_cancelled_update_cancels_the_deployment_and_a_late_signal_changes_nothing() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("cancelled", &template(), json!({"name": "first"}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(created["stack_status"], "CREATE_COMPLETE", "{created}");
    // No agent from here on: the UPDATE deployment waits for a signal that comes late.
    agent.kill().await;
    let (status, _) = api
        .call(
            reqwest::Method::PATCH,
            &stack,
            Some(json!({"parameters": {"name": "second"}})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    api.wait_resource(&stack, "deployment", "UPDATE_IN_PROGRESS", T)
        .await
        .unwrap();
    let url = loop {
        if deploy_input(&api, &stack, "deploy_action").await == "UPDATE" {
            break deploy_input(&api, &stack, "deploy_signal_id").await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            &format!("{stack}/actions"),
            Some(json!({"cancel_without_rollback": null})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::OK);
    let body = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(body["stack_status"], "UPDATE_FAILED", "{body}");
    assert_eq!(
        curl_post(
            url.as_str().unwrap(),
            "{\"deploy_status_code\": 0, \"greeting\": \"too late\"}"
        ),
        "200"
    );
    let (_, events) = api
        .get(&format!("{stack}/resources/deployment/events"))
        .await
        .unwrap();
    let reasons: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["resource_status_reason"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| r.contains("succeeded")).count(),
        1,
        "only the CREATE signal was applied, none after the cancel: {reasons:?}"
    );
    let (_, res) = api
        .get(&format!("{stack}/resources/deployment"))
        .await
        .unwrap();
    assert_eq!(res["resource"]["resource_status"], "UPDATE_FAILED");
    let (_, body) = api.get(&stack).await.unwrap();
    assert_eq!(
        Api::output(&body["stack"], "greeting"),
        json!("Hello, first!")
    );
    server.stop().await;
}
