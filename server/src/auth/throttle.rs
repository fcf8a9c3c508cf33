//! Brute-force limit on password authentication: after `max_failures` failed attempts for
//! a key (a user name or id) within `window`, further attempts for it are refused — even
//! with the right password — until the oldest failure leaves the window.
//!
//! The failures are kept in the database, so every server node sharing it counts the
//! same attempts (an attacker cannot multiply the limit by spreading over nodes), and a
//! restart does not reset the count.

use std::time::Duration;

use crate::store::{Store, StoreError, now_millis};

/// The limit's settings; the counts live in the store.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    max_failures: usize,
    window: Duration,
}

impl Throttle {
    /// A throttle allowing `max_failures` failures per `window` (0 disables it).
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Throttle {
            max_failures,
            window,
        }
    }

    fn window_millis(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether `key` is locked out now.
    pub async fn is_locked(&self, store: &Store, key: &str) -> Result<bool, StoreError> {
        if self.max_failures == 0 {
            return Ok(false);
        }
        let since = now_millis().saturating_sub(self.window_millis());
        let count = store.auth_failures_since(key, since).await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX) >= self.max_failures)
    }

    /// Records a failed attempt against `key` (and forgets those past the window).
    pub async fn record_failure(&self, store: &Store, key: &str) -> Result<(), StoreError> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let now = now_millis();
        store
            .record_auth_failure(key, now, now.saturating_sub(self.window_millis()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_after_the_limit_until_the_window_passes() {
        let (store, _dir) = crate::store::test_store().await;
        let t = Throttle::new(3, Duration::from_millis(300));
        for _ in 0..3 {
            assert!(!t.is_locked(&store, "u").await.unwrap());
            t.record_failure(&store, "u").await.unwrap();
        }
        assert!(t.is_locked(&store, "u").await.unwrap());
        assert!(!t.is_locked(&store, "v").await.unwrap());
        // Another node's throttle over the same store sees the same count.
        let other = Throttle::new(3, Duration::from_millis(300));
        assert!(other.is_locked(&store, "u").await.unwrap());
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(!t.is_locked(&store, "u").await.unwrap());
        let off = Throttle::new(0, Duration::from_secs(1));
        off.record_failure(&store, "w").await.unwrap();
        assert!(!off.is_locked(&store, "w").await.unwrap());
    }
}
