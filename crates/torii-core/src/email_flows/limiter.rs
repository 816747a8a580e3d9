//! A per-account limit on outgoing mail, so the "forgot password" and "email me a link" forms cannot be
//! used to flood someone's inbox.
//!
//! It counts in memory, per process: with several instances behind a load balancer each allows the
//! configured number, which still bounds the flood. Times come from Torii's clock, so tests move them
//! with `ManualClock`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::email::normalize_email;

use super::mailer::MessageKind;

/// Above this many tracked addresses, entries whose window has passed are dropped, so the map cannot
/// grow without bound under a flood of distinct addresses.
const PRUNE_ABOVE: usize = 10_000;

/// Send times per (kind, normalised address), oldest first.
type SendLog = HashMap<(MessageKind, String), VecDeque<DateTime<Utc>>>;

#[derive(Debug)]
pub(super) struct RateLimiter {
    max: u32,
    window: Duration,
    sent: Mutex<SendLog>,
}

impl RateLimiter {
    pub(super) fn new(max: u32, window: Duration) -> Self {
        Self { max, window, sent: Mutex::new(HashMap::new()) }
    }

    /// Records a message of `kind` to `email` at `now` and returns true, or returns false (recording
    /// nothing) when the address already had `max` such messages within the window.
    pub(super) fn allow(&self, kind: MessageKind, email: &str, now: DateTime<Utc>) -> bool {
        let mut sent = self.sent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let since = now - self.window;
        if sent.len() > PRUNE_ABOVE {
            sent.retain(|_, times| times.back().is_some_and(|t| *t > since));
        }
        let times = sent.entry((kind, normalize_email(email))).or_default();
        while times.front().is_some_and(|t| *t <= since) {
            times.pop_front();
        }
        if times.len() >= self.max as usize {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_per_window_per_account_and_kind() {
        let limiter = RateLimiter::new(2, Duration::minutes(15));
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        assert!(limiter.allow(MessageKind::PasswordReset, "a@example.com", t0));
        assert!(limiter.allow(MessageKind::PasswordReset, "A@Example.com", t0 + Duration::minutes(1)));
        assert!(!limiter.allow(MessageKind::PasswordReset, "a@example.com", t0 + Duration::minutes(2)));
        // Other accounts and other kinds have their own budget.
        assert!(limiter.allow(MessageKind::PasswordReset, "b@example.com", t0 + Duration::minutes(2)));
        assert!(limiter.allow(MessageKind::MagicLink, "a@example.com", t0 + Duration::minutes(2)));
        // Once the first send leaves the window, one more is allowed.
        assert!(limiter.allow(MessageKind::PasswordReset, "a@example.com", t0 + Duration::minutes(15)));
        assert!(!limiter.allow(MessageKind::PasswordReset, "a@example.com", t0 + Duration::minutes(15)));
    }
}
