//! A per-account limit on outgoing mail, so the "forgot password" and "email me a link" forms cannot be
//! used to flood someone's inbox.
//!
//! It counts in storage ([`RateLimitStorage`]), under one key per kind of message and normalised address,
//! so every instance of the application behind a load balancer shares one budget per account. The
//! window slides (see [`RateLimitStorage`]): a burst at the end of one window still counts at the start
//! of the next. Times come from Torii's clock, so tests move
//! them with `ManualClock`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::mailer::MessageKind;
use crate::email::normalize_email;
use crate::error::StorageResult;
use crate::storage::{RateLimitDecision, RateLimitStorage};
use crate::torii::Torii;

/// A pending hit on the storage's counter.
type HitFuture = Pin<Box<dyn Future<Output = StorageResult<RateLimitDecision>> + Send>>;

/// Counts one hit on a key at a time, in a window, against a maximum.
type HitFn = dyn Fn(String, DateTime<Utc>, Duration, u32) -> HitFuture + Send + Sync;

pub(super) struct RateLimiter {
    max: u32,
    window: Duration,
    // The storage's counter, type-erased: only `EmailFlows::new` needs to know that the storage counts,
    // so the flows' other methods (and the code generic over them) carry no extra bound. One boxed
    // future per mail sent costs nothing next to the mail.
    hit: Box<HitFn>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("max", &self.max).field("window", &self.window).finish_non_exhaustive()
    }
}

/// The counter's key for a message of `kind` to `email`: one budget per kind and account, whatever the
/// case or surrounding spaces of the address.
pub(super) fn key(kind: MessageKind, email: &str) -> String {
    format!("email_flows:{}:{}", kind.as_str(), normalize_email(email))
}

impl RateLimiter {
    pub(super) fn new<S: RateLimitStorage>(torii: &Torii<S>, max: u32, window: Duration) -> Self {
        let storage = Arc::clone(torii.storage());
        let hit = move |key: String, now: DateTime<Utc>, window: Duration, max: u32| -> HitFuture {
            let storage = Arc::clone(&storage);
            Box::pin(async move { storage.hit_rate_limit(&key, now, window, max).await })
        };
        Self { max, window, hit: Box::new(hit) }
    }

    /// Counts a message of `kind` to `email` at `now` and says whether it may be sent: false when the
    /// address already had `max` such messages in the current window.
    pub(super) async fn allow(&self, kind: MessageKind, email: &str, now: DateTime<Utc>) -> StorageResult<bool> {
        let decision = (self.hit)(key(kind, email), now, self.window, self.max).await?;
        Ok(decision.allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_kind_and_normalised_address() {
        let reset = key(MessageKind::PasswordReset, "a@example.com");
        assert_eq!(reset, key(MessageKind::PasswordReset, "  A@Example.COM "));
        assert_ne!(reset, key(MessageKind::PasswordReset, "b@example.com"));
        assert_ne!(reset, key(MessageKind::MagicLink, "a@example.com"));
        assert_eq!(reset, "email_flows:password_reset:a@example.com");
    }
}
