//! Rate-limit counters: one row per key hash and epoch-aligned window, decided as a sliding window.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Order, Query};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DbBackend, DbErr, EntityTrait as _, FromQueryResult, QueryFilter as _,
    QuerySelect as _, QueryTrait as _, TransactionSession as _, TransactionTrait,
};
use torii_core::StorageResult;
use torii_core::storage::{RateLimitDecision, RateLimitStorage, RateLimitWindow};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::rate_limits::{self, Column};
use crate::error::on;
use crate::time::micros;

/// How often a MySQL hit starts over when its row was cleaned up between creating and counting it
/// (possible only when the caller's clock is far behind the cleaner's).
const MYSQL_ATTEMPTS: usize = 3;

/// The one column a hit reads back.
#[derive(FromQueryResult)]
struct Hits {
    hits: i64,
}

/// A new row for `slot` with `hits` hits.
fn row(slot: &RateLimitWindow, hits: i64) -> rate_limits::ActiveModel {
    rate_limits::ActiveModel {
        key_hash: Set(slot.key_hash.clone()),
        window_start: Set(micros(slot.start)),
        hits: Set(hits),
        expires_at: Set(micros(slot.expires_at())),
    }
}

/// PostgreSQL and SQLite: one upsert that returns the count it made. Concurrent hits on one row queue on
/// its lock (the database's write lock, on SQLite), so each sees its own count.
async fn upsert_returning<C: ConnectionTrait>(conn: &C, slot: &RateLimitWindow) -> Result<Option<i64>, DbErr> {
    let mut upsert = OnConflict::columns([Column::KeyHash, Column::WindowStart]);
    upsert.value(Column::Hits, Expr::cust("\"rate_limits\".\"hits\" + 1"));
    let mut insert = rate_limits::Entity::insert(row(slot, 1)).on_conflict(upsert).into_query();
    insert.returning_col(Column::Hits);
    Ok(db::one::<Hits, _, _>(conn, &insert).await?.map(|row| row.hits))
}

/// MySQL has no `RETURNING`. The row is created if missing (a no-op on a duplicate, committed at once,
/// so no transaction holds a lock it must later upgrade: the pattern that deadlocks concurrent
/// `INSERT ... ON DUPLICATE KEY UPDATE`s), then counted and read back in one transaction that holds the
/// row's lock from the `UPDATE` to the commit, so no other hit can count in between.
async fn create_then_count<C: ConnectionTrait + TransactionTrait>(
    conn: &C,
    slot: &RateLimitWindow,
) -> Result<Option<i64>, DbErr> {
    let this_row = || {
        Expr::col(Column::KeyHash).eq(slot.key_hash.as_str()).and(Expr::col(Column::WindowStart).eq(micros(slot.start)))
    };
    for _ in 0..MYSQL_ATTEMPTS {
        let mut ensure = OnConflict::columns([Column::KeyHash, Column::WindowStart]);
        ensure.do_nothing_on([Column::KeyHash]);
        let insert = rate_limits::Entity::insert(row(slot, 0)).on_conflict(ensure);
        db::execute(conn, insert.as_query()).await?;

        let tx = db::begin_write(conn).await?;
        let mut count = Query::update();
        count.table(rate_limits::Entity).value(Column::Hits, Expr::col(Column::Hits).add(1)).and_where(this_row());
        db::execute(&tx, &count).await?;
        let read = rate_limits::Entity::find().select_only().column(Column::Hits).filter(this_row());
        let hits: Option<Hits> = db::one(&tx, read.as_query()).await?;
        tx.commit().await?;
        if let Some(hits) = hits {
            return Ok(Some(hits.hits));
        }
    }
    Ok(None)
}

/// The previous window's count (it no longer changes, so reading it apart from the hit is as good as
/// atomic).
async fn previous_hits<C: ConnectionTrait>(conn: &C, slot: &RateLimitWindow) -> Result<i64, DbErr> {
    let read = rate_limits::Entity::find().select_only().column(Column::Hits).filter(
        Expr::col(Column::KeyHash)
            .eq(slot.key_hash.as_str())
            .and(Expr::col(Column::WindowStart).eq(micros(slot.previous_start()))),
    );
    let hits: Option<Hits> = db::one(conn, read.as_query()).await?;
    Ok(hits.map_or(0, |row| row.hits))
}

impl RateLimitStorage for SeaORMRepositoryProvider {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        let slot = RateLimitWindow::containing(key, now, window)?;
        let hits = match self.db.get_database_backend() {
            DbBackend::MySql => create_then_count(&self.db, &slot).await,
            _ => upsert_returning(&self.db, &slot).await,
        }
        .map_err(on("rate limit"))?
        .ok_or_else(|| torii_core::StorageError::Corrupt("a rate-limit counter could not be read back".to_owned()))?;
        let previous = previous_hits(&self.db, &slot).await.map_err(on("rate limit"))?;
        let count = |hits: i64| u64::try_from(hits).unwrap_or(0);
        Ok(RateLimitDecision::sliding(count(previous), count(hits), max, now, &slot))
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        let delete = rate_limits::Entity::delete_many().filter(Column::KeyHash.eq(RateLimitWindow::hash_key(key)));
        db::execute(&self.db, delete.as_query()).await.map_err(on("rate limit"))?;
        Ok(())
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        if batch_size == 0 {
            return Ok(0);
        }
        let now = micros(now);
        let mut delete = Query::delete();
        delete.from_table(rate_limits::Entity).and_where(Expr::col(Column::ExpiresAt).lte(now));
        // As in `db::delete_expired`: MySQL takes `DELETE ... LIMIT` but no `LIMIT` in a subquery; the
        // others the other way round. The key has two columns here, hence the row-value comparison.
        if self.db.get_database_backend() == DbBackend::MySql {
            delete.order_by(Column::ExpiresAt, Order::Asc).limit(u64::from(batch_size));
        } else {
            let mut batch = Query::select();
            batch
                .columns([Column::KeyHash, Column::WindowStart])
                .from(rate_limits::Entity)
                .and_where(Expr::col(Column::ExpiresAt).lte(now))
                .order_by(Column::ExpiresAt, Order::Asc)
                .limit(u64::from(batch_size));
            delete.and_where(
                Expr::tuple([Expr::col(Column::KeyHash), Expr::col(Column::WindowStart)]).in_subquery(batch),
            );
        }
        let deleted = db::execute(&self.db, &delete).await.map_err(on("rate limit"))?;
        tracing::debug!(deleted, "deleted expired rate-limit counters");
        Ok(deleted)
    }
}
