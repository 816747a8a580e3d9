//! Rate-limit counters: one hash per key (by the key's SHA-256) holding its current window's count and
//! the previous window's, decided as a sliding window.

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::StorageResult;
use torii_core::storage::{RateLimitDecision, RateLimitStorage, RateLimitWindow};

use crate::RedisSessionStorage;
use crate::codec::{EXPIRY_MARGIN, to_micros};
use crate::error::{corrupt, map_redis};
use crate::scripts;

impl RateLimitStorage for RedisSessionStorage {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        let slot = RateLimitWindow::containing(key, now, window)?;
        // Relative to Torii's `now`, as for sessions, so a clock behind Redis's never loses a live count;
        // Redis's expiry only frees memory.
        // The counter must outlive its window by one more, while it weighs on the next window's decisions.
        let remaining = (slot.expires_at() - now).checked_add(&EXPIRY_MARGIN).unwrap_or(EXPIRY_MARGIN);
        let (hits, resets_at, previous): (u64, i64, u64) = scripts::HIT_RATE_LIMIT
            .key(self.keys.rate_limit(&slot.key_hash))
            .key(self.keys.rate_limits_by_expiry())
            .arg(to_micros(slot.start))
            .arg(to_micros(slot.resets_at))
            .arg(remaining.num_milliseconds().max(1))
            .arg(&slot.key_hash)
            .arg(to_micros(slot.expires_at()))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        let resets_at = DateTime::from_timestamp_micros(resets_at).ok_or_else(|| corrupt("a rate-limit window"))?;
        // Normally the window asked for; a later one when another instance's clock runs ahead.
        let counted = RateLimitWindow { start: resets_at - slot.length(), resets_at, ..slot };
        Ok(RateLimitDecision::sliding(previous, hits, max, now, &counted))
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        let key_hash = RateLimitWindow::hash_key(key);
        let _: (u64, u64) = redis::pipe()
            .atomic()
            .del(self.keys.rate_limit(&key_hash))
            .zrem(self.keys.rate_limits_by_expiry(), &key_hash)
            .query_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(())
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        if batch_size == 0 {
            return Ok(0);
        }
        let deleted: u64 = scripts::CLEANUP_RATE_LIMITS
            .key(self.keys.rate_limits_by_expiry())
            .arg(self.keys.prefix())
            .arg(to_micros(now))
            .arg(batch_size)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(deleted)
    }
}
