//! Retry delays: exponential growth from a base, capped, with random jitter, reset on success.

use std::time::Duration;

use rand::{Rng, RngExt};

/// Base delay after the first failure.
pub const BASE_DELAY: Duration = Duration::from_secs(1);
/// The cap is never below this.
pub const MIN_CAP: Duration = Duration::from_secs(60);
/// Jitter: each delay is scaled by a random factor in `1 ± JITTER`.
pub const JITTER: f64 = 0.2;

/// The shape of a backoff sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Delay after the first failure.
    pub base: Duration,
    /// No delay exceeds this.
    pub cap: Duration,
    /// Relative jitter, `0.0..1.0`.
    pub jitter: f64,
}

impl BackoffPolicy {
    /// The agent's policy: from 1 s, doubling, capped at `max(poll_interval, 60 s)`, ±20 %.
    pub fn for_poll_interval(poll_interval: Duration) -> Self {
        BackoffPolicy {
            base: BASE_DELAY,
            cap: poll_interval.max(MIN_CAP),
            jitter: JITTER,
        }
    }

    /// The delay after `failures` consecutive failures, before jitter: `base * 2^(failures-1)`,
    /// capped (zero for no failure).
    pub fn nominal(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(31));
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// A running backoff: counts consecutive failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
}

impl Backoff {
    /// A backoff with no failures yet.
    pub fn new(policy: BackoffPolicy) -> Self {
        Backoff {
            policy,
            failures: 0,
        }
    }

    /// Consecutive failures recorded since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Forgets the failures: the next delay starts from the base again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.next_delay_with(&mut rand::rng())
    }

    /// [`Backoff::next_delay`] with a given random source.
    pub fn next_delay_with<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let nominal = self.policy.nominal(self.failures);
        let jitter = self.policy.jitter.clamp(0.0, 0.99);
        let factor = if jitter > 0.0 {
            rng.random_range(1.0 - jitter..=1.0 + jitter)
        } else {
            1.0
        };
        nominal.mul_f64(factor).min(self.policy.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn grows_exponentially_to_the_cap_and_resets() {
        let policy = BackoffPolicy {
            jitter: 0.0,
            ..BackoffPolicy::for_poll_interval(secs(30))
        };
        assert_eq!(policy.cap, secs(60));
        let mut b = Backoff::new(policy);
        let seen: Vec<_> = (0..9).map(|_| b.next_delay()).collect();
        let want: Vec<_> = [1, 2, 4, 8, 16, 32, 60, 60, 60].map(secs).to_vec();
        assert_eq!(seen, want);
        assert_eq!(b.failures(), 9);
        b.reset();
        assert_eq!(b.next_delay(), secs(1));
    }

    #[test]
    fn cap_follows_a_long_poll_interval_and_survives_many_failures() {
        let policy = BackoffPolicy::for_poll_interval(secs(300));
        assert_eq!(policy.cap, secs(300));
        assert_eq!(policy.nominal(0), Duration::ZERO);
        assert_eq!(policy.nominal(u32::MAX), secs(300));
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let policy = BackoffPolicy::for_poll_interval(secs(30));
        let mut rng = rand::rng();
        for failures in 1..=10u32 {
            let nominal = policy.nominal(failures);
            let (lo, hi) = (nominal.mul_f64(0.8), nominal.mul_f64(1.2).min(policy.cap));
            for _ in 0..200 {
                let mut b = Backoff::new(policy);
                b.failures = failures - 1;
                let d = b.next_delay_with(&mut rng);
                assert!(
                    d >= lo && d <= hi,
                    "{failures}: {d:?} not in {lo:?}..={hi:?}"
                );
            }
        }
    }
}
