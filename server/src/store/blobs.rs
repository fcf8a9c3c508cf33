//! The `blobs` table: templates, environments and files maps stored once, by content.
//!
//! A stack column holds `sha256:<hex>` for a blob, or (rows written before blobs existed)
//! the JSON itself. JSON text never starts with `sha256:`, so the two cannot be confused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Store, StoreError};

const PREFIX: &str = "sha256:";
/// Parsed blobs kept in memory; content-addressed entries never go stale.
const CACHE_ENTRIES: usize = 512;

/// A small cache of parsed blobs by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct BlobCache(Arc<Mutex<HashMap<String, Value>>>);

impl BlobCache {
    fn get(&self, hash: &str) -> Option<Value> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned()
    }

    fn put(&self, hash: &str, value: &Value) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(hash.to_string(), value.clone());
    }
}

/// The reference stored for `text`.
fn reference(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

impl Store {
    /// Stores `doc` once and returns the reference to keep in its column.
    pub(crate) async fn put_blob(&self, doc: &Value) -> Result<String, StoreError> {
        let text = doc.to_string();
        let hash = reference(&text);
        if self.blobs.get(&hash).is_none() {
            sqlx::query(
                "INSERT INTO blobs (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&hash)
            .bind(&text)
            .execute(&self.pool)
            .await?;
            self.blobs.put(&hash, doc);
        }
        Ok(hash)
    }

    /// The document a stack column holds: a blob reference or inline JSON.
    pub(crate) async fn document(
        &self,
        column: &'static str,
        stored: &str,
    ) -> Result<Value, StoreError> {
        if !stored.starts_with(PREFIX) {
            return serde_json::from_str(stored)
                .map_err(|source| StoreError::Json { column, source });
        }
        if let Some(v) = self.blobs.get(stored) {
            return Ok(v);
        }
        let body: String = sqlx::query_scalar("SELECT body FROM blobs WHERE hash = $1")
            .bind(stored)
            .fetch_one(&self.pool)
            .await?;
        let value: Value =
            serde_json::from_str(&body).map_err(|source| StoreError::Json { column, source })?;
        self.blobs.put(stored, &value);
        Ok(value)
    }

    /// How many blobs are stored (for tests and diagnostics).
    pub async fn blob_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM blobs")
            .fetch_one(&self.pool)
            .await?)
    }
}
