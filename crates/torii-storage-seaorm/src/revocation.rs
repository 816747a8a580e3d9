//! Revocation of stateless (JWT) sessions: the token-id denylist and per-user "not before" times.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query, SelectStatement};
use sea_orm::{DbBackend, EntityTrait as _, FromQueryResult, QueryTrait as _};
use torii_core::storage::TokenRevocationStorage;
use torii_core::{StorageResult, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::{revoked_tokens, session_revocations};
use crate::error::on;
use crate::time::micros;

/// `table.column` set to the later of its stored value and the value being inserted: the upsert that
/// keeps a revocation from ever being shortened.
fn later_of(backend: DbBackend, table: &str, column: &str) -> Expr {
    Expr::cust(match backend {
        DbBackend::MySql => format!("GREATEST(`{column}`, VALUES(`{column}`))"),
        // Fixed-width text (see `crate::time`) compares as time.
        DbBackend::Sqlite => format!("MAX(\"{table}\".\"{column}\", \"excluded\".\"{column}\")"),
        _ => format!("GREATEST(\"{table}\".\"{column}\", \"excluded\".\"{column}\")"),
    })
}

/// `(SELECT COUNT(*) FROM ...)` as an expression.
fn count_of(select: SelectStatement) -> Expr {
    Expr::SubQuery(None, Box::new(select.into()))
}

/// The one column of [`TokenRevocationStorage::is_token_revoked`]'s query.
#[derive(FromQueryResult)]
struct Revoked {
    revoked: i64,
}

impl TokenRevocationStorage for SeaORMRepositoryProvider {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        let row = revoked_tokens::ActiveModel {
            token_id: Set(token_id.to_owned()),
            user_id: Set(user_id.as_str().to_owned()),
            expires_at: Set(micros(expires_at)),
        };
        let mut upsert = OnConflict::column(revoked_tokens::Column::TokenId);
        upsert.value(
            revoked_tokens::Column::ExpiresAt,
            later_of(self.db.get_database_backend(), "revoked_tokens", "expires_at"),
        );
        let insert = revoked_tokens::Entity::insert(row).on_conflict(upsert);
        db::execute(&self.db, insert.as_query()).await.map_err(on("revoked token"))?;
        Ok(())
    }

    async fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        // One round trip: both lookups are primary-key probes, counted in one SELECT (COUNT is a
        // 64-bit integer on every database, unlike a boolean expression).
        let denied = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(revoked_tokens::Entity)
            .and_where(Expr::col(revoked_tokens::Column::TokenId).eq(token_id))
            .to_owned();
        let cut_off = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(session_revocations::Entity)
            .and_where(Expr::col(session_revocations::Column::UserId).eq(user_id.as_str()))
            .and_where(Expr::col(session_revocations::Column::NotBefore).gt(micros(issued_at)))
            .to_owned();
        let query = Query::select().expr_as(count_of(denied).add(count_of(cut_off)), "revoked").to_owned();
        let row: Option<Revoked> = db::one(&self.db, &query).await.map_err(on("revoked token"))?;
        Ok(row.is_some_and(|row| row.revoked > 0))
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        let row = session_revocations::ActiveModel {
            user_id: Set(user_id.as_str().to_owned()),
            not_before: Set(micros(not_before)),
        };
        let mut upsert = OnConflict::column(session_revocations::Column::UserId);
        upsert.value(
            session_revocations::Column::NotBefore,
            later_of(self.db.get_database_backend(), "session_revocations", "not_before"),
        );
        let insert = session_revocations::Entity::insert(row).on_conflict(upsert);
        db::execute(&self.db, insert.as_query()).await.map_err(on("session revocation"))?;
        Ok(())
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        let query = session_revocations::Entity::find_by_id(user_id.as_str());
        let row: Option<session_revocations::Model> =
            db::one(&self.db, query.as_query()).await.map_err(on("session revocation"))?;
        Ok(row.map(|row| row.not_before))
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        let deleted = db::delete_expired(
            &self.db,
            revoked_tokens::Entity,
            revoked_tokens::Column::TokenId,
            revoked_tokens::Column::ExpiresAt,
            now,
            batch_size,
        )
        .await
        .map_err(on("revoked token"))?;
        tracing::debug!(deleted, "deleted expired revoked-token entries");
        Ok(deleted)
    }
}
