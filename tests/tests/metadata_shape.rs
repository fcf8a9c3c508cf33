//! The metadata served to agents matches Heat's shape field for field
//! (reference heat-server.md §2.4), with the TEMP_URL transports in place of CFN.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::Server;

const TEMPLATE: &str = r##"
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: "#!/bin/sh\necho $foo\n"
      inputs:
        - name: foo
        - name: bar
          default: dflt
      outputs:
        - name: result
        - name: errout
          error_output: true
  dep:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: cfg}
      server: {get_resource: server}
      signal_transport: TEMP_URL_SIGNAL
      input_values: {foo: world, extra: 42}
"##;

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn metadata_matches_heats_derived_config_field_for_field() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api.create_stack("s1", TEMPLATE, json!({})).await.unwrap();
    api.wait_resource(&stack, "dep", "CREATE_IN_PROGRESS", Duration::from_secs(30))
        .await
        .unwrap();
    let url = api.metadata_url(&stack, "server").await.unwrap();

    // The capability URL serves the document itself; the native API wraps it.
    let mut doc = Value::Null;
    for _ in 0..100 {
        doc = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if doc["deployments"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, native) = api
        .get(&format!("{stack}/resources/server/metadata"))
        .await
        .unwrap();
    assert_eq!(native["metadata"], doc);

    assert_eq!(keys(&doc), ["deployments", "os-collect-config"]);
    assert_eq!(
        doc["os-collect-config"],
        json!({"collectors": ["request", "local"], "request": {"metadata_url": url}})
    );
    let (_, server_res) = api.get(&format!("{stack}/resources/server")).await.unwrap();
    assert_eq!(
        server_res["resource"]["attributes"]["os_collect_config"],
        doc["os-collect-config"]
    );

    let deployments = doc["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 1);
    let d = &deployments[0];
    assert_eq!(
        keys(d),
        [
            "id",
            "name",
            "group",
            "creation_time",
            "config",
            "inputs",
            "outputs",
            "options"
        ]
    );
    assert!(uuid_like(&d["id"]), "{d}");
    assert!(d["name"].as_str().unwrap().starts_with("s1-cfg-"), "{d}");
    assert_eq!(d["group"], "script");
    assert!(d["creation_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(d["config"], "#!/bin/sh\necho $foo\n");
    assert_eq!(d["options"], json!({}));
    assert_eq!(
        d["outputs"],
        json!([
            {"name": "result", "description": "", "type": "String", "error_output": false},
            {"name": "errout", "description": "", "type": "String", "error_output": true}
        ])
    );

    let (_, dep) = api.get(&format!("{stack}/resources/dep")).await.unwrap();
    let deployment_id = dep["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let server_id = server_res["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let stack_id = stack.rsplit('/').next().unwrap();
    let inputs = d["inputs"].as_array().unwrap();
    let signal_url = inputs[8]["value"].as_str().unwrap();
    assert!(
        signal_url.starts_with(&format!(
            "{}/temp_url/v1/signal/{deployment_id}?temp_url_sig=",
            server.base
        )),
        "{signal_url}"
    );
    assert_eq!(
        Value::Array(inputs.clone()),
        json!([
            {"name": "foo", "description": "", "type": "String", "default": "", "value": "world"},
            {"name": "bar", "description": "", "type": "String", "default": "dflt", "value": "dflt"},
            {"name": "extra", "type": "String", "value": 42},
            {"name": "deploy_server_id", "description": "ID of the server being deployed to", "type": "String", "value": server_id},
            {"name": "deploy_action", "description": "Name of the current action being deployed", "type": "String", "value": "CREATE"},
            {"name": "deploy_stack_id", "description": "ID of the stack this deployment belongs to", "type": "String", "value": format!("s1/{stack_id}")},
            {"name": "deploy_resource_name", "description": "Name of this deployment resource in the stack", "type": "String", "value": "dep"},
            {"name": "deploy_signal_transport", "description": "How the server should signal to heat with the deployment output values.", "type": "String", "value": "TEMP_URL_SIGNAL"},
            {"name": "deploy_signal_id", "description": "ID of signal to use for signaling output values", "type": "String", "value": signal_url},
            {"name": "deploy_signal_verb", "description": "HTTP verb to use for signaling output values", "type": "String", "value": "PUT"}
        ])
    );
    // Key order of each input as Heat serialises it.
    assert_eq!(
        keys(&inputs[0]),
        ["name", "description", "type", "default", "value"]
    );
    assert_eq!(keys(&inputs[2]), ["name", "type", "value"]);

    // Conditional GET and HEAD, as the request collector and our agent use them.
    let client = reqwest::Client::new();
    let first = client.get(&url).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    // Last-Modified comes only once a change has settled (api/temp_url.rs has why).
    let again = client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), reqwest::StatusCode::NOT_MODIFIED);
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), reqwest::StatusCode::OK);
    assert_eq!(head.headers().get("etag"), first.headers().get("etag"));

    // A signal by PUT to the signal URL completes the deployment with Heat's rules.
    let put = client
        .put(signal_url)
        .json(&json!({"deploy_stdout": "world\n", "deploy_stderr": "", "deploy_status_code": 0, "result": "ok"}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{}", put.status());
    let done = api
        .wait_stack(&stack, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let (_, dep) = api.get(&format!("{stack}/resources/dep")).await.unwrap();
    assert_eq!(dep["resource"]["attributes"]["result"], "ok");
    assert_eq!(dep["resource"]["attributes"]["deploy_stdout"], "world\n");
    server.stop().await;
}

fn uuid_like(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4)
}
