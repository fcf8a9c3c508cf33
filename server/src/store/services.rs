//! The `services` table: one row per server process, refreshed by its lease rounds.

use sqlx::Row;

use super::{Store, StoreError, now_millis, now_timestamp};

/// A server process as `GET /services` shows it.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    /// This process (`<node>#<uuid>`), Heat's `engine_id`.
    pub engine_id: String,
    /// The node (`<host>:<port>` unless configured), Heat's `host`.
    pub node_id: String,
    /// The machine's host name.
    pub hostname: String,
    /// Seconds between reports.
    pub report_interval: i64,
    /// First report.
    pub created_at: String,
    /// Latest report.
    pub updated_at: String,
    /// Latest report, ms since the epoch (for up/down).
    pub updated_millis: i64,
}

impl Store {
    /// Records that the process `engine_id` is alive now.
    pub async fn report_service(
        &self,
        engine_id: &str,
        node_id: &str,
        hostname: &str,
        report_interval: i64,
    ) -> Result<(), StoreError> {
        let now = now_timestamp();
        sqlx::query(
            "INSERT INTO services (engine_id, node_id, hostname, report_interval, created_at, updated_at, updated_millis) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (engine_id) DO UPDATE SET updated_at = $8, updated_millis = $9",
        )
        .bind(engine_id)
        .bind(node_id)
        .bind(hostname)
        .bind(report_interval)
        .bind(&now)
        .bind(&now)
        .bind(now_millis())
        .bind(&now)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every process that ever reported, oldest first.
    pub async fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT engine_id, node_id, hostname, report_interval, created_at, updated_at, updated_millis FROM services ORDER BY created_at, engine_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ServiceRow {
                    engine_id: r.try_get("engine_id")?,
                    node_id: r.try_get("node_id")?,
                    hostname: r.try_get("hostname")?,
                    report_interval: r.try_get("report_interval")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    updated_millis: r.try_get("updated_millis")?,
                })
            })
            .collect()
    }
}
