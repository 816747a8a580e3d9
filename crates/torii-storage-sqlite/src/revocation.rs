//! Revocation of stateless (JWT) sessions: the token-id denylist and per-user "not before" times.

use chrono::{DateTime, Utc};
use torii_core::storage::TokenRevocationStorage;
use torii_core::{StorageResult, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, to_micros};

impl TokenRevocationStorage for SqliteRepositoryProvider {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (token_id) DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
        )
        .bind(token_id)
        .bind(user_id.as_str())
        .bind(to_micros(expires_at))
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
        let revoked: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = ?) \
             OR EXISTS (SELECT 1 FROM session_revocations WHERE user_id = ? AND not_before > ?)",
        )
        .bind(token_id)
        .bind(user_id.as_str())
        .bind(to_micros(issued_at))
        .fetch_one(&self.pool)
        .await
        .map_err(on("revoked token"))?;
        Ok(revoked)
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO session_revocations (user_id, not_before) VALUES (?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET not_before = MAX(not_before, excluded.not_before)",
        )
        .bind(user_id.as_str())
        .bind(to_micros(not_before))
        .execute(&self.pool)
        .await
        .map_err(on("session revocation"))?;
        Ok(())
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        let micros: Option<i64> = sqlx::query_scalar("SELECT not_before FROM session_revocations WHERE user_id = ?")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(on("session revocation"))?;
        micros.map(|m| from_micros(m, "session_revocations.not_before")).transpose()
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let result = sqlx::query(
            "DELETE FROM revoked_tokens WHERE token_id IN \
             (SELECT token_id FROM revoked_tokens WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("revoked token"))?;
        Ok(result.rows_affected())
    }
}
