//! The `software_configs` and `software_deployments` tables.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, json_column, now_timestamp, object_column, sql};

/// A stored software config (source or derived).
#[derive(Debug, Clone)]
pub struct ConfigRow {
    /// UUID.
    pub id: String,
    /// Owning project.
    pub project: String,
    /// Name.
    pub name: String,
    /// Hook group.
    pub group: String,
    /// Config body (string or map).
    pub config: Value,
    /// Inputs (normalised schema, with values for derived configs).
    pub inputs: Value,
    /// Output schema.
    pub outputs: Value,
    /// Options map.
    pub options: Value,
    /// Creation time.
    pub created_at: String,
}

/// A stored software deployment.
#[derive(Debug, Clone)]
pub struct DeploymentRow {
    /// UUID (also the deployment resource's physical id).
    pub id: String,
    /// Owning project.
    pub project: String,
    /// Target server id.
    pub server_id: String,
    /// Current derived config.
    pub config_id: String,
    /// `input_values` property as given.
    pub input_values: Map<String, Value>,
    /// Outputs received with the signal.
    pub output_values: Map<String, Value>,
    /// Action being deployed.
    pub action: String,
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED`.
    pub status: String,
    /// Reason.
    pub status_reason: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: Option<String>,
}

fn config_from_row(row: &AnyRow) -> Result<ConfigRow, StoreError> {
    Ok(ConfigRow {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        name: row.try_get("name")?,
        group: row.try_get("group_name")?,
        config: json_column(row, "config")?,
        inputs: json_column(row, "inputs")?,
        outputs: json_column(row, "outputs")?,
        options: json_column(row, "options")?,
        created_at: row.try_get("created_at")?,
    })
}

fn deployment_from_row(row: &AnyRow) -> Result<DeploymentRow, StoreError> {
    Ok(DeploymentRow {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        server_id: row.try_get("server_id")?,
        config_id: row.try_get("config_id")?,
        input_values: object_column(row, "input_values")?,
        output_values: object_column(row, "output_values")?,
        action: row.try_get("action")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const CONFIG_COLUMNS: &str =
    "id, project, name, group_name, config, inputs, outputs, options, created_at";
const DEPLOYMENT_COLUMNS: &str = "id, project, server_id, config_id, input_values, output_values, action, status, status_reason, created_at, updated_at";

impl Store {
    /// Stores a config; configs are immutable.
    pub async fn insert_config(&self, c: &ConfigRow) -> Result<(), StoreError> {
        sqlx::query(sql(format!("INSERT INTO software_configs ({CONFIG_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")))
            .bind(&c.id)
            .bind(&c.project)
            .bind(&c.name)
            .bind(&c.group)
            .bind(c.config.to_string())
            .bind(c.inputs.to_string())
            .bind(c.outputs.to_string())
            .bind(c.options.to_string())
            .bind(&c.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A config by id.
    pub async fn config(&self, id: &str) -> Result<Option<ConfigRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {CONFIG_COLUMNS} FROM software_configs WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(config_from_row).transpose()
    }

    /// The configs of `project`, oldest first (ties by id).
    pub async fn project_configs(&self, project: &str) -> Result<Vec<ConfigRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {CONFIG_COLUMNS} FROM software_configs WHERE project = $1 ORDER BY created_at, id"
        )))
        .bind(project)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(config_from_row).collect()
    }

    /// Whether a software deployment uses config `id`.
    pub async fn config_in_use(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT id FROM software_deployments WHERE config_id = $1 LIMIT 1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Deletes a config.
    pub async fn delete_config(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM software_configs WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Inserts or replaces a deployment row.
    pub async fn put_deployment(&self, d: &DeploymentRow) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM software_deployments WHERE id = $1")
            .bind(&d.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql(format!(
            "INSERT INTO software_deployments ({DEPLOYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(&d.id)
        .bind(&d.project)
        .bind(&d.server_id)
        .bind(&d.config_id)
        .bind(Value::Object(d.input_values.clone()).to_string())
        .bind(Value::Object(d.output_values.clone()).to_string())
        .bind(&d.action)
        .bind(&d.status)
        .bind(&d.status_reason)
        .bind(&d.created_at)
        .bind(&d.updated_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A deployment by id.
    pub async fn deployment(&self, id: &str) -> Result<Option<DeploymentRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {DEPLOYMENT_COLUMNS} FROM software_deployments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(deployment_from_row).transpose()
    }

    /// The deployments of `project` (only those to `server_id` when given), oldest first.
    pub async fn project_deployments(
        &self,
        project: &str,
        server_id: Option<&str>,
    ) -> Result<Vec<DeploymentRow>, StoreError> {
        let rows = match server_id {
            None => {
                sqlx::query(sql(format!(
                    "SELECT {DEPLOYMENT_COLUMNS} FROM software_deployments WHERE project = $1 ORDER BY created_at, id"
                )))
                .bind(project)
                .fetch_all(&self.pool)
                .await?
            }
            Some(server) => {
                sqlx::query(sql(format!(
                    "SELECT {DEPLOYMENT_COLUMNS} FROM software_deployments WHERE project = $1 AND server_id = $2 ORDER BY created_at, id"
                )))
                .bind(project)
                .bind(server)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(deployment_from_row).collect()
    }

    /// Records a signal's result, but only while the deployment is still `IN_PROGRESS`
    /// (late and duplicate signals are ignored, as in Heat). Returns whether it applied.
    pub async fn complete_deployment(
        &self,
        id: &str,
        status: &str,
        reason: &str,
        output_values: &Map<String, Value>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE software_deployments SET status = $1, status_reason = $2, output_values = $3, updated_at = $4 WHERE id = $5 AND status = 'IN_PROGRESS'",
        )
        .bind(status)
        .bind(reason)
        .bind(Value::Object(output_values.clone()).to_string())
        .bind(now_timestamp())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Heat's cancel: a deployment still waiting for its signal becomes FAILED
    /// `Deployment cancelled.` (its outputs kept). Returns whether one was waiting.
    pub async fn cancel_deployment(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE software_deployments SET status = 'FAILED', status_reason = 'Deployment cancelled.', updated_at = $1 WHERE id = $2 AND status = 'IN_PROGRESS'",
        )
        .bind(now_timestamp())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a deployment.
    pub async fn delete_deployment(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM software_deployments WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The derived configs of every deployment to `server_id`, sorted by config name.
    pub async fn server_deployment_configs(
        &self,
        server_id: &str,
    ) -> Result<Vec<ConfigRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.project, c.name, c.group_name, c.config, c.inputs, c.outputs, c.options, c.created_at \
             FROM software_deployments d JOIN software_configs c ON c.id = d.config_id \
             WHERE d.server_id = $1 ORDER BY c.name, c.created_at",
        )
        .bind(server_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(config_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    #[tokio::test]
    async fn a_signal_applies_once_and_configs_sort_by_name() {
        let (store, _dir) = test_store().await;
        for (id, name) in [("c2", "b-config"), ("c1", "a-config")] {
            store
                .insert_config(&ConfigRow {
                    id: id.into(),
                    project: "p".into(),
                    name: name.into(),
                    group: "script".into(),
                    config: Value::String("#!/bin/sh\n".into()),
                    inputs: Value::Array(vec![]),
                    outputs: Value::Array(vec![]),
                    options: Value::Object(Map::new()),
                    created_at: now_timestamp(),
                })
                .await
                .unwrap();
        }
        for (id, config) in [("d1", "c2"), ("d2", "c1")] {
            store
                .put_deployment(&DeploymentRow {
                    id: id.into(),
                    project: "p".into(),
                    server_id: "srv".into(),
                    config_id: config.into(),
                    input_values: Map::new(),
                    output_values: Map::new(),
                    action: "CREATE".into(),
                    status: "IN_PROGRESS".into(),
                    status_reason: "Deploy data available".into(),
                    created_at: now_timestamp(),
                    updated_at: None,
                })
                .await
                .unwrap();
        }
        let names: Vec<String> = store
            .server_deployment_configs("srv")
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["a-config", "b-config"]);
        assert!(
            store
                .complete_deployment("d1", "COMPLETE", "Outputs received", &Map::new())
                .await
                .unwrap()
        );
        assert!(
            !store
                .complete_deployment("d1", "FAILED", "late", &Map::new())
                .await
                .unwrap()
        );
        assert_eq!(
            store.deployment("d1").await.unwrap().unwrap().status,
            "COMPLETE"
        );
    }
}
