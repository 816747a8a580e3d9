//! Rate-limit counters: one row per key hash and epoch-aligned window, decided as a sliding window.

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::StorageResult;
use torii_core::storage::{RateLimitDecision, RateLimitStorage, RateLimitWindow};

use crate::PostgresRepositoryProvider;
use crate::error::on;
use crate::time::micros;

impl RateLimitStorage for PostgresRepositoryProvider {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        let slot = RateLimitWindow::containing(key, now, window)?;
        // One upsert: concurrent hits on one row queue on its lock, and each returns the count it made,
        // along with the previous window's count (which no longer changes).
        let (hits, previous): (i64, i64) = sqlx::query_as(
            "WITH hit AS (INSERT INTO rate_limits (key_hash, window_start, hits, expires_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (key_hash, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits) \
             SELECT hit.hits, COALESCE((SELECT hits FROM rate_limits WHERE key_hash = $1 AND window_start = $4), 0) \
             FROM hit",
        )
        .bind(&slot.key_hash)
        .bind(micros(slot.start))
        .bind(micros(slot.expires_at()))
        .bind(micros(slot.previous_start()))
        .fetch_one(&self.pool)
        .await
        .map_err(on("rate limit"))?;
        let count = |hits: i64| u64::try_from(hits).unwrap_or(0);
        Ok(RateLimitDecision::sliding(count(previous), count(hits), max, now, &slot))
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM rate_limits WHERE key_hash = $1")
            .bind(RateLimitWindow::hash_key(key))
            .execute(&self.pool)
            .await
            .map_err(on("rate limit"))?;
        Ok(())
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // Bounded, by primary key, and SKIP LOCKED so concurrent cleaners share the work.
        let result = sqlx::query(
            "DELETE FROM rate_limits WHERE (key_hash, window_start) IN \
             (SELECT key_hash, window_start FROM rate_limits WHERE expires_at <= $1 \
              ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("rate limit"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired rate-limit counters");
        Ok(result.rows_affected())
    }
}
