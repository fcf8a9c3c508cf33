//! The `server_metadata` table: each server's metadata document, versioned for ETags.

use serde_json::Value;
use sqlx::Row;

use super::{Store, StoreError, json_column, now_timestamp};

/// A server's stored metadata document.
#[derive(Debug, Clone)]
pub struct MetadataRow {
    /// The server id.
    pub server_id: String,
    /// Owning project.
    pub project: String,
    /// The document (`deployments`, `os-collect-config`).
    pub document: Value,
    /// Increases on every change.
    pub version: i64,
    /// Time of the last change.
    pub updated_at: String,
}

impl Store {
    /// Writes the document, bumping its version. Returns the new version.
    pub async fn put_metadata(
        &self,
        server_id: &str,
        project: &str,
        document: &Value,
    ) -> Result<i64, StoreError> {
        let now = now_timestamp();
        // Write first: on SQLite a transaction that reads before it writes cannot wait for
        // the write lock and fails with "database is locked" under concurrency.
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE server_metadata SET document = $1, version = version + 1, updated_at = $2 WHERE server_id = $3",
        )
        .bind(document.to_string())
        .bind(&now)
        .bind(server_id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO server_metadata (server_id, project, document, version, updated_at) VALUES ($1, $2, $3, 1, $4)",
            )
            .bind(server_id)
            .bind(project)
            .bind(document.to_string())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        let version: i64 = sqlx::query("SELECT version FROM server_metadata WHERE server_id = $1")
            .bind(server_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("version")?;
        tx.commit().await?;
        Ok(version)
    }

    /// The stored document of a server.
    pub async fn metadata(&self, server_id: &str) -> Result<Option<MetadataRow>, StoreError> {
        let row = sqlx::query("SELECT server_id, project, document, version, updated_at FROM server_metadata WHERE server_id = $1")
            .bind(server_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(MetadataRow {
            server_id: row.try_get("server_id")?,
            project: row.try_get("project")?,
            document: json_column(&row, "document")?,
            version: row.try_get("version")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    /// Removes a server's document (its metadata URL then answers 404).
    pub async fn delete_metadata(&self, server_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM server_metadata WHERE server_id = $1")
            .bind(server_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
