//! Crash safety: a real `updraft server` is killed with SIGKILL in the middle of a create
//! and of an update (while resources are being created and while a deployment waits for
//! its signal); after each restart the stack finishes, no resource is duplicated or lost,
//! every deployment ran exactly once per action, and every resource has exactly one
//! completion event per action.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server, postgres_available};

const WIDE: usize = 200;
const CHAIN: usize = 20;
const T: Duration = Duration::from_secs(120);

fn template() -> String {
    let mut t = String::from(
        r#"heat_template_version: 2018-08-31
parameters:
  round: {type: string, default: one}
  log: {type: string}
resources:
  server:
    type: OS::Heat::DeployedServer
  cfg:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{name: round}, {name: log}]
      outputs: [{name: result}]
      config: |
        #!/bin/sh
        sleep 0.4
        echo "$deploy_action $deploy_resource_name $round" >> "$log"
        printf '%s' "$deploy_resource_name-$round" > "$heat_outputs_path.result"
"#,
    );
    for i in 0..3 {
        let depends = if i == 0 {
            String::new()
        } else {
            format!("\n    depends_on: dep{}", i - 1)
        };
        let _ = write!(
            t,
            "  dep{i}:\n    type: OS::Heat::SoftwareDeployment{depends}\n    properties:\n      config: {{get_resource: cfg}}\n      server: {{get_resource: server}}\n      input_values: {{round: {{get_param: round}}, log: {{get_param: log}}}}\n"
        );
    }
    for i in 0..CHAIN {
        let previous = if i == 0 {
            "{get_param: round}".to_string()
        } else {
            format!("{{get_attr: [c{}, value]}}", i - 1)
        };
        let _ = write!(
            t,
            "  c{i}:\n    type: OS::Heat::Value\n    properties:\n      value: {{list_join: ['.', [{previous}, '{i}']]}}\n"
        );
    }
    // A ResourceGroup of WIDE members, slow enough that a crash lands inside its nested
    // stack.
    let _ = write!(
        t,
        "  group:\n    type: OS::Heat::ResourceGroup\n    properties:\n      count: {WIDE}\n      resource_def:\n        type: OS::Heat::TestResource\n        properties:\n          value: {{list_join: ['-', [{{get_param: round}}, '%index%']]}}\n          action_wait_secs: {{create: 0.05, update: 0.05}}\n"
    );
    let _ = write!(
        t,
        "outputs:\n  chain: {{value: {{get_attr: [c{}, value]}}}}\n  last_deployment: {{value: {{get_attr: [dep2, result]}}}}\n  members: {{value: {{get_attr: [group, output]}}}}\n",
        CHAIN - 1
    );
    t
}

async fn resource_statuses(api: &Api, stack: &str) -> HashMap<String, String> {
    let (_, body) = api.get(&format!("{stack}/resources")).await.unwrap();
    body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["resource_name"].as_str().unwrap().to_string(),
                r["resource_status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Waits until `count` resources have `status`, or the stack stopped being in progress.
async fn wait_until(api: &Api, stack: &str, status: &str, count: usize) {
    for _ in 0..600 {
        let statuses = resource_statuses(api, stack).await;
        if statuses.values().filter(|s| *s == status).count() >= count {
            return;
        }
        let (_, body) = api.get(stack).await.unwrap();
        if !body["stack"]["stack_status"]
            .as_str()
            .unwrap_or_default()
            .ends_with("IN_PROGRESS")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until resource `name` is in `status` (best effort: returns after a while anyway).
async fn wait_for(api: &Api, stack: &str, name: &str, status: &str) {
    for _ in 0..600 {
        if resource_statuses(api, stack)
            .await
            .get(name)
            .map(String::as_str)
            == Some(status)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The group's nested stack path (`/stacks/<name>/<id>`).
async fn group_stack(api: &Api, stack: &str) -> Option<String> {
    let (_, body) = api.get(&format!("{stack}/resources/group")).await.ok()?;
    let id = body["resource"]["physical_resource_id"]
        .as_str()?
        .to_string();
    if id.is_empty() {
        return None;
    }
    let (_, nested) = api.get(&format!("/stacks/{id}")).await.ok()?;
    Some(format!(
        "/stacks/{}/{id}",
        nested["stack"]["stack_name"].as_str()?
    ))
}

/// Waits until `count` members of the group have `status` (best effort).
async fn wait_members(api: &Api, stack: &str, status: &str, count: usize) {
    for _ in 0..600 {
        if let Some(nested) = group_stack(api, stack).await
            && resource_statuses(api, &nested)
                .await
                .values()
                .filter(|s| *s == status)
                .count()
                >= count
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How many group members have `status` now (for the log: where the crash landed).
async fn members_with(api: &Api, stack: &str, status: &str) -> usize {
    match group_stack(api, stack).await {
        Some(nested) => resource_statuses(api, &nested)
            .await
            .values()
            .filter(|s| *s == status)
            .count(),
        None => 0,
    }
}

fn completion_events(events: &Value, action: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for e in events["events"].as_array().unwrap() {
        if e["resource_status"] == format!("{action}_COMPLETE") {
            *out.entry(e["resource_name"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    out
}

#[tokio::test]
async fn sigkill_during_create_and_update_loses_and_duplicates_nothing_on_sqlite() {
    crash_and_recover(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigkill_during_create_and_update_loses_and_duplicates_nothing_on_postgresql() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    crash_and_recover(Backend::Postgres).await;
}

async fn crash_and_recover(backend: Backend) {
    let mut server = Server::start_with(backend, &[]).await.unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("runs.log");
    let log_path = log.to_str().unwrap().to_string();
    let template = template();
    let api = server.api();
    let stack = api
        .create_stack("crashy", &template, json!({"log": log_path}))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let agent = api
        .start_agent(&stack, "server", state.path(), &[])
        .await
        .unwrap();

    // Crash while resources are being created (inside the group's nested stack too), then
    // while dep1 waits for its signal.
    wait_until(&api, &stack, "CREATE_COMPLETE", 10).await;
    wait_members(&api, &stack, "CREATE_COMPLETE", 40).await;
    let done = members_with(&api, &stack, "CREATE_COMPLETE").await;
    eprintln!("crash during create: {done} of {WIDE} members created");
    server.crash_and_restart().await.unwrap();
    let api = server.api();
    wait_for(&api, &stack, "dep1", "CREATE_IN_PROGRESS").await;
    server.crash_and_restart().await.unwrap();
    let api = server.api();
    let created = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        created["stack_status"],
        "CREATE_COMPLETE",
        "{created}\n{}",
        agent.log_text()
    );
    let expected_chain = (0..CHAIN).fold("one".to_string(), |acc, i| format!("{acc}.{i}"));
    assert_eq!(Api::output(&created, "chain"), json!(expected_chain));
    assert_eq!(Api::output(&created, "last_deployment"), json!("dep2-one"));
    let members: Vec<String> = (0..WIDE).map(|i| format!("one-{i}")).collect();
    assert_eq!(Api::output(&created, "members"), json!(members));

    // Update, and crash while dep0 runs its UPDATE and again while values update.
    let (status, _) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template, "parameters": {"round": "two", "log": log_path}})),
        )
        .await
        .unwrap();
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    wait_for(&api, &stack, "dep0", "UPDATE_IN_PROGRESS").await;
    server.crash_and_restart().await.unwrap();
    let api = server.api();
    wait_members(&api, &stack, "UPDATE_COMPLETE", 40).await;
    let done = members_with(&api, &stack, "UPDATE_COMPLETE").await;
    eprintln!("crash during update: {done} of {WIDE} members updated");
    server.crash_and_restart().await.unwrap();
    let api = server.api();
    let updated = api.wait_stack(&stack, T).await.unwrap();
    assert_eq!(
        updated["stack_status"],
        "UPDATE_COMPLETE",
        "{updated}\n{}",
        agent.log_text()
    );
    let expected_chain = (0..CHAIN).fold("two".to_string(), |acc, i| format!("{acc}.{i}"));
    assert_eq!(Api::output(&updated, "chain"), json!(expected_chain));
    assert_eq!(Api::output(&updated, "last_deployment"), json!("dep2-two"));
    let members: Vec<String> = (0..WIDE).map(|i| format!("two-{i}")).collect();
    assert_eq!(Api::output(&updated, "members"), json!(members));

    // Exactly the resources of the template, all complete.
    let statuses = resource_statuses(&api, &stack).await;
    assert_eq!(statuses.len(), 2 + 3 + CHAIN + 1, "{statuses:?}");
    assert!(
        statuses.values().all(|s| s.ends_with("_COMPLETE")),
        "{statuses:?}"
    );

    // Each deployment ran once per action, in order.
    let runs = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = runs.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "CREATE dep0 one",
            "CREATE dep1 one",
            "CREATE dep2 one",
            "UPDATE dep0 two",
            "UPDATE dep1 two",
            "UPDATE dep2 two"
        ],
        "{runs}"
    );

    // One completion event per resource and action: nothing done twice.
    let (_, events) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    let mut created = completion_events(&events, "CREATE");
    // The stack's own event carries the stack's name.
    assert_eq!(created.remove("crashy"), Some(1));
    assert_eq!(created.len(), 2 + 3 + CHAIN + 1, "{created:?}");
    assert!(
        created.values().all(|n| *n == 1),
        "a resource completed twice: {created:?}"
    );
    let updated = completion_events(&events, "UPDATE");
    assert!(
        updated.values().all(|n| *n == 1),
        "a resource updated twice: {updated:?}"
    );
    assert_eq!(updated.get("crashy"), Some(&1));

    // The group's nested stack: exactly WIDE members, each created once and updated once.
    let nested = group_stack(&api, &stack).await.unwrap();
    let members = resource_statuses(&api, &nested).await;
    assert_eq!(members.len(), WIDE, "{members:?}");
    assert!(
        members.values().all(|s| s == "UPDATE_COMPLETE"),
        "{members:?}"
    );
    let (_, events) = api
        .get(&format!("{nested}/events?sort_dir=asc"))
        .await
        .unwrap();
    let nested_name = nested.split('/').nth(2).unwrap().to_string();
    for action in ["CREATE", "UPDATE"] {
        let mut done = completion_events(&events, action);
        done.remove(&nested_name);
        assert_eq!(done.len(), WIDE, "{action}: {done:?}");
        assert!(
            done.values().all(|n| *n == 1),
            "a member completed {action} twice: {done:?}"
        );
    }
    agent.kill().await;
    server.stop().await;
}
