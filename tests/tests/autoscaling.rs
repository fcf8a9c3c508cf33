//! `OS::Heat::AutoScalingGroup` with `OS::Heat::ScalingPolicy` through the real server: a
//! group of RandomStrings scaled down by a percent policy signalled on its native
//! `signal_url`, up by a change policy signalled on its capability `alarm_url`, a second
//! signal ignored in cooldown, a signal refused while the stack updates, and delete.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use updraft_e2e::{Api, Server};

const TEMPLATE: &str = r#"
heat_template_version: 2018-08-31
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 5
      desired_capacity: 2
      resource:
        type: OS::Heat::RandomString
        properties:
          length: 10
  scale_up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 2
      cooldown: 60
  scale_down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: percent_change_in_capacity
      scaling_adjustment: -50
outputs:
  size: {value: {get_attr: [asg, current_size]}}
  values: {value: {get_attr: [asg, outputs_list, value]}}
  by_name: {value: {get_attr: [asg, outputs, value]}}
  refs: {value: {get_attr: [asg, refs]}}
  refs_map: {value: {get_attr: [asg, refs_map]}}
  up_alarm_url: {value: {get_attr: [scale_up, alarm_url]}}
  up_signal_url: {value: {get_attr: [scale_up, signal_url]}}
  down_signal_url: {value: {get_attr: [scale_down, signal_url]}}
"#;

/// The stack body once output `size` is `size` and the group's nested stack is settled.
async fn wait_size(api: &Api, stack: &str, size: u64) -> Value {
    let start = Instant::now();
    loop {
        let (_, body) = api.get(stack).await.unwrap();
        let settled = nested(api, stack)
            .await
            .map(|(s, _)| !s.ends_with("IN_PROGRESS"))
            .unwrap_or(false);
        if Api::output(&body["stack"], "size") == json!(size) && settled {
            return body["stack"].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the group never reached {size}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The nested stack's status and resource names.
async fn nested(api: &Api, stack: &str) -> Option<(String, Vec<String>)> {
    let (_, group) = api.get(&format!("{stack}/resources/asg")).await.ok()?;
    let id = group["resource"]["physical_resource_id"]
        .as_str()?
        .to_string();
    let (_, body) = api.get(&format!("/stacks/{id}")).await.ok()?;
    let path = format!("/stacks/{}/{id}", body["stack"]["stack_name"].as_str()?);
    let (_, list) = api.get(&format!("{path}/resources")).await.ok()?;
    let names = list["resources"]
        .as_array()?
        .iter()
        .filter_map(|r| r["resource_name"].as_str().map(str::to_string))
        .collect();
    Some((body["stack"]["stack_status"].as_str()?.to_string(), names))
}

/// Reasons of the `SIGNAL` events of resource `name`, oldest first.
async fn signal_events(api: &Api, stack: &str, name: &str) -> Vec<String> {
    let (_, body) = api
        .get(&format!("{stack}/events?resource_name={name}&sort_dir=asc"))
        .await
        .unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_status"] == "SIGNAL_COMPLETE")
        .map(|e| e["resource_status_reason"].as_str().unwrap().to_string())
        .collect()
}

async fn post(api: &Api, url: &str, token: bool, body: Value) -> StatusCode {
    let mut req = api.http.post(url).json(&body);
    if token {
        req = req.header("X-Auth-Token", &api.token);
    }
    req.send().await.unwrap().status()
}

fn sorted(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_group_scales_on_policy_signals() {
    let server = Server::start().await.unwrap();
    let api = server.api();
    let stack = api
        .create_stack("scaled", TEMPLATE, json!({}))
        .await
        .unwrap();
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "CREATE_COMPLETE", "{body}");
    let stack_id = body["id"].as_str().unwrap().to_string();
    let body = wait_size(&api, &stack, 2).await;
    let values = Api::output(&body, "values");
    assert_eq!(values.as_array().unwrap().len(), 2);
    assert!(values[0].as_str().unwrap().len() == 10, "{values}");
    // A RandomString's reference is its value.
    assert_eq!(Api::output(&body, "refs"), values);
    let by_name = Api::output(&body, "by_name");
    let (_, members) = nested(&api, &stack).await.unwrap();
    let mut names: Vec<String> = by_name.as_object().unwrap().keys().cloned().collect();
    names.sort();
    let mut members_sorted = members.clone();
    members_sorted.sort();
    assert_eq!(names, members_sorted, "outputs are keyed by member name");
    assert!(
        names.iter().all(|n| n.len() == 12),
        "Heat's short ids: {names:?}"
    );
    assert_eq!(Api::output(&body, "refs_map"), by_name);

    let down = Api::output(&body, "down_signal_url");
    assert_eq!(
        down,
        json!(format!(
            "{}/v1/demo/stacks/scaled/{stack_id}/resources/scale_down/signal",
            server.base
        ))
    );
    let up_alarm = Api::output(&body, "up_alarm_url")
        .as_str()
        .unwrap()
        .to_string();
    assert!(up_alarm.starts_with(&format!("{}/temp_url/v1/alarm/", server.base)));

    // Scale down by 50 % through the native signal URL, as Aodh posts an alarm.
    let alarm = json!({"alarm_name": "cpu_low", "previous": "ok", "current": "alarm",
        "reason": "cpu below 10%"});
    assert_eq!(
        post(&api, down.as_str().unwrap(), true, alarm).await,
        StatusCode::OK
    );
    let body = wait_size(&api, &stack, 1).await;
    let left = Api::output(&body, "values");
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert!(
        values.as_array().unwrap().contains(&left[0]),
        "a member was kept"
    );
    assert_eq!(nested(&api, &stack).await.unwrap().1.len(), 1);
    assert_eq!(
        signal_events(&api, &stack, "scale_down").await,
        ["alarm state changed from ok to alarm (cpu below 10%)"]
    );

    // The alarm URL is a capability: a wrong signature changes nothing.
    let forged = format!("{}0", up_alarm);
    assert_eq!(
        post(&api, &forged, false, json!({})).await,
        StatusCode::FORBIDDEN
    );
    // Scale up by 2 through it, without a token.
    assert_eq!(
        post(&api, &up_alarm, false, json!({})).await,
        StatusCode::OK
    );
    let body = wait_size(&api, &stack, 3).await;
    let grown = sorted(&Api::output(&body, "values"));
    assert!(grown.contains(&left[0].as_str().unwrap().to_string()));
    assert_eq!(nested(&api, &stack).await.unwrap().1.len(), 3);
    assert_eq!(signal_events(&api, &stack, "scale_up").await, ["Unknown"]);

    // Inside scale_up's 60 s cooldown: accepted, ignored, no event (as Heat).
    let up_signal = Api::output(&body, "up_signal_url");
    assert_eq!(
        post(&api, up_signal.as_str().unwrap(), true, json!({})).await,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = wait_size(&api, &stack, 3).await;
    assert_eq!(sorted(&Api::output(&body, "values")), grown);
    assert_eq!(signal_events(&api, &stack, "scale_up").await.len(), 1);

    // While the stack updates, a signal is refused with 409.
    let slow = TEMPLATE.replace(
        "outputs:\n",
        "  slow:\n    type: OS::Heat::TestResource\n    properties:\n      action_wait_secs: {create: 3}\noutputs:\n",
    );
    let (status, reply) = api
        .call(
            Method::PUT,
            &stack,
            Some(json!({"template": slow, "parameters": {}})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let (status, reply) = api
        .call(
            Method::POST,
            &format!("{stack}/resources/scale_down/signal"),
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["error"]["type"], "ActionInProgress", "{reply}");
    let body = api
        .wait_stack(&stack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(body["stack_status"], "UPDATE_COMPLETE", "{body}");
    assert_eq!(Api::output(&body, "size"), json!(3));

    // Delete: the nested stack goes, and so does the alarm URL.
    let (_, group) = api.get(&format!("{stack}/resources/asg")).await.unwrap();
    let nested_id = group["resource"]["physical_resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = api.call(Method::DELETE, &stack, None).await.unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
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
    assert_eq!(
        post(&api, &up_alarm, false, json!({})).await,
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}
