//! Revocation of stateless (JWT) sessions: the token-id denylist and per-user "not before" times.

use chrono::{DateTime, Utc};
use torii_core::storage::TokenRevocationStorage;
use torii_core::{StorageResult, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::micros;

/// The key to bind for `value`: itself when it can be stored, otherwise `None`, which as a bound
/// parameter (SQL NULL) equals nothing.
fn key(value: &str) -> Option<&str> {
    storable(&[value]).then_some(value)
}

impl TokenRevocationStorage for PostgresRepositoryProvider {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        // Revoking again keeps the later expiry, so an entry never goes while its token could be alive.
        sqlx::query(
            "INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (token_id) DO UPDATE SET expires_at = GREATEST(revoked_tokens.expires_at, EXCLUDED.expires_at)",
        )
        .bind(token_id)
        .bind(user_id.as_str())
        .bind(micros(expires_at))
        .execute(&self.pool)
        .await
        .map_err(on("revoked token"))?;
        Ok(())
    }

    async fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        // One round trip for both checks. A key that cannot be stored is bound as NULL, which matches no
        // row, so that half of the check is simply false.
        let revoked: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = $1) \
             OR EXISTS (SELECT 1 FROM session_revocations WHERE user_id = $2 AND not_before > $3)",
        )
        .bind(key(token_id))
        .bind(key(user_id.as_str()))
        .bind(micros(issued_at))
        .fetch_one(&self.pool)
        .await
        .map_err(on("revoked token"))?;
        Ok(revoked)
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        // GREATEST: "not before" only ever moves forward, so an earlier time cannot resurrect tokens.
        sqlx::query(
            "INSERT INTO session_revocations (user_id, not_before) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE \
             SET not_before = GREATEST(session_revocations.not_before, EXCLUDED.not_before)",
        )
        .bind(user_id.as_str())
        .bind(micros(not_before))
        .execute(&self.pool)
        .await
        .map_err(on("session revocation"))?;
        Ok(())
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(None);
        }
        sqlx::query_scalar("SELECT not_before FROM session_revocations WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(on("session revocation"))
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // Bounded and by primary key, as for sessions; SKIP LOCKED lets concurrent cleaners share the work.
        let result = sqlx::query(
            "DELETE FROM revoked_tokens WHERE token_id IN \
             (SELECT token_id FROM revoked_tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("revoked token"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired revoked-token entries");
        Ok(result.rows_affected())
    }
}
