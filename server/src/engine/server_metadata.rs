//! Builds and publishes a server's metadata document: `deployments` (the derived configs
//! of every deployment to that server, sorted by name) and the `os-collect-config` section.

use serde_json::{Value, json};

use crate::engine::services::Services;
use crate::store::{ConfigRow, StoreError};

/// A derived config as it appears in `deployments` (Heat's `format_software_config`).
pub fn format_config(c: &ConfigRow) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "group": c.group,
        "creation_time": c.created_at,
        "config": c.config,
        "inputs": c.inputs,
        "outputs": c.outputs,
        "options": c.options,
    })
}

/// Rebuilds the document of `server_id` from the store and wakes its pollers.
/// A server without a document (deleted, or not ours) is left alone.
pub async fn publish(services: &Services, server_id: &str) -> Result<(), StoreError> {
    let lock = services.notifier.publish_lock(server_id);
    let _guard = lock.lock().await;
    let Some(current) = services.store.metadata(server_id).await? else {
        return Ok(());
    };
    let configs = services.store.server_deployment_configs(server_id).await?;
    let mut document = current.document.as_object().cloned().unwrap_or_default();
    document.insert(
        "deployments".into(),
        Value::Array(configs.iter().map(format_config).collect()),
    );
    let version = services
        .store
        .put_metadata(server_id, &current.project, &Value::Object(document))
        .await?;
    services.notifier.metadata_changed(server_id, version);
    Ok(())
}

/// Sets the `os-collect-config` section of `server_id`'s document (creating the document
/// if the server has none yet) with its current `deployments`, and wakes its pollers.
pub async fn set_collect_config(
    services: &Services,
    server_id: &str,
    project: &str,
    section: &Value,
) -> Result<(), StoreError> {
    let lock = services.notifier.publish_lock(server_id);
    let _guard = lock.lock().await;
    let mut document = match services.store.metadata(server_id).await? {
        Some(current) => current.document.as_object().cloned().unwrap_or_default(),
        None => serde_json::Map::new(),
    };
    let configs = services.store.server_deployment_configs(server_id).await?;
    document.insert(
        "deployments".into(),
        Value::Array(configs.iter().map(format_config).collect()),
    );
    document.insert("os-collect-config".into(), section.clone());
    let version = services
        .store
        .put_metadata(server_id, project, &Value::Object(document))
        .await?;
    services.notifier.metadata_changed(server_id, version);
    Ok(())
}

/// The keys of a server's document that Updraft manages; a template's `metadata` cannot
/// set them (Heat keeps its own `deployments` and `os-collect-config` the same way).
const MANAGED: [&str; 2] = ["deployments", "os-collect-config"];

/// Makes the template `metadata` of the server `server_id` (resolved) part of its document,
/// beside `deployments` and `os-collect-config`, as Heat's server metadata: what
/// `DescribeStackResource` serves to cfn-init and cfn-hup (`AWS::CloudFormation::Init`).
/// Keys the template no longer has are removed. Nothing is written, and no poller woken,
/// when the document already holds exactly this; a server without a document is left alone.
pub async fn set_template_metadata(
    services: &Services,
    server_id: &str,
    metadata: &Value,
) -> Result<(), StoreError> {
    let lock = services.notifier.publish_lock(server_id);
    let _guard = lock.lock().await;
    let Some(current) = services.store.metadata(server_id).await? else {
        return Ok(());
    };
    let old = current.document.as_object().cloned().unwrap_or_default();
    let mut document: serde_json::Map<String, Value> = metadata
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !MANAGED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    for key in MANAGED {
        if let Some(v) = old.get(key) {
            document.insert(key.to_string(), v.clone());
        }
    }
    if document == old {
        return Ok(());
    }
    let version = services
        .store
        .put_metadata(server_id, &current.project, &Value::Object(document))
        .await?;
    services.notifier.metadata_changed(server_id, version);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::heat::test_support::Harness;

    #[tokio::test]
    async fn template_metadata_joins_the_document_beside_the_managed_keys() {
        let h = Harness::new().await;
        let s = &h.services;
        // A server without a document is left alone.
        set_template_metadata(s, "nobody", &json!({"a": 1}))
            .await
            .unwrap();
        assert!(s.store.metadata("nobody").await.unwrap().is_none());

        set_collect_config(s, "srv", "p", &json!({"collectors": ["cfn"]}))
            .await
            .unwrap();
        let init = json!({"AWS::CloudFormation::Init": {"config": {}}, "other": 1,
                          "deployments": ["ignored"], "os-collect-config": "ignored"});
        set_template_metadata(s, "srv", &init).await.unwrap();
        let row = s.store.metadata("srv").await.unwrap().unwrap();
        assert_eq!(
            row.document,
            json!({"AWS::CloudFormation::Init": {"config": {}}, "other": 1,
                   "deployments": [], "os-collect-config": {"collectors": ["cfn"]}})
        );
        // The same again writes nothing.
        set_template_metadata(s, "srv", &init).await.unwrap();
        assert_eq!(
            s.store.metadata("srv").await.unwrap().unwrap().version,
            row.version
        );
        // A key the template dropped goes; null metadata leaves only the managed keys.
        set_template_metadata(s, "srv", &json!({"other": 2}))
            .await
            .unwrap();
        assert_eq!(
            s.store.metadata("srv").await.unwrap().unwrap().document,
            json!({"other": 2, "deployments": [], "os-collect-config": {"collectors": ["cfn"]}})
        );
        set_template_metadata(s, "srv", &Value::Null).await.unwrap();
        assert_eq!(
            s.store.metadata("srv").await.unwrap().unwrap().document,
            json!({"deployments": [], "os-collect-config": {"collectors": ["cfn"]}})
        );
    }
}
