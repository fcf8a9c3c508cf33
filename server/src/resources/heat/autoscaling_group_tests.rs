//! AutoScalingGroup driven through the trait on a real store: nested members, resizes by
//! adjustment, cooldown, refusals.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::resources::heat::test_support::Harness;

fn props(min: i64, max: i64, desired: Option<i64>) -> Value {
    let mut p = json!({"min_size": min, "max_size": max,
        "resource": {"type": "OS::Heat::Value", "properties": {"value": "member"}}});
    if let Some(d) = desired {
        p["desired_capacity"] = json!(d);
    }
    p
}

async fn settled(h: &Harness, stack: &str) {
    h.services
        .store
        .set_stack_state(stack, "CREATE", "COMPLETE", "done")
        .await
        .unwrap();
}

/// Waits until the group's row records `size` members; returns the row.
async fn wait_size(h: &Harness, size: u64) -> ResourceRow {
    for _ in 0..200 {
        let row = h
            .services
            .store
            .resource(&h.stack.id, "asg")
            .await
            .unwrap()
            .unwrap();
        if row.attributes["current_size"] == json!(size) {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the group never reached {size} members");
}

fn adjustment(kind: &str, by: Value, cooldown: Option<Value>) -> Adjustment {
    Adjustment {
        adjustment: by,
        adjustment_type: kind.into(),
        min_adjustment_step: None,
        cooldown,
    }
}

fn names(row: &ResourceRow) -> Vec<String> {
    group_members::recorded(&row.data)
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect()
}

#[test]
fn sizes_are_validated_with_heats_messages() {
    let err = Harness::validate(&AutoScalingGroup, "asg", props(3, 2, None)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resources.asg.properties: MinSize can not be greater than MaxSize"
    );
    let err = Harness::validate(&AutoScalingGroup, "asg", props(1, 2, Some(3))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resources.asg.properties: DesiredCapacity must be between MinSize and MaxSize"
    );
    let ok = Harness::validate(&AutoScalingGroup, "asg", props(1, 2, Some(2))).unwrap();
    assert_eq!(
        ok["rolling_updates"],
        json!({"min_in_service": 0, "max_batch_size": 1, "pause_time": 0})
    );
}

#[tokio::test]
async fn a_group_scales_by_adjustments_and_honours_cooldown() {
    let h = Harness::new().await;
    let row = h
        .create(&AutoScalingGroup, "asg", props(1, 5, Some(2)))
        .await
        .unwrap();
    assert_eq!(row.attributes["current_size"], json!(2));
    let first = names(&row);
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|n| n.len() == 12), "{first:?}");
    assert_eq!(row.data[FORM_KEY], json!("autoscaling"));
    assert!(row.data.contains_key(scaling::COOLDOWN_END_KEY));
    let nested = h
        .services
        .store
        .stack(&row.physical_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(nested.owner_id.as_deref(), Some(h.stack.id.as_str()));
    assert_eq!(nested.status, "COMPLETE");

    // The stack is still CREATE_IN_PROGRESS: refused.
    let refused = adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(CHANGE, json!(2), None),
    )
    .await;
    assert!(
        matches!(&refused, Err(ResourceError::ActionInProgress(m)) if m.contains("already has an action (CREATE) in progress")),
        "{refused:?}"
    );
    settled(&h, &h.stack.id).await;

    adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(CHANGE, json!(2), Some(json!(60))),
    )
    .await
    .unwrap();
    let row = wait_size(&h, 4).await;
    let grown = names(&row);
    // Kept (ordered by creation second, then name, so they may interleave with new ones).
    assert!(
        first.iter().all(|n| grown.contains(n)),
        "{first:?} {grown:?}"
    );
    let end = row.data[scaling::COOLDOWN_END_KEY].as_object().unwrap();
    assert_eq!(
        end.values().next().unwrap(),
        &json!("change_in_capacity : 2")
    );

    // In cooldown: ignored, whatever the policy's own cooldown.
    let ignored = adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(CHANGE, json!(-1), None),
    )
    .await;
    assert!(
        matches!(&ignored, Err(ResourceError::NoActionRequired(m)) if m == "The resource asg could not perform scaling action: due to cooldown, cooldown 0"),
        "{ignored:?}"
    );
    // Already at the size asked for: ignored before the cooldown is looked at.
    let same = adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(EXACT_CAPACITY, json!(4), None),
    )
    .await;
    assert!(
        matches!(&same, Err(ResourceError::NoActionRequired(m)) if m.contains("no change in capacity")),
        "{same:?}"
    );
}

const CHANGE: &str = scaling::CHANGE_IN_CAPACITY;

#[tokio::test]
async fn percent_scale_down_removes_the_oldest_members() {
    let h = Harness::new().await;
    let row = h
        .create(&AutoScalingGroup, "asg", props(1, 5, Some(4)))
        .await
        .unwrap();
    settled(&h, &h.stack.id).await;
    let before = names(&row);
    adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(scaling::PERCENT_CHANGE_IN_CAPACITY, json!(-50), None),
    )
    .await
    .unwrap();
    let row = wait_size(&h, 2).await;
    // All were created in the same second: the order falls back to names.
    assert_eq!(names(&row), before[2..]);
    let nested = h
        .services
        .store
        .stack_resources(&row.physical_id)
        .await
        .unwrap();
    assert_eq!(nested.len(), 2);
}

#[tokio::test]
async fn an_update_resizes_to_the_desired_capacity_and_replaces_in_batches() {
    let h = Harness::new().await;
    let row = h
        .create(&AutoScalingGroup, "asg", props(0, 5, Some(3)))
        .await
        .unwrap();
    let before = names(&row);
    let mut new = props(0, 5, Some(3));
    new["resource"]["properties"]["value"] = json!("changed");
    new["rolling_updates"] = json!({"max_batch_size": 2});
    let (kind, row) = h.update(&AutoScalingGroup, &row, new).await;
    assert_eq!(kind, UpdateKind::InPlace);
    let row = row.unwrap().unwrap();
    assert_eq!(
        names(&row),
        before,
        "members are updated in place, not renamed"
    );
    let values = group_members::attribute_in(
        AttributeForm::AutoScaling,
        &group_members::recorded(&row.data).unwrap(),
        &row.attributes,
        "outputs_list",
        &[json!("value")],
    );
    assert_eq!(values, json!(["changed", "changed", "changed"]));

    let (_, row) = h
        .update(&AutoScalingGroup, &row, props(0, 5, Some(1)))
        .await;
    let row = row.unwrap().unwrap();
    assert_eq!(row.attributes["current_size"], json!(1));
    assert_eq!(row.attributes["refs"].as_array().unwrap().len(), 1);
}

use crate::resources::UpdateKind;

#[tokio::test]
async fn a_running_resize_ignores_signals_and_a_delete_stops_it() {
    let h = Harness::new().await;
    let props = json!({"min_size": 0, "max_size": 3, "desired_capacity": 0,
        "resource": {"type": "OS::Heat::TestResource", "properties": {"wait_secs": 30}}});
    // Created empty (desired 0 falls back to min_size 0), so the create itself is quick.
    let row = h.create(&AutoScalingGroup, "asg", props).await.unwrap();
    assert_eq!(row.attributes["current_size"], json!(0));
    settled(&h, &h.stack.id).await;
    adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(CHANGE, json!(1), None),
    )
    .await
    .unwrap();
    let busy = adjust(
        &h.services,
        &h.stack,
        "asg",
        adjustment(CHANGE, json!(1), None),
    )
    .await;
    assert!(
        matches!(&busy, Err(ResourceError::NoActionRequired(m)) if m.ends_with("due to scaling activity")),
        "{busy:?}"
    );
    // The member waits 30 s; the delete does not.
    let started = std::time::Instant::now();
    AutoScalingGroup.delete(&h.ctx("asg"), &row).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let nested = h
        .services
        .store
        .stack(&row.physical_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (nested.action.as_str(), nested.status.as_str()),
        ("DELETE", "COMPLETE")
    );
}
