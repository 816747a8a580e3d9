//! Rewriting the email keys of users created before keys were NFKC-normalised (migration
//! `20260101000007`), which SQL cannot do by itself.

use sqlx::SqlitePool;
use torii_core::email::normalize_email;
use torii_core::{StorageError, StorageResult};

use crate::error::on;

/// How many users one round reads.
const BATCH: i64 = 500;

/// Rewrites the key of every user still listed in `email_key_backfill` and removes it from the list.
/// Idempotent: a rewritten user leaves the list, so running it again does nothing. A user whose new
/// key belongs to another account keeps its old key and stays listed, and is logged (by id, never by
/// address) each time, until an operator resolves it; nothing is deleted or merged silently.
pub(crate) async fn backfill(pool: &SqlitePool) -> StorageResult<()> {
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.email, u.email_normalized FROM email_key_backfill b JOIN users u ON u.id = b.user_id \
             WHERE b.user_id > ? ORDER BY b.user_id LIMIT ?",
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

async fn rewrite(pool: &SqlitePool, id: &str, key: &str, old_key: &str) -> StorageResult<()> {
    let mut tx = pool.begin().await.map_err(on("user"))?;
    if key != old_key {
        let updated = sqlx::query("UPDATE users SET email_normalized = ? WHERE id = ?")
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
                let holder: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email_normalized = ?")
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
    sqlx::query("DELETE FROM email_key_backfill WHERE user_id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(on("user"))?;
    tx.commit().await.map_err(on("user"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use torii_core::storage::UserStorage as _;

    use crate::tests::memory;

    /// Users as a release before migration 000007 left them: keys only lower-cased, and listed for the
    /// backfill (as the migration lists every existing user).
    async fn old_user(db: &crate::SqliteRepositoryProvider, id: &str, email: &str) {
        sqlx::query("INSERT INTO users (id, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, 0, 0)")
            .bind(id)
            .bind(email)
            .bind(email.to_lowercase())
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO email_key_backfill (user_id) VALUES (?)").bind(id).execute(db.pool()).await.unwrap();
    }

    async fn listed(db: &crate::SqliteRepositoryProvider) -> Vec<String> {
        sqlx::query_scalar("SELECT user_id FROM email_key_backfill ORDER BY user_id")
            .fetch_all(db.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn migrate_rewrites_old_keys_and_keeps_colliding_accounts_listed() {
        let db = memory().await;
        old_user(&db, "a-plain", "fw@example.com").await;
        old_user(&db, "b-wide", "ｆｗ@example.com").await;
        old_user(&db, "c-kelvin", "\u{212A}ate@example.com").await;
        old_user(&db, "d-wide-alone", "ＢＯＢ@example.com").await;

        db.migrate().await.unwrap();
        // Rewritten: found by any spelling, the address kept as typed.
        let bob = db.get_user_by_email("bob@example.com").await.unwrap().unwrap();
        assert_eq!((bob.id.as_str(), bob.email.as_str()), ("d-wide-alone", "ＢＯＢ@example.com"));
        let kate = db.get_user_by_email("KATE@example.com").await.unwrap().unwrap();
        assert_eq!(kate.id.as_str(), "c-kelvin");
        // Two accounts whose addresses are now one: the one holding the key keeps it; the other keeps
        // its old key and its data, and stays listed for an operator.
        assert_eq!(db.get_user_by_email("ｆｗ@example.com").await.unwrap().unwrap().id.as_str(), "a-plain");
        assert!(db.get_user(&torii_core::UserId::new("b-wide")).await.unwrap().is_some());
        assert_eq!(listed(&db).await, ["b-wide"]);

        // Idempotent: nothing changes on the next run.
        db.migrate().await.unwrap();
        assert_eq!(listed(&db).await, ["b-wide"]);
        assert_eq!(db.get_user_by_email("bob@example.com").await.unwrap().unwrap().id.as_str(), "d-wide-alone");
    }
}
