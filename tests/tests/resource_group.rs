//! `OS::Heat::ResourceGroup` through the API, on SQLite and on PostgreSQL: members in a
//! nested stack, the group attribute forms, growing, shrinking with a removal policy, the
//! tree's resource limit, and delete.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server, postgres_available};

fn template(count: u64, removal: &str) -> String {
    format!(
        r#"
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {count}
      removal_policies: [{{resource_list: [{removal}]}}]
      resource_def:
        type: OS::Heat::Value
        properties:
          value: node-%index%
  after:
    type: OS::Heat::Value
    properties:
      value: {{get_attr: [group, resource.0, value]}}
outputs:
  values: {{value: {{get_attr: [group, value]}}}}
  refs: {{value: {{get_attr: [group, refs]}}}}
  names: {{value: {{get_attr: [group, refs_map]}}}}
  by_name: {{value: {{get_attr: [group, attributes, value]}}}}
  first: {{value: {{get_attr: [after, value]}}}}
  second: {{value: {{get_attr: [group, resource.1.value]}}}}
"#
    )
}

async fn nested_resources(api: &Api, stack: &str) -> Vec<String> {
    let (_, group) = api.get(&format!("{stack}/resources/group")).await.unwrap();
    let nested_id = group["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = api.get(&format!("/stacks/{nested_id}")).await.unwrap();
    assert!(status.is_success(), "nested stack by id: {status} {body}");
    let nested = format!(
        "/stacks/{}/{nested_id}",
        body["stack"]["stack_name"].as_str().unwrap()
    );
    let (_, list) = api.get(&format!("{nested}/resources")).await.unwrap();
    let mut names: Vec<String> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let status = r["resource_status"].as_str().unwrap();
            assert!(status.ends_with("_COMPLETE"), "{r}");
            r["resource_name"].as_str().unwrap().to_string()
        })
        .collect();
    names.sort();
    names
}

async fn group_lifecycle(backend: Backend) {
    let server = Server::start_with(backend, &[]).await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("grouped", &template(3, ""), json!({}))
        .await
        .unwrap();
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    assert_eq!(
        Api::output(&body, "values"),
        json!(["node-0", "node-1", "node-2"])
    );
    assert_eq!(Api::output(&body, "first"), json!("node-0"));
    assert_eq!(Api::output(&body, "second"), json!("node-1"));
    assert_eq!(
        Api::output(&body, "by_name"),
        json!({"0": "node-0", "1": "node-1", "2": "node-2"})
    );
    let refs = Api::output(&body, "refs");
    assert_eq!(refs.as_array().unwrap().len(), 3);
    assert_eq!(Api::output(&body, "names")["2"], refs[2]);
    assert_eq!(nested_resources(&api, &stack).await, ["0", "1", "2"]);
    // nested_depth lists the members too, with their parent and the group's nested link.
    let (_, all) = api
        .get(&format!("{stack}/resources?nested_depth=1"))
        .await
        .unwrap();
    let all = all["resources"].as_array().unwrap();
    assert_eq!(all.len(), 5, "{all:?}");
    let members: Vec<&Value> = all
        .iter()
        .filter(|r| r["parent_resource"] == "group")
        .collect();
    assert_eq!(members.len(), 3, "{all:?}");
    let group = all.iter().find(|r| r["resource_name"] == "group").unwrap();
    assert!(
        group["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "nested"),
        "{group}"
    );
    let (_, events) = api
        .get(&format!("{stack}/events?nested_depth=1"))
        .await
        .unwrap();
    let member_events: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_name"] == "1")
        .collect();
    assert_eq!(member_events.len(), 2, "{events}");
    assert!(
        member_events[0]["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "root_stack"),
        "{}",
        member_events[0]
    );
    let (status, err) = api
        .get(&format!("{stack}/resources?nested_depth=x"))
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 400, "{err}");
    // Nested stacks are not listed with the project's stacks.
    let (_, list) = api.get("/stacks").await.unwrap();
    assert_eq!(list["stacks"].as_array().unwrap().len(), 1, "{list}");

    // Grow to 5: existing members are kept (same references), two are added.
    let body = api
        .update_stack(&stack, &template(5, ""), json!({}))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    let grown = Api::output(&body, "refs");
    assert_eq!(grown.as_array().unwrap()[..3], refs.as_array().unwrap()[..]);
    assert_eq!(
        nested_resources(&api, &stack).await,
        ["0", "1", "2", "3", "4"]
    );

    // Shrink to 3 removing member "1" by name: 0, 2, 3 remain; "1" is never reused.
    let body = api
        .update_stack(&stack, &template(3, "'1'"), json!({}))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    assert_eq!(
        Api::output(&body, "values"),
        json!(["node-0", "node-2", "node-3"])
    );
    assert_eq!(nested_resources(&api, &stack).await, ["0", "2", "3"]);

    let (_, group) = api.get(&format!("{stack}/resources/group")).await.unwrap();
    let nested_id = group["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "DELETE_COMPLETE", "{body}");
    let (_, nested) = api.get(&format!("/stacks/{nested_id}")).await.unwrap();
    assert_eq!(
        nested["stack"]["stack_status"], "DELETE_COMPLETE",
        "{nested}"
    );
    server.stop().await;
}

#[tokio::test]
async fn resource_group_on_sqlite() {
    group_lifecycle(Backend::Sqlite).await;
}

#[tokio::test]
async fn resource_group_on_postgresql() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    group_lifecycle(Backend::Postgres).await;
}

#[tokio::test]
async fn the_tree_resource_limit_fails_the_group() {
    let server = Server::start_with(Backend::Sqlite, &["--max-resources-per-stack", "4"])
        .await
        .unwrap();
    let api = server.api();
    let stack = api
        .create_stack("big", &template(5, ""), json!({}))
        .await
        .unwrap();
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_FAILED");
    let reason = body["stack_status_reason"].as_str().unwrap();
    assert!(
        reason.contains("resources.group: Maximum resources per stack exceeded."),
        "{reason}"
    );
    let _: Value = body;
    server.stop().await;
}

fn batched(value: &str) -> String {
    format!(
        r#"
heat_template_version: 2018-08-31
resources:
  group:
    type: OS::Heat::ResourceGroup
    update_policy:
      batch_create: {{max_batch_size: 2}}
      rolling_update: {{max_batch_size: 1}}
    properties:
      count: 4
      resource_def:
        type: OS::Heat::TestResource
        properties:
          value: {value}-%index%
          action_wait_secs: {{create: 0.2, update: 0.2}}
outputs:
  values: {{value: {{get_attr: [group, output]}}}}
"#
    )
}

/// The order of `<action>_IN_PROGRESS` (start) and `_COMPLETE` (end) events of members.
async fn member_timeline(api: &Api, stack: &str, action: &str) -> Vec<String> {
    let (_, events) = api
        .get(&format!("{stack}/events?nested_depth=1&sort_dir=asc"))
        .await
        .unwrap();
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_name"].as_str().unwrap().parse::<u32>().is_ok())
        .filter_map(|e| {
            let status = e["resource_status"].as_str().unwrap();
            let name = e["resource_name"].as_str().unwrap();
            if status == format!("{action}_IN_PROGRESS") {
                Some(format!("start {name}"))
            } else if status == format!("{action}_COMPLETE") {
                Some(format!("end {name}"))
            } else {
                None
            }
        })
        .collect()
}

#[tokio::test]
async fn batch_create_and_rolling_update_follow_the_update_policy() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("batched", &batched("a"), json!({}))
        .await
        .unwrap();
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    assert_eq!(
        Api::output(&body, "values"),
        json!(["a-0", "a-1", "a-2", "a-3"])
    );
    // Batches of two: members 2 and 3 start only after 0 and 1 are done.
    let timeline = member_timeline(&api, &stack, "CREATE").await;
    let pos = |s: &str| timeline.iter().position(|x| x == s).unwrap();
    assert!(
        pos("end 0") < pos("start 2") && pos("end 1") < pos("start 2"),
        "{timeline:?}"
    );
    assert!(pos("end 1") < pos("start 3"), "{timeline:?}");

    // Rolling update one at a time: each member ends before the next starts.
    let body = api
        .update_stack(&stack, &batched("b"), json!({}))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    assert_eq!(
        Api::output(&body, "values"),
        json!(["b-0", "b-1", "b-2", "b-3"])
    );
    let timeline = member_timeline(&api, &stack, "UPDATE").await;
    assert_eq!(
        timeline,
        [
            "start 0", "end 0", "start 1", "end 1", "start 2", "end 2", "start 3", "end 3"
        ],
        "{timeline:?}"
    );
    server.stop().await;
}
