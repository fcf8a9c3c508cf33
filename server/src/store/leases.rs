//! Stack leases: the node running a stack's action holds a lease it renews; another node
//! may take the stack over only after the lease lapsed (PostgreSQL with several nodes).

use sqlx::Row;

use super::{Store, StoreError};

/// Milliseconds since the epoch.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The lease of a stack whose action is in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The stack.
    pub stack_id: String,
    /// The node holding it (`None`: never claimed).
    pub engine_id: Option<String>,
    /// Until when (ms since the epoch).
    pub until: i64,
    /// When the stack was created (ms since the epoch).
    pub created_at_millis: i64,
}

impl Store {
    /// Whether this store is the embedded SQLite one (a single node by construction).
    pub fn is_single_node(&self) -> bool {
        self.sqlite
    }

    /// Claims the stack for `engine` until `until`: succeeds when nobody holds it, `engine`
    /// already does, the lease lapsed, or `force` (delete pre-empting, a single-node store).
    pub async fn claim_stack(
        &self,
        stack_id: &str,
        engine: &str,
        until: i64,
        force: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE stacks SET engine_id = $1, lease_until = $2 WHERE id = $3 AND ($4 = 1 OR engine_id IS NULL OR engine_id = $5 OR lease_until < $6)",
        )
        .bind(engine)
        .bind(until)
        .bind(stack_id)
        .bind(i64::from(force || self.sqlite))
        .bind(engine)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends every lease `engine` holds on stacks still in progress.
    pub async fn renew_leases(&self, engine: &str, until: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE stacks SET lease_until = $1 WHERE engine_id = $2 AND status = 'IN_PROGRESS'",
        )
        .bind(until)
        .bind(engine)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Leases of live top-level stacks whose action is in progress.
    pub async fn leases_in_progress(&self) -> Result<Vec<Lease>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, engine_id, lease_until, created_at FROM stacks WHERE status = 'IN_PROGRESS' AND deleted_at IS NULL AND owner_id IS NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    stack_id: r.try_get("id")?,
                    engine_id: r.try_get("engine_id")?,
                    until: r.try_get("lease_until")?,
                    created_at_millis: chrono::DateTime::parse_from_rfc3339(
                        &r.try_get::<String, _>("created_at")?,
                    )
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(0),
                })
            })
            .collect()
    }

    /// The node holding the stack's lease.
    pub async fn stack_engine(&self, stack_id: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT engine_id FROM stacks WHERE id = $1")
                .bind(stack_id)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }

    /// `pg_notify(channel, payload)` (PostgreSQL only: the wake-up bus between nodes).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
