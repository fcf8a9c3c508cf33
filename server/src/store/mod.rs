//! Persistence: the only module with SQL.
//!
//! One code path over sqlx's `Any` driver for SQLite (the embedded default) and PostgreSQL,
//! `$N` placeholders everywhere, JSON stored as TEXT, timestamps as `YYYY-MM-DDTHH:MM:SSZ` TEXT.
//! Each table group has its own file.

mod blobs;
mod credentials;
mod events;
mod identity;
mod leases;
mod metadata;
mod resources;
mod services;
mod settings;
mod snapshots;
mod software;
mod stacks;

pub use credentials::CredentialRow;
pub use events::EventRow;
pub use identity::{ProjectRow, TokenRow, UserRow};
pub use leases::{Lease, now_millis};
pub use metadata::MetadataRow;
pub use resources::ResourceRow;
pub use services::ServiceRow;
pub use snapshots::SnapshotRow;
pub use software::{ConfigRow, DeploymentRow};
pub use stacks::StackRow;

use serde_json::Value;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored JSON column did not parse (a bug or a damaged database).
    #[error("stored JSON in column {column} is damaged: {source}")]
    Json {
        /// The column.
        column: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// The database handle.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    blobs: blobs::BlobCache,
    sqlite: bool,
}

/// Now, as stored and shown: `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`) and migrates the schema.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL lets readers (API) run beside the engine's writes.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous=NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            blobs: blobs::BlobCache::default(),
            sqlite,
        })
    }

    /// The SQLite URL for a database file inside `data_dir`.
    pub fn sqlite_url(data_dir: &std::path::Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("updraft.db").display()
        )
    }
}

pub(crate) fn json_column(
    row: &sqlx::any::AnyRow,
    column: &'static str,
) -> Result<Value, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|source| StoreError::Json { column, source })
}

pub(crate) fn object_column(
    row: &sqlx::any::AnyRow,
    column: &'static str,
) -> Result<serde_json::Map<String, Value>, StoreError> {
    Ok(match json_column(row, column)? {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    })
}

#[cfg(test)]
pub(crate) async fn test_store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::sqlite_url(dir.path()))
        .await
        .unwrap();
    (store, dir)
}

/// Marks a query built from this module's own column lists (never from input) as safe.
pub(crate) fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

#[cfg(test)]
mod tests;
