//! Rewriting the email keys of users created before keys were NFKC-normalised (migration
//! `20260101000007`), which SQL cannot do by itself.

use sqlx::PgPool;
use torii_core::email::normalize_email;
use torii_core::{StorageError, StorageResult};

use crate::error::on;

/// How many users one round reads.
const BATCH: i64 = 500;

/// Rewrites the key of every user still listed in `email_key_backfill` and removes it from the list.
/// Idempotent: a rewritten user leaves the list, so running it again does nothing. A user whose new
/// key belongs to another account keeps its old key and stays listed, and is logged (by id, never by
/// address) each time, until an operator resolves it; nothing is deleted or merged silently.
pub(crate) async fn backfill(pool: &PgPool) -> StorageResult<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.email, u.email_normalized FROM email_key_backfill b JOIN users u ON u.id = b.user_id \
             WHERE b.user_id > $1 ORDER BY b.user_id LIMIT $2",
        )
        .bind(&after)
        .bind(BATCH)
        .fetch_all(pool)
        .await
        .map_err(on("user"))?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.0.clone();
        for (id, email, old_key) in rows {
            rewrite(pool, &id, &normalize_email(&email), &old_key).await?;
        }
    }
}

async fn rewrite(pool: &PgPool, id: &str, key: &str, old_key: &str) -> StorageResult<()> {
    let mut tx = pool.begin().await.map_err(on("user"))?;
    if key != old_key {
        let updated = sqlx::query("UPDATE users SET email_normalized = $1 WHERE id = $2")
            .bind(key)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(on("user"));
        match updated {
            Ok(_) => {}
            Err(StorageError::Conflict(_)) => {
                // Ended first: the pool may have no other connection, and PostgreSQL refuses further
                // statements in a transaction after a failed one.
                tx.rollback().await.map_err(on("user"))?;
                let holder: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = $1")
                    .bind(key)
                    .fetch_optional(pool)
                    .await
                    .map_err(on("user"))?;
                tracing::warn!(
                    user_id = %id,
                    holder = holder.as_deref().unwrap_or("?"),
                    "two accounts have addresses that are now one; this one keeps its old key and cannot be \
                     found by address until one of the addresses is changed (see email_key_backfill)"
                );
                return Ok(());
            }
            Err(other) => return Err(other),
        }
    }
    sqlx::query("DELETE FROM email_key_backfill WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(on("user"))?;
    tx.commit().await.map_err(on("user"))
}
