//! Brute-force limit on password authentication: after `max_failures` failed attempts for
//! a key (a user name, or a source address) within `window`, further attempts for it are
//! refused — even with the right password — until the oldest failure leaves the window.
//! In memory, per process: a restart forgets, which only helps a legitimate user.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failure counts per key.
#[derive(Debug)]
pub struct Throttle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// A throttle allowing `max_failures` failures per `window` (0 disables it).
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Throttle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn with_entries<T>(&self, f: impl FnOnce(&mut HashMap<String, VecDeque<Instant>>) -> T) -> T {
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut guard = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    fn prune(&self, entries: &mut VecDeque<Instant>, now: Instant) {
        while entries
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            entries.pop_front();
        }
    }

    /// Whether any of `keys` is locked out now.
    pub fn is_locked(&self, keys: &[&str]) -> bool {
        if self.max_failures == 0 {
            return false;
        }
        let now = Instant::now();
        self.with_entries(|all| {
            keys.iter().any(|k| {
                all.get_mut(*k).is_some_and(|e| {
                    self.prune(e, now);
                    e.len() >= self.max_failures
                })
            })
        })
    }

    /// Records a failed attempt against each of `keys`.
    pub fn record_failure(&self, keys: &[&str]) {
        if self.max_failures == 0 {
            return;
        }
        let now = Instant::now();
        self.with_entries(|all| {
            // Forget keys whose failures all expired, so the map cannot grow without bound.
            all.retain(|_, e| {
                e.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
            for k in keys {
                let e = all.entry((*k).to_string()).or_default();
                self.prune(e, now);
                e.push_back(now);
                // Only the newest `max_failures` matter.
                while e.len() > self.max_failures {
                    e.pop_front();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_limit_until_the_window_passes() {
        let t = Throttle::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(!t.is_locked(&["u"]));
            t.record_failure(&["u"]);
        }
        assert!(t.is_locked(&["u"]));
        assert!(!t.is_locked(&["v"]));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!t.is_locked(&["u"]));
        assert!(!Throttle::new(0, Duration::from_secs(1)).is_locked(&["u"]));
    }
}
