//! Rewriting the email keys of users created before keys were NFKC-normalised (migration
//! `m20260101_000007`), which SQL cannot do by itself.

use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Order, Query};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, FromQueryResult, QueryFilter as _, QueryTrait as _,
};
use torii_core::email::normalize_email;
use torii_core::{StorageError, StorageResult};

use crate::db::{self, begin_write};
use crate::entity::users;
use crate::error::on;

/// How many users one round reads.
const BATCH: u64 = 500;

/// A listed user.
#[derive(FromQueryResult)]
struct Pending {
    id: String,
    email: String,
    email_normalized: String,
}

/// Rewrites the key of every user still listed in `email_key_backfill` and removes it from the list.
/// Idempotent: a rewritten user leaves the list, so running it again does nothing. A user whose new
/// key belongs to another account keeps its old key and stays listed, and is logged (by id, never by
/// address) each time, until an operator resolves it; nothing is deleted or merged silently.
pub(crate) async fn backfill(conn: &DatabaseConnection) -> StorageResult<()> {
    let list = Alias::new("email_key_backfill");
    let listed = (list.clone(), Alias::new("user_id"));
    let users = Alias::new("users");
    let mut after = String::new();
    loop {
        let query = Query::select()
            .column((users.clone(), Alias::new("id")))
            .column((users.clone(), Alias::new("email")))
            .column((users.clone(), Alias::new("email_normalized")))
            .from(list.clone())
            .inner_join(users.clone(), Expr::col((users.clone(), Alias::new("id"))).equals(listed.clone()))
            .and_where(Expr::col(listed.clone()).gt(after.clone()))
            .order_by(listed.clone(), Order::Asc)
            .limit(BATCH)
            .to_owned();
        let rows: Vec<Pending> = db::all(conn, &query).await.map_err(on("user"))?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.id.clone();
        for row in rows {
            rewrite(conn, &row.id, &normalize_email(&row.email), &row.email_normalized).await?;
        }
    }
}

async fn rewrite(conn: &DatabaseConnection, id: &str, key: &str, old_key: &str) -> StorageResult<()> {
    let tx = begin_write(conn).await.map_err(on("user"))?;
    if key != old_key {
        let update = users::Entity::update_many()
            .col_expr(users::Column::EmailNormalized, Expr::value(key))
            .filter(users::Column::Id.eq(id));
        match db::execute(&tx, update.as_query()).await.map_err(on("user")) {
            Ok(_) => {}
            Err(StorageError::Conflict(_)) => {
                tracing::warn!(
                    user_id = %id,
                    "two accounts have addresses that are now one; this one keeps its old key and cannot be \
                     found by address until one of the addresses is changed (see email_key_backfill)"
                );
                return Ok(());
            }
            Err(other) => return Err(other),
        }
    }
    let done = Query::delete()
        .from_table(Alias::new("email_key_backfill"))
        .and_where(Expr::col(Alias::new("user_id")).eq(id))
        .to_owned();
    db::execute(&tx, &done).await.map_err(on("user"))?;
    tx.commit().await.map_err(on("user"))
}
