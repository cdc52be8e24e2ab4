//! Failed logins per e-mail address: after [`MAX_FAILURES`] within [`WINDOW`], further attempts
//! for that address are refused until the window has passed, whatever the password, so a
//! password cannot be guessed at argon2's speed. Unknown addresses count the same way, so the
//! answer says nothing about who is registered. Kept in memory, per process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Addresses tracked at most; expired entries are dropped first when it is reached.
const CAPACITY: usize = 100_000;

#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// How long logins for `email` stay refused, `None` if they may be tried.
    pub fn blocked_for(&self, email: &str) -> Option<Duration> {
        let key = email.trim().to_lowercase();
        let failures = self.failures.lock();
        let (count, since) = failures.get(&key)?;
        let elapsed = since.elapsed();
        (*count >= MAX_FAILURES && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    /// Counts a failed login for `email`.
    pub fn failed(&self, email: &str) {
        let key = email.trim().to_lowercase();
        let mut failures = self.failures.lock();
        if failures.len() >= CAPACITY && !failures.contains_key(&key) {
            failures.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if failures.len() >= CAPACITY {
                return;
            }
        }
        let entry = failures.entry(key).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Forgets the failures of `email` (it logged in).
    pub fn succeeded(&self, email: &str) {
        self.failures.lock().remove(&email.trim().to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_block_the_address_in_any_case_and_success_clears() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("Ann@Example.com");
        }
        assert_eq!(throttle.blocked_for("ann@example.com"), None);
        throttle.failed("ann@example.com ");
        let left = throttle.blocked_for("ANN@example.com").expect("blocked");
        assert!(left > WINDOW - Duration::from_secs(5) && left <= WINDOW);
        assert_eq!(throttle.blocked_for("bob@example.com"), None);
        throttle.succeeded("ann@example.com");
        assert_eq!(throttle.blocked_for("ann@example.com"), None);
    }
}
