//! `updraft software deployment …` against the real software-deployments API: create a
//! deployment of a config to a server id, show and list it, read its outputs once set
//! through HTTP, see it in the server's metadata, delete it.

use reqwest::Method;
use serde_json::{Value, json};
use updraft_e2e::Server;

use super::support::Cli;

#[tokio::test]
async fn software_deployment_commands_create_show_list_output_metadata_and_delete() {
    let server = Server::start().await.unwrap();
    let cli = Cli::new(&server);
    let script = cli.file("script.sh", "#!/bin/sh\necho $a\n");
    let def = cli.file(
        "def.yaml",
        "inputs:\n- name: a\n  type: String\noutputs:\n- name: result\n",
    );
    let made: Value = serde_json::from_str(
        &cli.ok(&[
            "software",
            "config",
            "create",
            "cfg",
            "--config-file",
            &script,
            "--definition-file",
            &def,
            "-g",
            "script",
            "-f",
            "json",
        ])
        .await,
    )
    .unwrap();
    let config_id = made["id"].as_str().unwrap().to_string();

    // create: a derived config with the input's value and the deploy_* inputs.
    let created: Value = serde_json::from_str(
        &cli.ok(&[
            "software",
            "deployment",
            "create",
            "dep1",
            "--config",
            &config_id,
            "--server",
            "srv-1",
            "--input-value",
            "a=1",
            "-f",
            "json",
        ])
        .await,
    )
    .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["server_id"], "srv-1", "{created}");
    assert_eq!(created["action"], "UPDATE", "{created}");
    assert_eq!(created["status"], "IN_PROGRESS", "{created}");
    assert_ne!(created["config_id"], config_id.as_str(), "a derived config");

    // show and list (--server filters).
    let status = cli
        .ok(&[
            "software",
            "deployment",
            "show",
            &id,
            "-f",
            "value",
            "-c",
            "status",
        ])
        .await;
    assert_eq!(status, "IN_PROGRESS\n");
    let listed = cli
        .ok(&[
            "software",
            "deployment",
            "list",
            "--server",
            "srv-1",
            "-f",
            "value",
            "-c",
            "id",
            "-c",
            "server_id",
        ])
        .await;
    assert_eq!(listed, format!("{id} srv-1\n"));
    let other = cli
        .ok(&[
            "software",
            "deployment",
            "list",
            "--server",
            "srv-2",
            "-f",
            "value",
            "-c",
            "id",
        ])
        .await;
    assert_eq!(other, "");
    let table = cli.ok(&["software", "deployment", "list"]).await;
    assert!(
        table.contains("| server_id ") && table.contains(&id),
        "{table}"
    );

    // Outputs, once the deployment is given some through HTTP.
    let (code, body) = server
        .api()
        .call(
            Method::PUT,
            &format!("/software_deployments/{id}"),
            Some(
                json!({"output_values": {"result": "42", "deploy_status_code": 0},
                        "status": "COMPLETE"}),
            ),
        )
        .await
        .unwrap();
    assert!(code.is_success(), "{code} {body}");
    let value = cli
        .ok(&[
            "software",
            "deployment",
            "output",
            "show",
            &id,
            "result",
            "-f",
            "value",
            "-c",
            "value",
        ])
        .await;
    assert_eq!(value, "42\n");
    let all: Value = serde_json::from_str(
        &cli.ok(&[
            "software",
            "deployment",
            "output",
            "show",
            &id,
            "--all",
            "-f",
            "json",
        ])
        .await,
    )
    .unwrap();
    assert_eq!(all, json!({"result": "42", "deploy_status_code": 0}));
    let (_, stderr, ok) = cli
        .run(&["software", "deployment", "output", "show", &id, "nope"])
        .await;
    assert!(!ok);
    assert!(stderr.contains("has no output nope"), "{stderr}");

    // The server's metadata: the derived config, with the given input value.
    let meta: Value = serde_json::from_str(
        &cli.ok(&["software", "deployment", "metadata", "show", "srv-1"])
            .await,
    )
    .unwrap();
    let items = meta.as_array().unwrap();
    assert_eq!(items.len(), 1, "{meta}");
    assert_eq!(items[0]["name"], "dep1", "{meta}");
    assert_eq!(items[0]["group"], "script", "{meta}");
    let input = |name: &str| {
        items[0]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .map(|i| i["value"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(input("a"), "1", "{meta}");
    assert_eq!(input("deploy_server_id"), "srv-1", "{meta}");

    // delete: gone from show (the server's 404 message) and from the metadata.
    cli.ok(&["software", "deployment", "delete", &id]).await;
    let (_, stderr, ok) = cli.run(&["software", "deployment", "show", &id]).await;
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "Software deployment with id {id} not found (HTTP 404)"
        )),
        "{stderr}"
    );
    let meta = cli
        .ok(&["software", "deployment", "metadata", "show", "srv-1"])
        .await;
    assert_eq!(meta.trim(), "[]");
    server.stop().await;
}
