//! Abandon and adopt of a stack with nested stacks (a ResourceGroup of deployments and a
//! provider template): the abandon data carries each nested stack's resources and template
//! under its owner resource, as Heat's, and an adopt brings the nested stacks back with
//! the same physical resources: nothing is redeployed, and the adopted stack owns them.
//! Also adopted: the same data with the provider resource's entry cut down to what Heat
//! writes for a nested stack (no `type`, `resource_id`, properties or attributes).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server};

const TEMPLATE: &str = r##"heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Heat::DeployedServer
    properties: {software_config_transport: POLL_TEMP_URL}
  config:
    type: OS::Heat::SoftwareConfig
    properties: {group: script, config: "#!/bin/sh\necho hi\n"}
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 2
      resource_def:
        type: OS::Heat::SoftwareDeployment
        properties:
          config: {get_resource: config}
          server: {get_resource: server}
          signal_transport: NO_SIGNAL
          input_values: {index: "%index%"}
  inner:
    type: inner.yaml
outputs:
  secret: {value: {get_attr: [inner, secret]}}
  refs: {value: {get_attr: [group, refs]}}
"##;

const INNER: &str = r#"heat_template_version: 2018-08-31
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: 10}
outputs:
  secret: {value: {get_attr: [secret, value]}}
"#;

async fn wait_done(api: &Api, stack: &str) -> Value {
    api.wait_stack(stack, Duration::from_secs(60))
        .await
        .unwrap()
}

/// The ids of the deployments' configs at a server's metadata URL, sorted, as an agent
/// sees them (a redeployment would derive new ones).
async fn polled_ids(url: &str) -> Vec<String> {
    let doc: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let mut ids: Vec<String> = doc["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Every resource of the stack and its nested stacks: (parent resource, name) → status.
async fn tree_statuses(api: &Api, stack: &str) -> Vec<(String, String, String)> {
    let (status, body) = api
        .get(&format!("{stack}/resources?nested_depth=2"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut rows: Vec<(String, String, String)> = body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["parent_resource"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["resource_name"].as_str().unwrap().to_string(),
                r["resource_status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

async fn adopt(api: &Api, name: &str, data: &Value) -> String {
    let (status, body) = api
        .call(
            Method::POST,
            "/stacks",
            Some(
                json!({"stack_name": name, "adopt_stack_data": data.to_string(),
                        "parameters": {}, "files": {}, "environment": {},
                        "disable_rollback": true}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    format!("/stacks/{name}/{}", body["stack"]["id"].as_str().unwrap())
}

#[tokio::test]
async fn nested_stacks_are_abandoned_with_their_resources_and_adopted_back() {
    let server = Server::start_with(
        Backend::Sqlite,
        &["--enable-stack-abandon", "--enable-stack-adopt"],
    )
    .await
    .unwrap();
    let api = server.api();
    let (status, body) = api
        .call(
            Method::POST,
            "/stacks",
            Some(json!({"stack_name": "nest", "template": TEMPLATE,
                        "files": {"inner.yaml": INNER}})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stack = format!("/stacks/nest/{}", body["stack"]["id"].as_str().unwrap());
    let done = wait_done(&api, &stack).await;
    assert_eq!(done["stack_status"], "CREATE_COMPLETE", "{done}");
    let secret = Api::output(&done, "secret");
    let refs = Api::output(&done, "refs");
    let url = api.metadata_url(&stack, "server").await.unwrap();
    let deployed = polled_ids(&url).await;
    assert_eq!(deployed.len(), 2, "{deployed:?}");

    // The data holds the nested stacks' resources under their owners.
    let (status, data) = api
        .call(Method::DELETE, &format!("{stack}/abandon"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{data}");
    let members = &data["resources"]["group"]["resources"];
    let mut member_ids: Vec<String> = ["0", "1"]
        .iter()
        .map(|m| {
            assert_eq!(
                members[m]["type"], "OS::Heat::SoftwareDeployment",
                "{members}"
            );
            members[m]["resource_id"].as_str().unwrap().to_string()
        })
        .collect();
    member_ids.sort();
    let mut deployment_ids: Vec<String> = refs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    deployment_ids.sort();
    assert_eq!(member_ids, deployment_ids);
    let inner = &data["resources"]["inner"];
    assert_eq!(
        inner["resources"]["secret"]["type"],
        "OS::Heat::RandomString"
    );
    assert!(
        inner["template"]["resources"]["secret"].is_object(),
        "{inner}"
    );
    // Abandon forgot the nested stacks too; the deployments stay.
    assert_eq!(polled_ids(&url).await, deployed);

    let adopted = adopt(&api, "nestback", &data).await;
    let done = wait_done(&api, &adopted).await;
    assert_eq!(done["stack_status"], "ADOPT_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "secret"), secret);
    assert_eq!(Api::output(&done, "refs"), refs);
    // Nothing was redeployed: the same two deployments.
    assert_eq!(polled_ids(&url).await, deployed);
    let tree = tree_statuses(&api, &adopted).await;
    let nested: Vec<_> = tree.iter().filter(|(p, _, _)| !p.is_empty()).collect();
    assert_eq!(
        nested,
        [
            &(
                "group".to_string(),
                "0".to_string(),
                "ADOPT_COMPLETE".to_string()
            ),
            &(
                "group".to_string(),
                "1".to_string(),
                "ADOPT_COMPLETE".to_string()
            ),
            &(
                "inner".to_string(),
                "secret".to_string(),
                "ADOPT_COMPLETE".to_string()
            ),
        ],
        "{tree:?}"
    );
    // The nested stacks were adopted (their own ADOPT events).
    let (_, group) = api
        .get(&format!("{adopted}/resources/group"))
        .await
        .unwrap();
    let child = group["resource"]["physical_resource_id"].as_str().unwrap();
    let (status, child_stack) = api.get(&format!("/stacks/{child}")).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{child_stack}");
    assert_eq!(
        child_stack["stack"]["stack_status"], "ADOPT_COMPLETE",
        "{child_stack}"
    );

    // Abandoned again and adopted from data shaped as Heat writes a nested stack's entry.
    let (status, mut again) = api
        .call(Method::DELETE, &format!("{adopted}/abandon"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{again}");
    let entry = again["resources"]["inner"].as_object().unwrap().clone();
    again["resources"]["inner"] = entry
        .into_iter()
        .filter(|(k, _)| {
            [
                "name",
                "action",
                "status",
                "resources",
                "template",
                "environment",
            ]
            .contains(&k.as_str())
        })
        .collect();
    let heat_shaped = adopt(&api, "heatshaped", &again).await;
    let done = wait_done(&api, &heat_shaped).await;
    assert_eq!(done["stack_status"], "ADOPT_COMPLETE", "{done}");
    assert_eq!(Api::output(&done, "secret"), secret);
    assert_eq!(polled_ids(&url).await, deployed);

    // The adopted stack owns the deployments: deleting it deletes them.
    let (status, _) = api.call(Method::DELETE, &heat_shaped, None).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = wait_done(&api, &heat_shaped).await;
    assert_eq!(gone["stack_status"], "DELETE_COMPLETE", "{gone}");
    for id in &deployment_ids {
        let (status, _) = api
            .get(&format!("/software_deployments/{id}"))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
    }
    server.stop().await;
}
