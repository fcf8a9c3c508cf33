//! The `resources` table.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{EventRow, Store, StoreError, json_column, now_timestamp, object_column, sql};

/// A stored resource.
#[derive(Debug, Clone)]
pub struct ResourceRow {
    /// UUID of this row.
    pub id: String,
    /// Owning stack.
    pub stack_id: String,
    /// Logical name.
    pub name: String,
    /// Type name.
    pub resource_type: String,
    /// Current action (`INIT`, `CREATE`, …).
    pub action: String,
    /// Current status.
    pub status: String,
    /// Status reason.
    pub status_reason: String,
    /// Physical resource id (`""` when none).
    pub physical_id: String,
    /// Reference id for `get_resource` when it differs from the physical id.
    pub reference_id: Option<String>,
    /// The resolved properties last acted on.
    pub properties: Value,
    /// Attributes persisted when the last action completed.
    pub attributes: Map<String, Value>,
    /// Private per-resource data (Heat's resource_data).
    pub data: Map<String, Value>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: Option<String>,
}

fn from_row(row: &AnyRow) -> Result<ResourceRow, StoreError> {
    Ok(ResourceRow {
        id: row.try_get("id")?,
        stack_id: row.try_get("stack_id")?,
        name: row.try_get("name")?,
        resource_type: row.try_get("resource_type")?,
        action: row.try_get("action")?,
        status: row.try_get("status")?,
        status_reason: row.try_get("status_reason")?,
        physical_id: row.try_get("physical_id")?,
        reference_id: row.try_get("reference_id")?,
        properties: json_column(row, "properties")?,
        attributes: object_column(row, "attributes")?,
        data: object_column(row, "data")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const COLUMNS: &str = "id, stack_id, name, resource_type, action, status, status_reason, physical_id, reference_id, properties, attributes, data, created_at, updated_at";

/// Inserts `r` on `conn` (inside the caller's transaction).
async fn insert_row(conn: &mut sqlx::AnyConnection, r: &ResourceRow) -> Result<(), StoreError> {
    sqlx::query(sql(format!(
        "INSERT INTO resources ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )))
    .bind(&r.id)
    .bind(&r.stack_id)
    .bind(&r.name)
    .bind(&r.resource_type)
    .bind(&r.action)
    .bind(&r.status)
    .bind(&r.status_reason)
    .bind(&r.physical_id)
    .bind(&r.reference_id)
    .bind(r.properties.to_string())
    .bind(Value::Object(r.attributes.clone()).to_string())
    .bind(Value::Object(r.data.clone()).to_string())
    .bind(&r.created_at)
    .bind(&r.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Inserts or fully replaces the row for (stack, name).
    pub async fn put_resource(&self, r: &ResourceRow) -> Result<(), StoreError> {
        self.put_resource_logged(r, None).await
    }

    /// Inserts or replaces the row and records `event` in the same transaction, so a crash
    /// never leaves a state change without its event (or the reverse).
    pub async fn put_resource_logged(
        &self,
        r: &ResourceRow,
        event: Option<EventRow>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM resources WHERE stack_id = $1 AND name = $2")
            .bind(&r.stack_id)
            .bind(&r.name)
            .execute(&mut *tx)
            .await?;
        insert_row(&mut tx, r).await?;
        if let Some(e) = event {
            super::events::insert_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Inserts new rows in one transaction (a new stack's `INIT` resources).
    pub async fn insert_resources(&self, rows: &[ResourceRow]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for r in rows {
            insert_row(&mut tx, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a resource's action, status and reason.
    pub async fn set_resource_state(
        &self,
        stack_id: &str,
        name: &str,
        action: &str,
        status: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.set_resource_state_logged(stack_id, name, action, status, reason, None)
            .await
    }

    /// Sets a resource's state and records `event` in the same transaction.
    pub async fn set_resource_state_logged(
        &self,
        stack_id: &str,
        name: &str,
        action: &str,
        status: &str,
        reason: &str,
        event: Option<EventRow>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE resources SET action = $1, status = $2, status_reason = $3, updated_at = $4 WHERE stack_id = $5 AND name = $6",
        )
        .bind(action)
        .bind(status)
        .bind(reason)
        .bind(now_timestamp())
        .bind(stack_id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        if let Some(e) = event {
            super::events::insert_event(&mut tx, e).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The resources of a stack in creation order.
    pub async fn stack_resources(&self, stack_id: &str) -> Result<Vec<ResourceRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM resources WHERE stack_id = $1 ORDER BY created_at, name"
        )))
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// One resource of a stack by logical name.
    pub async fn resource(
        &self,
        stack_id: &str,
        name: &str,
    ) -> Result<Option<ResourceRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM resources WHERE stack_id = $1 AND name = $2"
        )))
        .bind(stack_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The resource whose physical id is `physical_id`.
    pub async fn resource_by_physical_id(
        &self,
        physical_id: &str,
    ) -> Result<Option<ResourceRow>, StoreError> {
        let row = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM resources WHERE physical_id = $1"
        )))
        .bind(physical_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Removes a resource row.
    pub async fn delete_resource(&self, stack_id: &str, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM resources WHERE stack_id = $1 AND name = $2")
            .bind(stack_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Sets only the physical id (recorded early by types that wait for signals).
    pub async fn set_resource_physical_id(
        &self,
        stack_id: &str,
        name: &str,
        physical_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE resources SET physical_id = $1 WHERE stack_id = $2 AND name = $3")
            .bind(physical_id)
            .bind(stack_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// The JSON columns of `resources` that handlers may set on their own.
#[derive(Clone, Copy)]
enum JsonColumn {
    Attributes,
    Data,
}

impl Store {
    async fn set_resource_json(
        &self,
        column: JsonColumn,
        stack_id: &str,
        name: &str,
        value: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        let statement = match column {
            JsonColumn::Attributes => {
                "UPDATE resources SET attributes = $1 WHERE stack_id = $2 AND name = $3"
            }
            JsonColumn::Data => "UPDATE resources SET data = $1 WHERE stack_id = $2 AND name = $3",
        };
        sqlx::query(statement)
            .bind(Value::Object(value.clone()).to_string())
            .bind(stack_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets only the attributes (kept when an action fails after producing some).
    pub async fn set_resource_attributes(
        &self,
        stack_id: &str,
        name: &str,
        attributes: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.set_resource_json(JsonColumn::Attributes, stack_id, name, attributes)
            .await
    }

    /// Sets only the private data (a handler's persisted intent).
    pub async fn set_resource_data(
        &self,
        stack_id: &str,
        name: &str,
        data: &Map<String, Value>,
    ) -> Result<(), StoreError> {
        self.set_resource_json(JsonColumn::Data, stack_id, name, data)
            .await
    }
}
