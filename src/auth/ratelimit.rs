//! Fixed-window rate limits for the login and enrolment endpoints (per client address and per
//! account). In memory: a restart forgets them, which only ever loosens a limit briefly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts per client address per minute on login/enrolment endpoints.
pub const PER_IP_PER_MINUTE: u32 = 30;
/// Failed logins per account per quarter hour before further attempts are refused.
pub const FAILURES_PER_ACCOUNT: u32 = 10;
pub const ACCOUNT_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Count one attempt for `key`; false if it is over `limit` within `window`.
    pub fn hit(&self, key: &str, limit: u32, window: Duration) -> bool {
        let now = Instant::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= limit
    }

    /// True if `key` has already reached `limit` in its current window (without counting).
    pub fn exhausted(&self, key: &str, limit: u32, window: Duration) -> bool {
        let map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .is_some_and(|(start, n)| start.elapsed() < window && *n >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_reset_after_the_window() {
        let r = RateLimiter::default();
        let w = Duration::from_millis(50);
        assert!(r.hit("a", 2, w));
        assert!(r.hit("a", 2, w));
        assert!(!r.hit("a", 2, w));
        assert!(r.exhausted("a", 2, w));
        assert!(r.hit("b", 2, w), "keys are independent");
        std::thread::sleep(w);
        assert!(r.hit("a", 2, w));
    }
}
