//! Refresh tokens: rotation with reuse detection.

use chrono::{DateTime, Utc};
use torii_core::storage::{RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::{micros, micros_opt};

/// A `refresh_tokens` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    user_id: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl RefreshRow {
    fn into_record(self) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: TokenHash::from_stored(self.token_hash),
            family_id: self.family_id,
            user_id: UserId::new(self.user_id),
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: self.used_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// The column list, as a macro so it can be spliced into `&'static str` queries with `concat!`.
macro_rules! columns {
    () => {
        "token_hash, family_id, user_id, created_at, expires_at, used_at, revoked_at"
    };
}

impl RefreshTokenStorage for PostgresRepositoryProvider {
    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> StorageResult<()> {
        sqlx::query(concat!("INSERT INTO refresh_tokens (", columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7)"))
            .bind(token.token_hash.as_str())
            .bind(&token.family_id)
            .bind(token.user_id.as_str())
            .bind(micros(token.created_at))
            .bind(micros(token.expires_at))
            .bind(micros_opt(token.used_at))
            .bind(micros_opt(token.revoked_at))
            .execute(&self.pool)
            .await
            .map_err(on("refresh token"))?;
        Ok(())
    }

    async fn use_refresh_token(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<RefreshTokenUse> {
        if !storable(&[token_hash.as_str()]) {
            return Ok(RefreshTokenUse::Invalid);
        }
        let now = micros(now);
        // One UPDATE ... RETURNING with every condition in its WHERE. Of concurrent callers, one updates
        // the row; the others wait on its row lock, then re-check the WHERE against the committed row,
        // see `used_at` set, and update nothing.
        let used: Option<RefreshRow> = sqlx::query_as(concat!(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 RETURNING ",
            columns!()
        ))
        .bind(now)
        .bind(token_hash.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("refresh token"))?;
        if let Some(row) = used {
            return Ok(RefreshTokenUse::Valid(row.into_record()));
        }
        // A statement of its own, so it reads the row as the winner committed it. Folded into the UPDATE
        // (a CTE), it would read with the snapshot taken before the winner committed and see the token
        // unused.
        let existing: Option<RefreshRow> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM refresh_tokens WHERE token_hash = $1"))
                .bind(token_hash.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(on("refresh token"))?;
        match existing {
            Some(row) if row.used_at.is_some() && row.revoked_at.is_none() && row.expires_at > now => {
                Ok(RefreshTokenUse::Reused(row.into_record()))
            }
            _ => Ok(RefreshTokenUse::Invalid),
        }
    }

    async fn revoke_refresh_family(&self, family_id: &str, now: DateTime<Utc>) -> StorageResult<u64> {
        if !storable(&[family_id]) {
            return Ok(0);
        }
        let result =
            sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
                .bind(micros(now))
                .bind(family_id)
                .execute(&self.pool)
                .await
                .map_err(on("refresh token"))?;
        tracing::debug!(revoked = result.rows_affected(), "revoked refresh token family");
        Ok(result.rows_affected())
    }

    async fn revoke_refresh_tokens_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<u64> {
        if !storable(&[user_id.as_str()]) {
            return Ok(0);
        }
        let result = sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(micros(now))
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("refresh token"))?;
        tracing::debug!(user_id = %user_id, revoked = result.rows_affected(), "revoked refresh tokens of user");
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_refresh_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        // Bounded and by primary key, as for sessions; SKIP LOCKED lets concurrent cleaners share the work.
        let result = sqlx::query(
            "DELETE FROM refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM refresh_tokens WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("refresh token"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired refresh tokens");
        Ok(result.rows_affected())
    }
}
