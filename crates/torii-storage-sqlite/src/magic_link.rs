//! Single-use email tokens: magic links, email verification, password reset.

use chrono::{DateTime, Utc};
use torii_core::email::normalize_email;
use torii_core::storage::{MagicLinkStorage, OneTimeToken, TokenPurpose};
use torii_core::{StorageError, StorageResult, TokenHash, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, from_micros_opt, to_micros, to_micros_opt};

/// A `one_time_tokens` row as SQLite returns it.
#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    purpose: String,
    email: String,
    user_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> StorageResult<OneTimeToken> {
        Ok(OneTimeToken {
            token_hash: TokenHash::from_stored(self.token_hash),
            purpose: TokenPurpose::parse(&self.purpose)
                .ok_or_else(|| StorageError::Corrupt("one_time_tokens.purpose is unknown".into()))?,
            email: self.email,
            user_id: self.user_id.map(UserId::new),
            created_at: from_micros(self.created_at, "one_time_tokens.created_at")?,
            expires_at: from_micros(self.expires_at, "one_time_tokens.expires_at")?,
            used_at: from_micros_opt(self.used_at, "one_time_tokens.used_at")?,
        })
    }
}

impl MagicLinkStorage for SqliteRepositoryProvider {
    async fn create_token(&self, token: &OneTimeToken) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens \
             (token_hash, purpose, email, email_normalized, user_id, created_at, expires_at, used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.token_hash.as_str())
        .bind(token.purpose.as_str())
        .bind(token.email.as_str())
        .bind(normalize_email(&token.email))
        .bind(token.user_id.as_ref().map(UserId::as_str))
        .bind(to_micros(token.created_at))
        .bind(to_micros(token.expires_at))
        .bind(to_micros_opt(token.used_at))
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
        let now = to_micros(now);
        // One UPDATE ... RETURNING with every condition in its WHERE: SQLite runs it under the write
        // lock, so of concurrent callers exactly one sees `used_at IS NULL` and gets the row.
        let row: Option<TokenRow> = sqlx::query_as(
            "UPDATE one_time_tokens SET used_at = ?1 \
             WHERE token_hash = ?2 AND purpose = ?3 AND used_at IS NULL AND expires_at > ?1 \
             RETURNING token_hash, purpose, email, user_id, created_at, expires_at, used_at",
        )
        .bind(now)
        .bind(token_hash.as_str())
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("token"))?;
        row.map(TokenRow::into_token).transpose()
    }

    async fn invalidate_tokens(&self, email: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> StorageResult<u64> {
        let result = sqlx::query(
            "UPDATE one_time_tokens SET used_at = ? WHERE email_normalized = ? AND purpose = ? AND used_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(normalize_email(email))
        .bind(purpose.as_str())
        .execute(&self.pool)
        .await
        .map_err(on("token"))?;
        Ok(result.rows_affected())
    }

    async fn cleanup_expired_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let result = sqlx::query(
            "DELETE FROM one_time_tokens WHERE token_hash IN \
             (SELECT token_hash FROM one_time_tokens WHERE expires_at <= ? LIMIT ?)",
        )
        .bind(to_micros(now))
        .bind(i64::from(batch_size))
        .execute(&self.pool)
        .await
        .map_err(on("token"))?;
        tracing::debug!(deleted = result.rows_affected(), "deleted expired one-time tokens");
        Ok(result.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::tests::{memory, t};

    fn token(email: &str, purpose: TokenPurpose, expires: i64) -> OneTimeToken {
        OneTimeToken {
            token_hash: TokenHash::of(&torii_core::token::generate_secret_token()),
            purpose,
            email: email.into(),
            user_id: None,
            created_at: t(0),
            expires_at: t(expires),
            used_at: None,
        }
    }

    #[tokio::test]
    async fn consume_checks_purpose_expiry_and_use() {
        let db = memory().await;
        let link = token("Ann@Example.com", TokenPurpose::MagicLink, 10);
        db.create_token(&link).await.unwrap();
        assert!(matches!(db.create_token(&link).await, Err(StorageError::Conflict("token"))));
        assert_eq!(db.consume_token(&link.token_hash, TokenPurpose::PasswordReset, t(1)).await.unwrap(), None);
        assert_eq!(db.consume_token(&link.token_hash, TokenPurpose::MagicLink, t(10)).await.unwrap(), None);
        let used = db.consume_token(&link.token_hash, TokenPurpose::MagicLink, t(9)).await.unwrap();
        assert_eq!(used, Some(OneTimeToken { used_at: Some(t(9)), ..link.clone() }));
        assert_eq!(db.consume_token(&link.token_hash, TokenPurpose::MagicLink, t(9)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn invalidate_and_cleanup() {
        let db = memory().await;
        let a = token("ann@example.com", TokenPurpose::PasswordReset, 10);
        let b = token("ANN@example.com", TokenPurpose::PasswordReset, 20);
        let other_purpose = token("ann@example.com", TokenPurpose::MagicLink, 20);
        for tok in [&a, &b, &other_purpose] {
            db.create_token(tok).await.unwrap();
        }
        assert_eq!(db.invalidate_tokens(" Ann@Example.COM", TokenPurpose::PasswordReset, t(1)).await.unwrap(), 2);
        assert_eq!(db.invalidate_tokens("ann@example.com", TokenPurpose::PasswordReset, t(1)).await.unwrap(), 0);
        assert_eq!(db.consume_token(&b.token_hash, TokenPurpose::PasswordReset, t(2)).await.unwrap(), None);
        assert!(db.consume_token(&other_purpose.token_hash, TokenPurpose::MagicLink, t(2)).await.unwrap().is_some());

        assert_eq!(db.cleanup_expired_tokens(t(20), 1).await.unwrap(), 1);
        assert_eq!(db.cleanup_expired_tokens(t(20), 5).await.unwrap(), 2);
        assert_eq!(db.cleanup_expired_tokens(t(20), 5).await.unwrap(), 0);
    }
}
