//! Rate-limit counters: one row per key hash and epoch-aligned window, decided as a sliding window.

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::StorageResult;
use torii_core::storage::{RateLimitDecision, RateLimitStorage, RateLimitWindow};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::to_micros;

impl RateLimitStorage for SqliteRepositoryProvider {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        let slot = RateLimitWindow::containing(key, now, window)?;
        // One statement: SQLite runs it under the database's write lock, so concurrent hits are counted
        // one after the other and each sees its own count.
        let hits: i64 = sqlx::query_scalar(
            "INSERT INTO rate_limits (key_hash, window_start, hits, expires_at) VALUES (?, ?, 1, ?) \
             ON CONFLICT (key_hash, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
        )
        .bind(&slot.key_hash)
        .bind(to_micros(slot.start))
        .bind(to_micros(slot.expires_at()))
        .fetch_one(&self.pool)
        .await
        .map_err(on("rate limit"))?;
        // The previous window no longer changes, so reading it apart from the hit is as good as atomic.
        let previous: Option<i64> =
            sqlx::query_scalar("SELECT hits FROM rate_limits WHERE key_hash = ? AND window_start = ?")
                .bind(&slot.key_hash)
                .bind(to_micros(slot.previous_start()))
                .fetch_optional(&self.pool)
                .await
                .map_err(on("rate limit"))?;
        let count = |hits: i64| u64::try_from(hits).unwrap_or(0);
        Ok(RateLimitDecision::sliding(count(previous.unwrap_or(0)), count(hits), max, now, &slot))
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM rate_limits WHERE key_hash = ?")
            .bind(RateLimitWindow::hash_key(key))
            .execute(&self.pool)
            .await
            .map_err(on("rate limit"))?;
        Ok(())
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let result = sqlx::query(
            "DELETE FROM rate_limits WHERE (key_hash, window_start) IN \
             (SELECT key_hash, window_start FROM rate_limits WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
        )
        .bind(to_micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("rate limit"))?;
        Ok(result.rows_affected())
    }
}
