//! The `events` table.

use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, sql};

/// A stored event.
#[derive(Debug, Clone, Default)]
pub struct EventRow {
    /// UUID.
    pub id: String,
    /// Ordering key, increasing.
    pub seq: i64,
    /// Stack the event belongs to.
    pub stack_id: String,
    /// Resource name (the stack name for stack events).
    pub resource_name: String,
    /// Physical id (the stack id for stack events).
    pub physical_resource_id: String,
    /// Resource type (`OS::Heat::Stack` for stack events).
    pub resource_type: String,
    /// Action.
    pub resource_action: String,
    /// Status.
    pub resource_status: String,
    /// Reason.
    pub resource_status_reason: String,
    /// Time.
    pub created_at: String,
}

fn from_row(row: &AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: row.try_get("id")?,
        seq: row.try_get("seq")?,
        stack_id: row.try_get("stack_id")?,
        resource_name: row.try_get("resource_name")?,
        physical_resource_id: row.try_get("physical_resource_id")?,
        resource_type: row.try_get("resource_type")?,
        resource_action: row.try_get("resource_action")?,
        resource_status: row.try_get("resource_status")?,
        resource_status_reason: row.try_get("resource_status_reason")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Microseconds since the epoch, strictly increasing within this process, so events
/// written in the same microsecond keep their order.
fn next_seq() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_micros();
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(prev + 1);
        match LAST.compare_exchange(prev, next, Ordering::SeqCst, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(p) => prev = p,
        }
    }
}

const COLUMNS: &str = "id, seq, stack_id, resource_name, physical_resource_id, resource_type, resource_action, resource_status, resource_status_reason, created_at";

/// Inserts `e` on `conn` (inside the caller's transaction when there is one).
pub(crate) async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    mut e: EventRow,
) -> Result<EventRow, StoreError> {
    e.seq = next_seq();
    e.id = uuid::Uuid::new_v4().to_string();
    sqlx::query(sql(format!(
        "INSERT INTO events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&e.id)
    .bind(e.seq)
    .bind(&e.stack_id)
    .bind(&e.resource_name)
    .bind(&e.physical_resource_id)
    .bind(&e.resource_type)
    .bind(&e.resource_action)
    .bind(&e.resource_status)
    .bind(&e.resource_status_reason)
    .bind(&e.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(e)
}

impl Store {
    /// Appends an event; `seq` and `id` are assigned here.
    pub async fn add_event(&self, e: EventRow) -> Result<EventRow, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_event(&mut conn, e).await
    }

    /// Events of a stack, oldest first.
    pub async fn stack_events(&self, stack_id: &str) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(sql(format!(
            "SELECT {COLUMNS} FROM events WHERE stack_id = $1 ORDER BY seq"
        )))
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes a stack's events but the newest `keep` (Heat's `max_events_per_stack`),
    /// oldest first. Returns how many were deleted.
    pub async fn purge_events(&self, stack_id: &str, keep: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM events WHERE stack_id = $1 AND seq < (SELECT seq FROM events WHERE stack_id = $2 ORDER BY seq DESC LIMIT 1 OFFSET $3)",
        )
        .bind(stack_id)
        .bind(stack_id)
        .bind(keep - 1)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
