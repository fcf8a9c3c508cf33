//! The `settings` table: server-wide values such as the URL-signing key.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Reads a setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("value")?),
            None => None,
        })
    }

    /// Returns the setting, first storing `value` if it was unset (first writer wins).
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
        if let Some(v) = self.setting(name).await? {
            return Ok(v);
        }
        // A concurrent node may have inserted it meanwhile; ignore the conflict and re-read.
        let _ = sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await;
        Ok(self
            .setting(name)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }
}
