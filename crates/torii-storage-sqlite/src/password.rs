//! Password hashes (PHC strings; the password itself never reaches storage).

use chrono::Utc;
use torii_core::storage::PasswordStorage;
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::to_micros;
use crate::user::insert_user;

impl PasswordStorage for SqliteRepositoryProvider {
    async fn create_user_with_password(&self, user: &NewUser, password_hash: &str) -> StorageResult<User> {
        // BEGIN IMMEDIATE: both inserts or neither, and the write lock is taken up front.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(on("user"))?;
        let created = insert_user(&mut tx, user).await?;
        sqlx::query("INSERT INTO passwords (user_id, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)")
            .bind(user.id.as_str())
            .bind(password_hash)
            .bind(to_micros(user.created_at))
            .bind(to_micros(user.created_at))
            .execute(&mut *tx)
            .await
            .map_err(on("password"))?;
        tx.commit().await.map_err(on("user"))?;
        Ok(created)
    }

    async fn set_password_hash(&self, user_id: &UserId, hash: &str) -> StorageResult<()> {
        // The trait passes no time, and the row's timestamps are bookkeeping only (Torii never reads
        // them back), so the system clock is good enough here.
        let now = to_micros(Utc::now());
        // `WHERE EXISTS` refuses an unknown user even on a pool without foreign keys. (The WHERE also
        // tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.)
        let result = sqlx::query(
            "INSERT INTO passwords (user_id, password_hash, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?1) \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
        )
        .bind(user_id.as_str())
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(on("password"))?;
        if result.rows_affected() == 0 {
            return Err(StorageError::NotFound("user"));
        }
        tracing::debug!(user_id = %user_id, "set password hash");
        Ok(())
    }

    async fn get_password_hash(&self, user_id: &UserId) -> StorageResult<Option<String>> {
        sqlx::query_scalar("SELECT password_hash FROM passwords WHERE user_id = ?")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(on("password"))
    }

    async fn remove_password_hash(&self, user_id: &UserId) -> StorageResult<bool> {
        let result = sqlx::query("DELETE FROM passwords WHERE user_id = ?")
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("password"))?;
        Ok(result.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use torii_core::storage::UserStorage as _;

    use super::*;
    use crate::tests::{memory, new_user};

    #[tokio::test]
    async fn create_with_password_is_all_or_nothing() {
        let db = memory().await;
        let alice = new_user("alice@example.com");
        db.create_user_with_password(&alice, "$argon2id$one").await.unwrap();
        assert_eq!(db.get_password_hash(&alice.id).await.unwrap().as_deref(), Some("$argon2id$one"));

        // Same email, new id: the user insert fails, so no password row may be left behind.
        let clash = new_user("ALICE@example.com");
        assert!(matches!(db.create_user_with_password(&clash, "h").await, Err(StorageError::Conflict("user"))));
        assert_eq!(db.get_password_hash(&clash.id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn set_replace_remove() {
        let db = memory().await;
        let user = db.create_user(&new_user("p@example.com")).await.unwrap();
        assert!(matches!(db.set_password_hash(&UserId::new("ghost"), "h").await, Err(StorageError::NotFound("user"))));
        db.set_password_hash(&user.id, "first").await.unwrap();
        db.set_password_hash(&user.id, "second").await.unwrap();
        assert_eq!(db.get_password_hash(&user.id).await.unwrap().as_deref(), Some("second"));
        assert!(db.remove_password_hash(&user.id).await.unwrap());
        assert!(!db.remove_password_hash(&user.id).await.unwrap());
        assert_eq!(db.get_password_hash(&user.id).await.unwrap(), None);
    }
}
