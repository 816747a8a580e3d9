//! Refresh tokens: rotation with reuse detection.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryTrait as _};
use torii_core::storage::{RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse};
use torii_core::{StorageResult, TokenHash, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::refresh_tokens;
use crate::error::on;
use crate::time::{micros, micros_opt};

/// The record a row describes.
fn into_record(row: refresh_tokens::Model) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: TokenHash::from_stored(row.token_hash),
        family_id: row.family_id,
        user_id: UserId::new(row.user_id),
        created_at: row.created_at,
        expires_at: row.expires_at,
        used_at: row.used_at,
        revoked_at: row.revoked_at,
    }
}

impl RefreshTokenStorage for SeaORMRepositoryProvider {
    async fn create_refresh_token(&self, token: &RefreshTokenRecord) -> StorageResult<()> {
        let row = refresh_tokens::ActiveModel {
            token_hash: Set(token.token_hash.as_str().to_owned()),
            family_id: Set(token.family_id.clone()),
            user_id: Set(token.user_id.as_str().to_owned()),
            created_at: Set(micros(token.created_at)),
            expires_at: Set(micros(token.expires_at)),
            used_at: Set(micros_opt(token.used_at)),
            revoked_at: Set(micros_opt(token.revoked_at)),
        };
        db::execute(&self.db, refresh_tokens::Entity::insert(row).as_query()).await.map_err(on("refresh token"))?;
        Ok(())
    }

    async fn use_refresh_token(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<RefreshTokenUse> {
        let now = micros(now);
        // One UPDATE with every condition in its WHERE, re-checked by the database after waiting for the
        // row's lock: of concurrent users of one token exactly one marks it used. Then one read tells
        // the winner its record and the others that the token was already used.
        let claim = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash.as_str()))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .filter(refresh_tokens::Column::ExpiresAt.gt(now));
        let claimed = db::execute(&self.db, claim.as_query()).await.map_err(on("refresh token"))? > 0;
        let query = refresh_tokens::Entity::find_by_id(token_hash.as_str());
        let row: Option<refresh_tokens::Model> =
            db::one(&self.db, query.as_query()).await.map_err(on("refresh token"))?;
        Ok(match row {
            Some(row) if claimed => RefreshTokenUse::Valid(into_record(row)),
            Some(row) if row.used_at.is_some() && row.revoked_at.is_none() && row.expires_at > now => {
                RefreshTokenUse::Reused(into_record(row))
            }
            _ => RefreshTokenUse::Invalid,
        })
    }

    async fn revoke_refresh_family(&self, family_id: &str, now: DateTime<Utc>) -> StorageResult<u64> {
        let update = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(micros(now)))
            .filter(refresh_tokens::Column::FamilyId.eq(family_id))
            .filter(refresh_tokens::Column::RevokedAt.is_null());
        db::execute(&self.db, update.as_query()).await.map_err(on("refresh token"))
    }

    async fn revoke_refresh_tokens_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<u64> {
        let update = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(micros(now)))
            .filter(refresh_tokens::Column::UserId.eq(user_id.as_str()))
            .filter(refresh_tokens::Column::RevokedAt.is_null());
        db::execute(&self.db, update.as_query()).await.map_err(on("refresh token"))
    }

    async fn cleanup_expired_refresh_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let deleted = db::delete_expired(
            &self.db,
            refresh_tokens::Entity,
            refresh_tokens::Column::TokenHash,
            refresh_tokens::Column::ExpiresAt,
            now,
            batch_size,
        )
        .await
        .map_err(on("refresh token"))?;
        tracing::debug!(deleted, "deleted expired refresh tokens");
        Ok(deleted)
    }
}
