//! Running statements. Every query of this crate is built and executed here, so that each one is
//! rendered for the connection's database with timestamps bound in the form its columns store:
//!
//! - SQLite: fixed-width UTC text (see [`crate::time`]);
//! - MySQL/MariaDB: a `DATETIME` value. sqlx would send a chrono UTC time typed as `TIMESTAMP`, whose
//!   range ends in January 2038, and MariaDB turns later values into NULL before they reach the
//!   `DATETIME(6)` column;
//! - PostgreSQL: `timestamptz`, as sqlx sends it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, Order, Query, Value};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, DeleteMany, EntityTrait, FromQueryResult, QuerySelect as _, QueryTrait as _,
    Select, SqliteTransactionMode, Statement, StatementBuilder, TransactionOptions, TransactionSession as _,
    TransactionTrait,
};

use crate::time::{micros, sqlite_text};

/// Renders `query` for `conn`'s database.
fn render<C: ConnectionTrait, Q: StatementBuilder>(conn: &C, query: &Q) -> Statement {
    let backend = conn.get_database_backend();
    let mut statement = query.build(&backend);
    if let Some(values) = statement.values.as_mut() {
        for value in &mut values.0 {
            if let Value::ChronoDateTimeUtc(at) = value {
                match backend {
                    DbBackend::Sqlite => *value = Value::String(at.map(sqlite_text)),
                    DbBackend::MySql => *value = Value::ChronoDateTime(at.map(|at| at.naive_utc())),
                    _ => {}
                }
            }
        }
    }
    statement
}

/// Runs a statement that returns no rows; returns how many rows it changed (matched, on MySQL).
pub(crate) async fn execute<C: ConnectionTrait, Q: StatementBuilder>(conn: &C, query: &Q) -> Result<u64, DbErr> {
    Ok(conn.execute_raw(render(conn, query)).await?.rows_affected())
}

/// Runs a query and decodes its first row, if any.
pub(crate) async fn one<M, C, Q>(conn: &C, query: &Q) -> Result<Option<M>, DbErr>
where
    M: FromQueryResult,
    C: ConnectionTrait,
    Q: StatementBuilder,
{
    match conn.query_one_raw(render(conn, query)).await? {
        Some(row) => M::from_query_result(&row, "").map(Some),
        None => Ok(None),
    }
}

/// Runs a query and decodes every row.
pub(crate) async fn all<M, C, Q>(conn: &C, query: &Q) -> Result<Vec<M>, DbErr>
where
    M: FromQueryResult,
    C: ConnectionTrait,
    Q: StatementBuilder,
{
    conn.query_all_raw(render(conn, query)).await?.iter().map(|row| M::from_query_result(row, "")).collect()
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
/// waiting out the busy timeout if another connection holds it), instead of failing with "database is
/// locked" when a read lock is upgraded halfway through; the other databases lock rows as they go.
pub(crate) async fn begin_write<C: TransactionTrait>(conn: &C) -> Result<C::Transaction, DbErr> {
    conn.begin_with_options(TransactionOptions {
        isolation_level: None,
        access_mode: None,
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
    })
    .await
}

/// Deletes up to `batch_size` rows of `entity` whose `expires` column is at or before `now`, oldest
/// first; returns how many. Each call is one short statement however large the backlog is.
///
/// MySQL has `DELETE ... LIMIT` but refuses `LIMIT` in an `IN (SELECT ...)` subquery; PostgreSQL (and
/// SQLite as usually compiled) are the other way round.
pub(crate) async fn delete_expired<C, E>(
    conn: &C,
    entity: E,
    key: E::Column,
    expires: E::Column,
    now: DateTime<Utc>,
    batch_size: u32,
) -> Result<u64, DbErr>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    if batch_size == 0 {
        return Ok(0);
    }
    let now = micros(now);
    let mut delete = Query::delete();
    delete.from_table(entity).and_where(Expr::col(expires).lte(now));
    if conn.get_database_backend() == DbBackend::MySql {
        delete.order_by(expires, Order::Asc).limit(u64::from(batch_size));
    } else {
        let mut batch = Query::select();
        batch
            .column(key)
            .from(entity)
            .and_where(Expr::col(expires).lte(now))
            .order_by(expires, Order::Asc)
            .limit(u64::from(batch_size));
        delete.and_where(Expr::col(key).in_subquery(batch));
    }
    execute(conn, &delete).await
}

/// Removes and returns the row `select` finds. The row is locked for a write transaction before it is
/// deleted (`SELECT ... FOR UPDATE`; on SQLite the transaction holds the database's write lock), so of
/// concurrent callers exactly one gets it. This works the same on MySQL, which has no `RETURNING`.
pub(crate) async fn take<C, E>(conn: &C, select: Select<E>, delete: DeleteMany<E>) -> Result<Option<E::Model>, DbErr>
where
    C: TransactionTrait,
    E: EntityTrait,
{
    let tx = begin_write(conn).await?;
    let row: Option<E::Model> = one(&tx, select.lock_exclusive().as_query()).await?;
    if row.is_some() {
        execute(&tx, delete.as_query()).await?;
        tx.commit().await?;
    }
    Ok(row)
}
