//! Refresh tokens: rotation with reuse detection.

use chrono::{DateTime, Utc};
use torii_core::storage::{RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, from_micros_opt, to_micros};

#[derive(sqlx::FromRow)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    user_id: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl RefreshRow {
    fn into_record(self) -> StorageResult<RefreshTokenRecord> {
        Ok(RefreshTokenRecord {
            token_hash: TokenHash::from_stored(self.token_hash),
            family_id: self.family_id,
            user_id: UserId::new(self.user_id),
            created_at: from_micros(self.created_at, "refresh_tokens.created_at")?,
            expires_at: from_micros(self.expires_at, "refresh_tokens.expires_at")?,
            used_at: from_micros_opt(self.used_at, "refresh_tokens.used_at")?,
            revoked_at: from_micros_opt(self.revoked_at, "refresh_tokens.revoked_at")?,
        })
    }
}

/// The column list, as a macro so it can be spliced into `&'static str` queries with `concat!`.
macro_rules! columns {
    () => {
        "token_hash, family_id, user_id, created_at, expires_at, used_at, revoked_at"
    };
}

impl RefreshTokenStorage for SqliteRepositoryProvider {
    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> StorageResult<()> {
        sqlx::query(concat!("INSERT INTO refresh_tokens (", columns!(), ") VALUES (?, ?, ?, ?, ?, ?, ?)"))
            .bind(token.token_hash.as_str())
            .bind(&token.family_id)
            .bind(token.user_id.as_str())
            .bind(to_micros(token.created_at))
            .bind(to_micros(token.expires_at))
            .bind(token.used_at.map(to_micros))
            .bind(token.revoked_at.map(to_micros))
            .execute(&self.pool)
            .await
            .map_err(on("refresh token"))?;
        Ok(())
    }

    async fn use_refresh_token(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<RefreshTokenUse> {
        let now = to_micros(now);
        // One UPDATE ... RETURNING: of concurrent users of one token, exactly one marks it used.
        let used: Option<RefreshRow> = sqlx::query_as(concat!(
            "UPDATE refresh_tokens SET used_at = ? \
             WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ? RETURNING ",
            columns!()
        ))
        .bind(now)
        .bind(token_hash.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(on("refresh token"))?;
        if let Some(row) = used {
            return Ok(RefreshTokenUse::Valid(row.into_record()?));
        }
        let existing: Option<RefreshRow> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM refresh_tokens WHERE token_hash = ?"))
                .bind(token_hash.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(on("refresh token"))?;
        match existing {
            Some(row) if row.used_at.is_some() && row.revoked_at.is_none() && row.expires_at > now => {
                Ok(RefreshTokenUse::Reused(row.into_record()?))
            }
            _ => Ok(RefreshTokenUse::Invalid),
        }
    }

    async fn revoke_refresh_family(&self, family_id: &str, now: DateTime<Utc>) -> StorageResult<u64> {
        let result = sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")
            .bind(to_micros(now))
            .bind(family_id)
            .execute(&self.pool)
            .await
            .map_err(on("refresh token"))?;
        Ok(result.rows_affected())
    }

    async fn revoke_refresh_tokens_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<u64> {
        let result = sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
            .bind(to_micros(now))
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("refresh token"))?;
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_refresh_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let result = sqlx::query(
            "DELETE FROM refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM refresh_tokens WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("refresh token"))?;
        Ok(result.rows_affected())
    }
}
