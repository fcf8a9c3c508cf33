//! The `credentials` table: per-resource credentials, stored as a hash of their secret.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, now_timestamp};

/// A stored credential (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// Public id (the first part of the token).
    pub id: String,
    /// Project of the stack.
    pub project: String,
    /// The stack of the resource it belongs to.
    pub stack_id: String,
    /// The resource it belongs to (the only one it may act on).
    pub resource_name: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// Whether it is revoked (its resource deleted).
    pub revoked: bool,
    /// Whether it is disabled (its stack suspended).
    pub disabled: bool,
}

fn from_row(row: &AnyRow) -> Result<CredentialRow, StoreError> {
    Ok(CredentialRow {
        id: row.try_get("id")?,
        project: row.try_get("project")?,
        stack_id: row.try_get("stack_id")?,
        resource_name: row.try_get("resource_name")?,
        secret_hash: row.try_get("secret_hash")?,
        revoked: row.try_get::<Option<String>, _>("revoked_at")?.is_some(),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}

impl Store {
    /// Stores a new credential.
    pub async fn insert_credential(&self, c: &CredentialRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (id, project, stack_id, resource_name, secret_hash, created_at, disabled) VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(&c.id)
        .bind(&c.project)
        .bind(&c.stack_id)
        .bind(&c.resource_name)
        .bind(&c.secret_hash)
        .bind(now_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The credential with public id `id`.
    pub async fn credential(&self, id: &str) -> Result<Option<CredentialRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, project, stack_id, resource_name, secret_hash, revoked_at, disabled FROM credentials WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Revokes every credential of a resource (deleted or replaced).
    pub async fn revoke_credentials(
        &self,
        stack_id: &str,
        resource_name: &str,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE credentials SET revoked_at = $1 WHERE stack_id = $2 AND resource_name = $3 AND revoked_at IS NULL",
        )
        .bind(now_timestamp())
        .bind(stack_id)
        .bind(resource_name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Disables (suspend) or enables (resume) every credential of a stack.
    pub async fn set_credentials_disabled(
        &self,
        stack_id: &str,
        disabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE credentials SET disabled = $1 WHERE stack_id = $2")
            .bind(i64::from(disabled))
            .bind(stack_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
