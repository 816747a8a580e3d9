//! Password hashes (PHC strings; the password itself never reaches storage).

use chrono::Utc;
use torii_core::storage::PasswordStorage;
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::micros;
use crate::user::insert_user;

impl PasswordStorage for PostgresRepositoryProvider {
    async fn create_user_with_password(&self, user: &NewUser, password_hash: &str) -> StorageResult<User> {
        // Both inserts or neither: an error returns early and dropping the transaction rolls it back.
        // Two registrations of one email cannot both commit: the second waits on the unique index for
        // the first to finish, then fails with a unique violation (Conflict).
        let mut tx = self.pool.begin().await.map_err(on("user"))?;
        let created = insert_user(&mut tx, user).await?;
        sqlx::query("INSERT INTO passwords (user_id, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3)")
            .bind(user.id.as_str())
            .bind(password_hash)
            .bind(micros(user.created_at))
            .execute(&mut *tx)
            .await
            .map_err(on("password"))?;
        tx.commit().await.map_err(on("user"))?;
        Ok(created)
    }

    async fn set_password_hash(&self, user_id: &UserId, hash: &str) -> StorageResult<()> {
        if !storable(&[user_id.as_str()]) {
            return Err(StorageError::NotFound("user"));
        }
        // The trait passes no time, and the row's timestamps are bookkeeping only (Torii never reads
        // them back), so the system clock is good enough here. An unknown user fails the foreign key,
        // which maps to NotFound("user").
        sqlx::query(
            "INSERT INTO passwords (user_id, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = EXCLUDED.updated_at",
        )
        .bind(user_id.as_str())
        .bind(hash)
        .bind(micros(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(on("password"))?;
        tracing::debug!(user_id = %user_id, "set password hash");
        Ok(())
    }

    async fn get_password_hash(&self, user_id: &UserId) -> StorageResult<Option<String>> {
        if !storable(&[user_id.as_str()]) {
            return Ok(None);
        }
        sqlx::query_scalar("SELECT password_hash FROM passwords WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(on("password"))
    }

    async fn remove_password_hash(&self, user_id: &UserId) -> StorageResult<bool> {
        if !storable(&[user_id.as_str()]) {
            return Ok(false);
        }
        let result = sqlx::query("DELETE FROM passwords WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("password"))?;
        Ok(result.rows_affected() > 0)
    }
}
