//! Server-side sessions, keyed by the SHA-256 of their token.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QueryTrait as _};
use torii_core::storage::SessionStorage;
use torii_core::{SessionId, SessionRecord, StorageResult, TokenHash, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::sessions;
use crate::error::on;
use crate::time::micros;

/// The session record a row describes.
fn into_record(row: sessions::Model) -> SessionRecord {
    SessionRecord {
        id: SessionId::new(row.id),
        token_hash: TokenHash::from_stored(row.token_hash),
        user_id: UserId::new(row.user_id),
        user_agent: row.user_agent,
        ip_address: row.ip_address,
        created_at: row.created_at,
        updated_at: row.updated_at,
        expires_at: row.expires_at,
    }
}

impl SessionStorage for SeaORMRepositoryProvider {
    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        let row = sessions::ActiveModel {
            token_hash: Set(session.token_hash.as_str().to_owned()),
            id: Set(session.id.as_str().to_owned()),
            user_id: Set(session.user_id.as_str().to_owned()),
            user_agent: Set(session.user_agent.clone()),
            ip_address: Set(session.ip_address.clone()),
            created_at: Set(micros(session.created_at)),
            updated_at: Set(micros(session.updated_at)),
            expires_at: Set(micros(session.expires_at)),
        };
        db::execute(&self.db, sessions::Entity::insert(row).as_query()).await.map_err(on("session"))?;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "created session");
        Ok(())
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        let query =
            sessions::Entity::find_by_id(token_hash.as_str()).filter(sessions::Column::ExpiresAt.gt(micros(now)));
        let row: Option<sessions::Model> = db::one(&self.db, query.as_query()).await.map_err(on("session"))?;
        Ok(row.map(into_record))
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        let update = sessions::Entity::update_many()
            .col_expr(sessions::Column::UpdatedAt, Expr::value(micros(updated_at)))
            .filter(sessions::Column::TokenHash.eq(token_hash.as_str()));
        Ok(db::execute(&self.db, update.as_query()).await.map_err(on("session"))? > 0)
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        // The id breaks ties so sessions created in the same microsecond still list in a stable order.
        let query = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user_id.as_str()))
            .filter(sessions::Column::ExpiresAt.gt(micros(now)))
            .order_by_desc(sessions::Column::CreatedAt)
            .order_by_desc(sessions::Column::Id);
        let rows: Vec<sessions::Model> = db::all(&self.db, query.as_query()).await.map_err(on("session"))?;
        Ok(rows.into_iter().map(into_record).collect())
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        let delete = sessions::Entity::delete_many().filter(sessions::Column::TokenHash.eq(token_hash.as_str()));
        Ok(db::execute(&self.db, delete.as_query()).await.map_err(on("session"))? > 0)
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        let delete = sessions::Entity::delete_many()
            .filter(sessions::Column::Id.eq(session_id.as_str()))
            .filter(sessions::Column::UserId.eq(user_id.as_str()));
        Ok(db::execute(&self.db, delete.as_query()).await.map_err(on("session"))? > 0)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        let mut delete = sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id.as_str()));
        if let Some(keep) = keep {
            delete = delete.filter(sessions::Column::Id.ne(keep.as_str()));
        }
        let deleted = db::execute(&self.db, delete.as_query()).await.map_err(on("session"))?;
        tracing::debug!(user_id = %user_id, deleted, "deleted sessions of user");
        Ok(deleted)
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let deleted = db::delete_expired(
            &self.db,
            sessions::Entity,
            sessions::Column::TokenHash,
            sessions::Column::ExpiresAt,
            now,
            batch_size,
        )
        .await
        .map_err(on("session"))?;
        tracing::debug!(deleted, "deleted expired sessions");
        Ok(deleted)
    }
}
