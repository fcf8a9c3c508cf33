//! The `snapshots` table: a stack's definition and resource states at one moment.

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, json_column, sql};

/// A stored stack snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotRow {
    /// UUID.
    pub id: String,
    /// Owning project.
    pub project: String,
    /// The stack it was taken of.
    pub stack_id: String,
    /// Name given by the user (may be empty).
    pub name: String,
    /// Heat's snapshot data: template, environment, files, resources' states.
    pub data: Value,
    /// `SNAPSHOT`.
    pub action: String,
    /// `COMPLETE` or `FAILED`.
    pub status: String,
    /// Reason.
    pub status_reason: String,
    /// Creation time.
    pub created_at: String,
}

const COLUMNS: &str =
    "id, project, stack_id, name, data, action, status, status_reason, created_at";

fn from_row(row: &AnyRow) -> Result<SnapshotRow, StoreError> {
    Ok(SnapshotRow {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        stack_id: row.try_get("stack_id")?,
        name: row.try_get("name")?,
        data: json_column(row, "data")?,
        action: row.try_get("action")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a snapshot.
    pub async fn insert_snapshot(&self, s: &SnapshotRow) -> Result<(), StoreError> {
        sqlx::query(sql(format!(
            "INSERT INTO snapshots ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&s.id)
        .bind(&s.project)
        .bind(&s.stack_id)
        .bind(&s.name)
        .bind(s.data.to_string())
        .bind(&s.action)
        .bind(&s.status)
        .bind(&s.status_reason)
        .bind(&s.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A snapshot by id.
    pub async fn snapshot(&self, id: &str) -> Result<Option<SnapshotRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM snapshots WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The snapshots of a stack, oldest first.
    pub async fn stack_snapshots(&self, stack_id: &str) -> Result<Vec<SnapshotRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM snapshots WHERE stack_id = $1 ORDER BY created_at, id"
        )))
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// How many snapshots a stack has.
    pub async fn snapshot_count(&self, stack_id: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM snapshots WHERE stack_id = $1")
            .bind(stack_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Deletes a snapshot.
    pub async fn delete_snapshot(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM snapshots WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes every snapshot of a stack.
    pub async fn delete_stack_snapshots(&self, stack_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM snapshots WHERE stack_id = $1")
            .bind(stack_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{now_timestamp, test_store};

    #[tokio::test]
    async fn snapshots_are_stored_listed_and_deleted_with_their_stack() {
        let (store, _dir) = test_store().await;
        for (id, stack) in [("s1", "a"), ("s2", "a"), ("s3", "b")] {
            store
                .insert_snapshot(&SnapshotRow {
                    id: id.into(),
                    project: "p".into(),
                    stack_id: stack.into(),
                    name: format!("snap-{id}"),
                    data: serde_json::json!({"template": {"k": id}}),
                    action: "SNAPSHOT".into(),
                    status: "COMPLETE".into(),
                    status_reason: String::new(),
                    created_at: now_timestamp(),
                })
                .await
                .unwrap();
        }
        let got = store.snapshot("s2").await.unwrap().unwrap();
        assert_eq!(got.data["template"]["k"], "s2");
        assert_eq!(store.snapshot_count("a").await.unwrap(), 2);
        store.delete_snapshot("s1").await.unwrap();
        let left: Vec<String> = store
            .stack_snapshots("a")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(left, ["s2"]);
        store.delete_stack_snapshots("a").await.unwrap();
        assert!(store.stack_snapshots("a").await.unwrap().is_empty());
        assert_eq!(store.stack_snapshots("b").await.unwrap().len(), 1);
    }
}
