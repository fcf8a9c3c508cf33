//! Stack actions through the API, as a Heat user sees them, on SQLite and PostgreSQL:
//! suspend/resume, check, mark-unhealthy, rollback of a failed create and update,
//! cancel_update and cancel_without_rollback, restricted actions and updates of a
//! suspended stack refused with nothing changed.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::Duration;

use serde_json::{Value, json};
use updraft_e2e::{Api, Backend, Server, postgres_available};

const WAIT: Duration = Duration::from_secs(60);

fn template(value: &str, extra: &str) -> String {
    format!(
        r#"
heat_template_version: 2018-08-31
resources:
  tested:
    type: OS::Heat::TestResource
    properties:
      value: {value}
  plain:
    type: OS::Heat::Value
    properties:
      value: {{get_attr: [tested, output]}}
{extra}
outputs:
  out: {{value: {{get_attr: [plain, value]}}}}
"#
    )
}

async fn resource_states(api: &Api, stack: &str) -> Vec<(String, String, String)> {
    let (_, body) = api.get(&format!("{stack}/resources")).await.unwrap();
    let mut out: Vec<(String, String, String)> = body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["resource_name"].as_str().unwrap().to_string(),
                r["resource_status"].as_str().unwrap().to_string(),
                r["resource_status_reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn post_action(api: &Api, stack: &str, body: Value) -> (reqwest::StatusCode, Value) {
    api.call(
        reqwest::Method::POST,
        &format!("{stack}/actions"),
        Some(body),
    )
    .await
    .unwrap()
}

/// The newest stack event's status and reason.
async fn stack_reasons(api: &Api, stack: &str) -> Vec<String> {
    let (_, body) = api
        .get(&format!("{stack}/events?sort_dir=asc"))
        .await
        .unwrap();
    let name = stack.split('/').nth(2).unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_name"] == name)
        .map(|e| {
            format!(
                "{} {}",
                e["resource_status"].as_str().unwrap(),
                e["resource_status_reason"].as_str().unwrap()
            )
        })
        .collect()
}

async fn suspend_resume_check(api: &Api) {
    let stack = api
        .create_stack("acts", &template("one", ""), json!({}))
        .await
        .unwrap();
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");

    let (status, reply) = post_action(api, &stack, json!({"suspend": null})).await;
    assert_eq!((status.as_u16(), reply), (200, Value::Null));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "SUSPEND_COMPLETE", "{body}");
    assert_eq!(
        body["stack_status_reason"],
        "Stack SUSPEND completed successfully"
    );
    for (name, status, _) in resource_states(api, &stack).await {
        assert_eq!(status, "SUSPEND_COMPLETE", "{name}");
    }
    // An update of a suspended stack is refused and changes nothing.
    let (status, err) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template("two", ""), "parameters": {}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 400, "{err}");
    assert_eq!(err["error"]["type"], "NotSupported");
    assert_eq!(
        err["error"]["message"],
        "Updating a stack when it is suspended is not supported."
    );
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "SUSPEND_COMPLETE");
    assert_eq!(Api::output(&body, "out"), json!("one"));

    post_action(api, &stack, json!({"resume": null})).await;
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "RESUME_COMPLETE", "{body}");

    post_action(api, &stack, json!({"check": null})).await;
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CHECK_COMPLETE", "{body}");
    let states = resource_states(api, &stack).await;
    assert_eq!(
        states,
        [
            (
                "plain".to_string(),
                "CHECK_COMPLETE".to_string(),
                "CHECK not supported for OS::Heat::Value".to_string()
            ),
            (
                "tested".to_string(),
                "CHECK_COMPLETE".to_string(),
                "state changed".to_string()
            ),
        ]
    );
    assert_eq!(
        stack_reasons(api, &stack).await,
        [
            "CREATE_IN_PROGRESS Stack CREATE started",
            "CREATE_COMPLETE Stack CREATE completed successfully",
            "SUSPEND_IN_PROGRESS Stack SUSPEND started",
            "SUSPEND_COMPLETE Stack SUSPEND completed successfully",
            "RESUME_IN_PROGRESS Stack RESUME started",
            "RESUME_COMPLETE Stack RESUME completed successfully",
            "CHECK_IN_PROGRESS Stack CHECK started",
            "CHECK_COMPLETE Stack CHECK completed successfully",
        ]
    );

    // Mark-unhealthy: CHECK_FAILED with the reason; the next update replaces it.
    let (status, _) = api
        .call(
            reqwest::Method::PATCH,
            &format!("{stack}/resources/tested"),
            Some(json!({"mark_unhealthy": true, "resource_status_reason": "broken disk"})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 200);
    let (_, res) = api.get(&format!("{stack}/resources/tested")).await.unwrap();
    assert_eq!(res["resource"]["resource_status"], "CHECK_FAILED");
    assert_eq!(res["resource"]["resource_status_reason"], "broken disk");
    let old_id = res["resource"]["physical_resource_id"].clone();
    let body = api
        .update_stack(&stack, &template("one", ""), json!({}))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    let (_, res) = api.get(&format!("{stack}/resources/tested")).await.unwrap();
    assert_eq!(res["resource"]["resource_status"], "CREATE_COMPLETE");
    assert_ne!(res["resource"]["physical_resource_id"], old_id);

    // Bad action bodies.
    let (status, err) = post_action(api, &stack, json!({})).await;
    assert_eq!(
        (status.as_u16(), err["error"]["message"].clone()),
        (400, json!("No action specified"))
    );
    let (status, err) = post_action(api, &stack, json!({"bogus": null})).await;
    assert_eq!(
        (status.as_u16(), err["error"]["message"].clone()),
        (400, json!("Invalid action bogus specified"))
    );
    let (status, err) = post_action(api, &stack, json!({"cancel_update": null})).await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(err["error"]["type"], "NotSupported");
    assert_eq!(
        err["error"]["message"],
        "Cancelling update when stack is UPDATE_COMPLETE is not supported."
    );
}

async fn rollback_and_cancel(api: &Api) {
    // A failed create with rollback enabled deletes what was created.
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "rolled", "disable_rollback": false,
                "template": template("x", "  broken:\n    type: OS::Heat::TestResource\n    properties: {fail: true}\n    depends_on: plain")})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 201, "{created}");
    let stack = format!(
        "/stacks/rolled/{}",
        created["stack"]["id"].as_str().unwrap()
    );
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "ROLLBACK_COMPLETE", "{body}");
    assert_eq!(
        body["stack_status_reason"],
        "Stack ROLLBACK completed successfully"
    );
    assert!(resource_states(api, &stack).await.is_empty());
    let reasons = stack_reasons(api, &stack).await;
    assert_eq!(
        reasons[2], "ROLLBACK_IN_PROGRESS Stack ROLLBACK started",
        "{reasons:?}"
    );
    assert!(
        reasons[1]
            .starts_with("CREATE_FAILED Resource CREATE failed: ValueError: resources.broken"),
        "{reasons:?}"
    );

    // A failed update with rollback enabled returns to the previous definition.
    let stack = api
        .create_stack("updated", &template("first", ""), json!({}))
        .await
        .unwrap();
    api.wait_stack(&stack, WAIT).await.unwrap();
    let (status, _) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"disable_rollback": false, "parameters": {},
                "template": template("second", "  broken:\n    type: OS::Heat::TestResource\n    properties: {fail: true}\n    depends_on: plain")})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 202);
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "ROLLBACK_COMPLETE", "{body}");
    assert_eq!(Api::output(&body, "out"), json!("first"));
    let names: Vec<String> = resource_states(api, &stack)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(names, ["plain", "tested"]);

    // cancel_update stops a long update and rolls back; the value is the old one.
    let slow = |v: &str| {
        template(v, "").replace(
            &format!("value: {v}"),
            &format!("value: {v}\n      action_wait_secs: {{update: 60}}"),
        )
    };
    let (status, _) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": slow("third"), "parameters": {}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 202);
    api.wait_resource(&stack, "tested", "UPDATE_IN_PROGRESS", WAIT)
        .await
        .unwrap();
    // A second update while one runs waits its turn: 409, nothing changed.
    let (status, err) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template("other", ""), "parameters": {}})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 409, "{err}");
    assert_eq!(err["error"]["type"], "ActionInProgress");
    assert_eq!(
        err["error"]["message"],
        "Stack updated already has an action (UPDATE) in progress."
    );
    let (status, reply) = post_action(api, &stack, json!({"cancel_update": null})).await;
    assert_eq!((status.as_u16(), reply), (200, Value::Null));
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "ROLLBACK_COMPLETE", "{body}");
    assert_eq!(Api::output(&body, "out"), json!("first"));
    assert!(
        stack_reasons(api, &stack)
            .await
            .contains(&"UPDATE_FAILED Stack UPDATE cancelled".to_string())
    );

    // cancel_without_rollback leaves the stack UPDATE_FAILED.
    api.call(
        reqwest::Method::PUT,
        &stack,
        Some(json!({"template": slow("fourth"), "parameters": {}})),
    )
    .await
    .unwrap();
    api.wait_resource(&stack, "tested", "UPDATE_IN_PROGRESS", WAIT)
        .await
        .unwrap();
    post_action(api, &stack, json!({"cancel_without_rollback": null})).await;
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "UPDATE_FAILED", "{body}");
    assert_eq!(body["stack_status_reason"], "Stack UPDATE cancelled");
    let (_, res) = api.get(&format!("{stack}/resources/tested")).await.unwrap();
    assert_eq!(res["resource"]["resource_status"], "UPDATE_FAILED");
}

async fn restricted_update_changes_nothing(api: &Api) {
    let env =
        json!({"resource_registry": {"resources": {"tested": {"restricted_actions": "update"}}}});
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "guarded", "template": template("one", ""), "environment": env})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 201, "{created}");
    let stack = format!(
        "/stacks/guarded/{}",
        created["stack"]["id"].as_str().unwrap()
    );
    api.wait_stack(&stack, WAIT).await.unwrap();
    let before = api.get(&format!("{stack}/events")).await.unwrap().1;
    let (status, err) = api
        .call(
            reqwest::Method::PUT,
            &stack,
            Some(json!({"template": template("two", ""), "environment": env})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 400, "{err}");
    assert_eq!(err["error"]["type"], "ResourceActionRestricted");
    assert_eq!(
        err["error"]["message"],
        "resources.tested: update is restricted for resource."
    );
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE");
    assert_eq!(Api::output(&body, "out"), json!("one"));
    assert_eq!(api.get(&format!("{stack}/events")).await.unwrap().1, before);
}

async fn breakpoints(api: &Api) {
    let env = json!({"resource_registry": {"resources": {"tested": {"hooks": "pre-create"}}}});
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "paused", "template": template("one", ""), "environment": env})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 201, "{created}");
    let stack = format!(
        "/stacks/paused/{}",
        created["stack"]["id"].as_str().unwrap()
    );
    let events_of = |api: Api, stack: String| async move {
        let (_, body) = api
            .get(&format!("{stack}/resources/tested/events?sort_dir=asc"))
            .await
            .unwrap();
        // Heat answers 404 while a resource has no events yet.
        if body["error"]["type"] == "EntityNotFound" {
            return Vec::new();
        }
        let Some(events) = body["events"].as_array() else {
            panic!("no events: {body}");
        };
        events
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["resource_status"].as_str().unwrap(),
                    e["resource_status_reason"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    let paused = "INIT_COMPLETE CREATE paused until Hook pre-create is cleared".to_string();
    for _ in 0..300 {
        if events_of(api.clone(), stack.clone())
            .await
            .contains(&paused)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        events_of(api.clone(), stack.clone()).await,
        std::slice::from_ref(&paused)
    );
    let (_, body) = api.get(&stack).await.unwrap();
    assert_eq!(body["stack"]["stack_status"], "CREATE_IN_PROGRESS");

    let signal_path = format!("{stack}/resources/tested/signal");
    let signal = |hook: &str| {
        api.call(
            reqwest::Method::POST,
            &signal_path,
            Some(json!({"unset_hook": hook})),
        )
    };
    let (status, err) = signal("pre-update").await.unwrap();
    assert_eq!(status.as_u16(), 400);
    assert_eq!(err["error"]["type"], "InvalidBreakPointHook");
    assert_eq!(
        err["error"]["message"],
        "The \"pre-update\" hook is not defined on tested"
    );
    let (status, err) = signal("bogus").await.unwrap();
    assert_eq!(status.as_u16(), 400);
    assert_eq!(err["error"]["message"], "Invalid hook type \"bogus\"");
    let (status, _) = signal("pre-create").await.unwrap();
    assert_eq!(status.as_u16(), 200);
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let events = events_of(api.clone(), stack.clone()).await;
    assert_eq!(
        events,
        [
            paused,
            "INIT_COMPLETE Hook pre-create is cleared".to_string(),
            "CREATE_IN_PROGRESS state changed".to_string(),
            "CREATE_COMPLETE state changed".to_string(),
        ]
    );
}

async fn all(backend: Backend) {
    let server = Server::start_with(backend, &[]).await.unwrap();
    let api = server.api();
    breakpoints(&api).await;
    suspend_resume_check(&api).await;
    rollback_and_cancel(&api).await;
    restricted_update_changes_nothing(&api).await;
    // Name-only action URLs redirect, keeping the method.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_redirect
        .post(api.url("/stacks/acts/actions"))
        .header("X-Auth-Token", &api.token)
        .json(&json!({"check": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    server.stop().await;
}

#[tokio::test]
async fn stack_actions_on_sqlite() {
    all(Backend::Sqlite).await;
}

#[tokio::test]
async fn stack_actions_on_postgresql() {
    if !postgres_available() {
        eprintln!("skipping: no PostgreSQL server (CI=true makes this a failure)");
        return;
    }
    all(Backend::Postgres).await;
}

/// `timeout_mins` (Heat counts whole minutes): the action fails with `Timed out`, and the
/// resource cut off mid-create fails with it instead of staying in progress.
#[tokio::test]
async fn an_action_past_its_timeout_fails_timed_out() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = "heat_template_version: 2018-08-31\nresources:\n  slow:\n    type: OS::Heat::TestResource\n    properties: {wait_secs: 600}\n";
    let (status, created) = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(json!({"stack_name": "late", "template": template, "timeout_mins": 1})),
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 201, "{created}");
    let stack = format!("/stacks/late/{}", created["stack"]["id"].as_str().unwrap());
    let body = api
        .wait_stack(&stack, Duration::from_secs(150))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_FAILED", "{body}");
    assert_eq!(body["stack_status_reason"], "Timed out");
    let (_, res) = api.get(&format!("{stack}/resources/slow")).await.unwrap();
    assert_eq!(res["resource"]["resource_status"], "CREATE_FAILED", "{res}");
    assert_eq!(res["resource"]["resource_status_reason"], "Timed out");
    server.stop().await;
}

/// Delete is allowed in any state and pre-empts the action in flight, nested stacks
/// included.
#[tokio::test]
async fn delete_pre_empts_a_create_in_flight() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let template = "heat_template_version: 2018-08-31\nresources:\n  slow:\n    type: OS::Heat::TestResource\n    properties: {wait_secs: 600}\n  group:\n    type: OS::Heat::ResourceGroup\n    properties:\n      count: 3\n      resource_def: {type: OS::Heat::TestResource, properties: {wait_secs: 600}}\n";
    let stack = api
        .create_stack("hasty", template, json!({}))
        .await
        .unwrap();
    api.wait_resource(&stack, "slow", "CREATE_IN_PROGRESS", WAIT)
        .await
        .unwrap();
    api.wait_resource(&stack, "group", "CREATE_IN_PROGRESS", WAIT)
        .await
        .unwrap();
    // The group records its nested stack's id before creating its members.
    let mut nested_id = String::new();
    for _ in 0..300 {
        let (_, group) = api.get(&format!("{stack}/resources/group")).await.unwrap();
        nested_id = group["resource"]["physical_resource_id"]
            .as_str()
            .unwrap()
            .to_string();
        if !nested_id.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = api
        .call(reqwest::Method::DELETE, &stack, None)
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 204);
    let body = api.wait_stack(&stack, WAIT).await.unwrap();
    assert_eq!(body["stack_status"], "DELETE_COMPLETE", "{body}");
    let (_, nested) = api.get(&format!("/stacks/{nested_id}")).await.unwrap();
    assert_eq!(
        nested["stack"]["stack_status"], "DELETE_COMPLETE",
        "{nested}"
    );
    let (_, events) = api
        .get(&format!("{stack}/resources/slow/events?sort_dir=asc"))
        .await
        .unwrap();
    let states: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "CREATE_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE"
        ]
    );
    server.stop().await;
}
