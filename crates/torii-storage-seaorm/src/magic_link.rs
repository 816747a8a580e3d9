//! Single-use email tokens: magic links, email verification, password reset.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryTrait as _};
use torii_core::email::normalize_email;
use torii_core::storage::{MagicLinkStorage, OneTimeToken, TokenPurpose};
use torii_core::{StorageError, StorageResult, TokenHash, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::one_time_tokens;
use crate::error::on;
use crate::time::{micros, micros_opt};

/// The token a row describes.
fn into_token(row: one_time_tokens::Model) -> StorageResult<OneTimeToken> {
    Ok(OneTimeToken {
        token_hash: TokenHash::from_stored(row.token_hash),
        purpose: TokenPurpose::parse(&row.purpose)
            .ok_or_else(|| StorageError::Corrupt("one_time_tokens.purpose is unknown".into()))?,
        email: row.email,
        user_id: row.user_id.map(UserId::new),
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
    })
}

impl MagicLinkStorage for SeaORMRepositoryProvider {
    async fn create_token(&self, token: &OneTimeToken) -> StorageResult<()> {
        let row = one_time_tokens::ActiveModel {
            token_hash: Set(token.token_hash.as_str().to_owned()),
            purpose: Set(token.purpose.as_str().to_owned()),
            email: Set(token.email.clone()),
            email_normalized: Set(normalize_email(&token.email)),
            user_id: Set(token.user_id.as_ref().map(|id| id.as_str().to_owned())),
            created_at: Set(micros(token.created_at)),
            expires_at: Set(micros(token.expires_at)),
            used_at: Set(micros_opt(token.used_at)),
        };
        db::execute(&self.db, one_time_tokens::Entity::insert(row).as_query()).await.map_err(on("token"))?;
        tracing::debug!(purpose = token.purpose.as_str(), "stored one-time token");
        Ok(())
    }

    async fn consume_token(
        &self,
        token_hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StorageResult<Option<OneTimeToken>> {
        let now = micros(now);
        // One UPDATE with every condition in its WHERE: each database applies it to the row under a write
        // lock and re-checks `used_at IS NULL` after waiting for it, so of concurrent callers exactly one
        // changes the row. Only that caller reads it back (MySQL has no `RETURNING`).
        let claim = one_time_tokens::Entity::update_many()
            .col_expr(one_time_tokens::Column::UsedAt, Expr::value(now))
            .filter(one_time_tokens::Column::TokenHash.eq(token_hash.as_str()))
            .filter(one_time_tokens::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_tokens::Column::UsedAt.is_null())
            .filter(one_time_tokens::Column::ExpiresAt.gt(now));
        if db::execute(&self.db, claim.as_query()).await.map_err(on("token"))? == 0 {
            return Ok(None);
        }
        let query = one_time_tokens::Entity::find_by_id(token_hash.as_str());
        let row: Option<one_time_tokens::Model> = db::one(&self.db, query.as_query()).await.map_err(on("token"))?;
        row.map(into_token).transpose()
    }

    async fn invalidate_tokens(&self, email: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> StorageResult<u64> {
        let update = one_time_tokens::Entity::update_many()
            .col_expr(one_time_tokens::Column::UsedAt, Expr::value(micros(now)))
            .filter(one_time_tokens::Column::EmailNormalized.eq(normalize_email(email)))
            .filter(one_time_tokens::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_tokens::Column::UsedAt.is_null());
        db::execute(&self.db, update.as_query()).await.map_err(on("token"))
    }

    async fn cleanup_expired_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let deleted = db::delete_expired(
            &self.db,
            one_time_tokens::Entity,
            one_time_tokens::Column::TokenHash,
            one_time_tokens::Column::ExpiresAt,
            now,
            batch_size,
        )
        .await
        .map_err(on("token"))?;
        tracing::debug!(deleted, "deleted expired one-time tokens");
        Ok(deleted)
    }
}
