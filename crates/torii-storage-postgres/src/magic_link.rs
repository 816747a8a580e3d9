//! Single-use email tokens: magic links, email verification, password reset.

use chrono::{DateTime, Utc};
use torii_core::email::normalize_email;
use torii_core::storage::{MagicLinkStorage, OneTimeToken, TokenPurpose};
use torii_core::{StorageError, StorageResult, TokenHash, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::{micros, micros_opt};

/// A `one_time_tokens` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    purpose: String,
    email: String,
    user_id: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn into_token(self) -> StorageResult<OneTimeToken> {
        Ok(OneTimeToken {
            token_hash: TokenHash::from_stored(self.token_hash),
            purpose: TokenPurpose::parse(&self.purpose)
                .ok_or_else(|| StorageError::Corrupt("one_time_tokens.purpose is unknown".into()))?,
            email: self.email,
            user_id: self.user_id.map(UserId::new),
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: self.used_at,
        })
    }
}

impl MagicLinkStorage for PostgresRepositoryProvider {
    async fn create_token(&self, token: &OneTimeToken) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens \
             (token_hash, purpose, email, email_normalized, user_id, created_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token.token_hash.as_str())
        .bind(token.purpose.as_str())
        .bind(token.email.as_str())
        .bind(normalize_email(&token.email))
        .bind(token.user_id.as_ref().map(UserId::as_str))
        .bind(micros(token.created_at))
        .bind(micros(token.expires_at))
        .bind(micros_opt(token.used_at))
        .execute(&self.pool)
        .await
        .map_err(on("token"))?;
        tracing::debug!(purpose = token.purpose.as_str(), "stored one-time token");
        Ok(())
    }

    async fn consume_token(
        &self,
        token_hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<OneTimeToken>> {
        if !storable(&[token_hash.as_str()]) {
            return Ok(None);
        }
        // One UPDATE ... RETURNING with every condition in its WHERE. Of concurrent callers, one updates
        // the row; the others wait on its row lock, then re-check the WHERE against the committed row,
        // see `used_at` set, and get nothing.
        let row: Option<TokenRow> = sqlx::query_as(
            "UPDATE one_time_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING token_hash, purpose, email, user_id, created_at, expires_at, used_at",
        )
        .bind(micros(now))
        .bind(token_hash.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("token"))?;
        row.map(TokenRow::into_token).transpose()
    }

    async fn invalidate_tokens(&self, email: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> StorageResult<u64> {
        if !storable(&[email]) {
            return Ok(0);
        }
        let result = sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1 WHERE email_normalized = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(micros(now))
        .bind(normalize_email(email))
        .bind(purpose.as_str())
        .execute(&self.pool)
        .await
        .map_err(on("token"))?;
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // Bounded and by primary key, as for sessions; SKIP LOCKED lets concurrent cleaners share the work.
        let result = sqlx::query(
            "DELETE FROM one_time_tokens WHERE token_hash IN \
             (SELECT token_hash FROM one_time_tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("token"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired one-time tokens");
        Ok(result.rows_affected())
    }
}
