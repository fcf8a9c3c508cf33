//! The store suite, run on SQLite and on PostgreSQL (a uniquely named database created and
//! dropped by the test; skipped without a server unless `CI=true`).

use serde_json::{Map, json};

use super::*;

async fn exercise(store: &Store) {
    let stack = StackRow {
        id: "11111111-1111-1111-1111-111111111111".into(),
        project: "p".into(),
        name: "s1".into(),
        action: "CREATE".into(),
        status: "IN_PROGRESS".into(),
        status_reason: "Stack CREATE started".into(),
        template: json!({"heat_template_version": "2018-08-31"}),
        environment: json!({}),
        files: json!({}),
        parameters: Map::new(),
        disable_rollback: true,
        timeout_mins: None,
        created_at: now_timestamp(),
        updated_at: None,
        deleted_at: None,
        ..Default::default()
    };
    store.insert_stack(&stack).await.unwrap();
    assert_eq!(
        store.stack_by_name("p", "s1").await.unwrap().unwrap().id,
        stack.id
    );
    assert!(store.stack_by_name("other", "s1").await.unwrap().is_none());

    let resource = ResourceRow {
        id: "r1".into(),
        stack_id: stack.id.clone(),
        name: "server".into(),
        resource_type: "OS::Heat::DeployedServer".into(),
        action: "INIT".into(),
        status: "COMPLETE".into(),
        status_reason: String::new(),
        physical_id: String::new(),
        reference_id: None,
        properties: json!({}),
        attributes: Map::new(),
        data: Map::new(),
        created_at: now_timestamp(),
        updated_at: None,
    };
    store.put_resource(&resource).await.unwrap();
    store
        .set_resource_physical_id(&stack.id, "server", "phys")
        .await
        .unwrap();
    store
        .set_resource_state(&stack.id, "server", "CREATE", "COMPLETE", "state changed")
        .await
        .unwrap();
    let found = store
        .resource_by_physical_id("phys")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.action.as_str(), found.status.as_str()),
        ("CREATE", "COMPLETE")
    );

    assert_eq!(
        store
            .put_metadata("phys", "p", &json!({"deployments": []}))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put_metadata("phys", "p", &json!({"deployments": [1]}))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.metadata("phys").await.unwrap().unwrap().document,
        json!({"deployments": [1]})
    );

    let e1 = store
        .add_event(EventRow {
            id: String::new(),
            seq: 0,
            stack_id: stack.id.clone(),
            resource_name: "server".into(),
            physical_resource_id: "phys".into(),
            resource_type: "OS::Heat::DeployedServer".into(),
            resource_action: "CREATE".into(),
            resource_status: "COMPLETE".into(),
            resource_status_reason: "state changed".into(),
            created_at: now_timestamp(),
        })
        .await
        .unwrap();
    let events = store.stack_events(&stack.id).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, e1.id);

    store
        .set_stack_state(
            &stack.id,
            "DELETE",
            "COMPLETE",
            "Stack DELETE completed successfully",
        )
        .await
        .unwrap();
    let deleted = store.stack(&stack.id).await.unwrap().unwrap();
    assert!(deleted.deleted_at.is_some());
    assert!(store.stack_by_name("p", "s1").await.unwrap().is_none());
    exercise_nesting_and_blobs(store, &stack).await;
    assert_eq!(store.setting_or_insert("k", "v1").await.unwrap(), "v1");
    assert_eq!(store.setting_or_insert("k", "v2").await.unwrap(), "v1");
}

/// Content-addressed documents, nested stacks, the tree's resource counter, event purging.
async fn exercise_nesting_and_blobs(store: &Store, parent: &StackRow) {
    let blobs_before = store.blob_count().await.unwrap();
    let child = StackRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: "s1-group-abc".into(),
        owner_id: Some(parent.id.clone()),
        owner_resource: Some("group".into()),
        root_id: Some(parent.id.clone()),
        nested_depth: 1,
        ..parent.clone()
    };
    store.insert_stack(&child).await.unwrap();
    // Same template, environment and files: nothing new stored.
    assert_eq!(store.blob_count().await.unwrap(), blobs_before);
    let nested = store.nested_stacks(&parent.id).await.unwrap();
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0].template, parent.template);
    assert_eq!(nested[0].root(), parent.id);
    assert_eq!(nested[0].owner_resource.as_deref(), Some("group"));
    // Nested stacks are not listed with the project's stacks.
    assert!(
        store
            .list_stacks("p")
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != child.id)
    );
    assert_eq!(store.add_resource_total(&parent.id, 5).await.unwrap(), 5);
    assert_eq!(store.add_resource_total(&parent.id, -2).await.unwrap(), 3);

    for i in 0..5 {
        store
            .add_event(EventRow {
                stack_id: child.id.clone(),
                resource_name: format!("r{i}"),
                ..EventRow::default()
            })
            .await
            .unwrap();
    }
    assert_eq!(store.purge_events(&child.id, 3).await.unwrap(), 2);
    let left: Vec<String> = store
        .stack_events(&child.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.resource_name)
        .collect();
    assert_eq!(left, ["r2", "r3", "r4"]);
    assert_eq!(store.purge_events(&child.id, 3).await.unwrap(), 0);
}

#[tokio::test]
async fn store_works_on_sqlite() {
    let (store, _dir) = test_store().await;
    exercise(&store).await;
}

#[tokio::test]
async fn store_works_on_postgresql() {
    use sqlx::Connection;
    let admin_url = std::env::var("UPDRAFT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    install_default_drivers();
    let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping the PostgreSQL store test: {e}");
            return;
        }
        Err(e) => panic!("PostgreSQL is required when CI=true: {e}"),
    };
    let db = format!("updraft_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sql(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = match admin_url.rsplit_once('/') {
        Some((prefix, _)) => format!("{prefix}/{db}"),
        None => panic!("bad PostgreSQL URL {admin_url}"),
    };
    let store = Store::connect(&url).await.unwrap();
    exercise(&store).await;
    store.pool.close().await;
    sqlx::query(sql(format!("DROP DATABASE {db}")))
        .execute(&mut admin)
        .await
        .unwrap();
}
