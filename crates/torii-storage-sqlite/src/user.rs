//! Users.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use torii_core::email::normalize_email;
use torii_core::storage::{DroppedCredentials, UserStorage};
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, from_micros_opt, to_micros, to_micros_opt};

/// A `users` row as SQLite returns it.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    name: Option<String>,
    email: String,
    email_verified_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    fn into_user(self) -> StorageResult<User> {
        Ok(User {
            id: UserId::new(self.id),
            name: self.name,
            email: self.email,
            email_verified_at: from_micros_opt(self.email_verified_at, "users.email_verified_at")?,
            created_at: from_micros(self.created_at, "users.created_at")?,
            updated_at: from_micros(self.updated_at, "users.updated_at")?,
        })
    }
}

/// Inserts a user on `conn` (a pooled connection or a transaction) and returns it as stored.
///
/// Returning the stored row rather than echoing the input means the caller gets exactly what a later
/// read gives (timestamps truncated to the microsecond).
pub(crate) async fn insert_user(conn: &mut SqliteConnection, user: &NewUser) -> StorageResult<User> {
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, name, email, email_normalized, email_verified_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) \
         RETURNING id, name, email, email_verified_at, created_at, updated_at",
    )
    .bind(user.id.as_str())
    .bind(user.name.as_deref())
    .bind(user.email.as_str())
    .bind(normalize_email(&user.email))
    .bind(to_micros_opt(user.email_verified_at))
    .bind(to_micros(user.created_at))
    .bind(to_micros(user.created_at))
    .fetch_one(conn)
    .await
    .map_err(on("user"))?;
    tracing::debug!(user_id = %user.id, "created user");
    row.into_user()
}

impl UserStorage for SqliteRepositoryProvider {
    async fn create_user(&self, user: &NewUser) -> StorageResult<User> {
        let mut conn = self.pool.acquire().await.map_err(on("user"))?;
        insert_user(&mut conn, user).await
    }

    async fn get_user(&self, id: &UserId) -> StorageResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as("SELECT id, name, email, email_verified_at, created_at, updated_at FROM users WHERE id = ?")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(on("user"))?;
        row.map(UserRow::into_user).transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> StorageResult<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, name, email, email_verified_at, created_at, updated_at FROM users WHERE email_normalized = ?",
        )
        .bind(normalize_email(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(on("user"))?;
        row.map(UserRow::into_user).transpose()
    }

    async fn update_user(&self, user: &User) -> StorageResult<User> {
        // One statement: the existence check, the uniqueness check (by the index) and the write are
        // atomic, and `created_at` is not in the SET list so it can never change.
        let row: Option<UserRow> = sqlx::query_as(
            "UPDATE users SET name = ?, email = ?, email_normalized = ?, email_verified_at = ?, updated_at = ? \
             WHERE id = ? \
             RETURNING id, name, email, email_verified_at, created_at, updated_at",
        )
        .bind(user.name.as_deref())
        .bind(user.email.as_str())
        .bind(normalize_email(&user.email))
        .bind(to_micros_opt(user.email_verified_at))
        .bind(to_micros(user.updated_at))
        .bind(user.id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("user"))?;
        match row {
            Some(row) => row.into_user(),
            None => Err(StorageError::NotFound("user")),
        }
    }

    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<bool> {
        let result = sqlx::query("UPDATE users SET email_verified_at = ? WHERE id = ?")
            .bind(to_micros(at))
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("user"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn prove_email(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<Option<DroppedCredentials>> {
        // BEGIN IMMEDIATE: the write lock up front, so of two concurrent proofs one waits and then finds
        // the address verified.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(on("user"))?;
        let verified = sqlx::query("UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL")
            .bind(to_micros(at))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(on("user"))?;
        if verified.rows_affected() == 0 {
            return Ok(None);
        }
        let mut dropped = DroppedCredentials::default();
        dropped.password = sqlx::query("DELETE FROM passwords WHERE user_id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(on("user"))?
            .rows_affected()
            > 0;
        dropped.passkeys = sqlx::query_scalar("DELETE FROM passkeys WHERE user_id = ? RETURNING credential_id")
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(on("passkey"))?;
        dropped.provider_links =
            sqlx::query_as("DELETE FROM oauth_accounts WHERE user_id = ? RETURNING provider, subject")
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(on("oauth account"))?;
        for statement in [
            "DELETE FROM refresh_tokens WHERE user_id = ?",
            "DELETE FROM passkey_challenges WHERE user_id = ?",
            "DELETE FROM oauth_states WHERE link_user_id = ?",
        ] {
            sqlx::query(statement).bind(id.as_str()).execute(&mut *tx).await.map_err(on("user"))?;
        }
        tx.commit().await.map_err(on("user"))?;
        dropped.passkeys.sort();
        dropped.provider_links.sort();
        Ok(Some(dropped))
    }

    async fn delete_user(&self, id: &UserId) -> StorageResult<bool> {
        // `ON DELETE CASCADE` removes the dependent rows when foreign keys are enforced. They are also
        // deleted explicitly, in the same transaction, so a pool built without `foreign_keys = ON` can
        // never leave a deleted user with a live session. BEGIN IMMEDIATE takes the write lock up front
        // (waiting out the busy timeout if needed) rather than failing when a read lock is upgraded.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(on("user"))?;
        let email: Option<String> = sqlx::query_scalar("DELETE FROM users WHERE id = ? RETURNING email_normalized")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(on("user"))?;
        let Some(email_normalized) = email else {
            return Ok(false);
        };
        for statement in [
            "DELETE FROM sessions WHERE user_id = ?",
            "DELETE FROM passwords WHERE user_id = ?",
            "DELETE FROM oauth_accounts WHERE user_id = ?",
            "DELETE FROM oauth_states WHERE link_user_id = ?",
            "DELETE FROM passkeys WHERE user_id = ?",
            "DELETE FROM passkey_challenges WHERE user_id = ?",
            "DELETE FROM one_time_tokens WHERE user_id = ?",
            "DELETE FROM refresh_tokens WHERE user_id = ?",
        ] {
            sqlx::query(statement).bind(id.as_str()).execute(&mut *tx).await.map_err(on("user"))?;
        }
        // Tokens sent to the address before the account existed carry no user id; they belong to the
        // account all the same and must not outlive it.
        sqlx::query("DELETE FROM one_time_tokens WHERE email_normalized = ?")
            .bind(email_normalized)
            .execute(&mut *tx)
            .await
            .map_err(on("user"))?;
        tx.commit().await.map_err(on("user"))?;
        tracing::debug!(user_id = %id, "deleted user");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::tests::{memory, new_user, t};

    #[tokio::test]
    async fn creates_and_reads_back_exact_values() {
        let db = memory().await;
        let mut new = new_user("Zoë@Example.COM");
        new.name = Some("Robert'); DROP TABLE users;-- ünïcødé".repeat(200));
        new.email_verified_at = Some(t(5));
        let created = db.create_user(&new).await.unwrap();
        assert_eq!(created, new.to_user());
        assert_eq!(db.get_user(&new.id).await.unwrap(), Some(created.clone()));
        assert_eq!(db.get_user_by_email("  zoë@example.com ").await.unwrap(), Some(created));
        assert!(matches!(db.create_user(&new_user("ZOË@example.com")).await, Err(StorageError::Conflict("user"))));
    }

    #[tokio::test]
    async fn update_checks_existence_and_conflicts_and_keeps_created_at() {
        let db = memory().await;
        let alice = db.create_user(&new_user("alice@example.com")).await.unwrap();
        let bob = db.create_user(&new_user("bob@example.com")).await.unwrap();

        let mut changed = alice.clone();
        changed.email = "ALICE@example.com".into();
        changed.created_at = t(999);
        changed.updated_at = t(50);
        let stored = db.update_user(&changed).await.unwrap();
        assert_eq!(stored.created_at, alice.created_at);
        assert_eq!(stored.updated_at, t(50));
        assert_eq!(stored.email, "ALICE@example.com");

        changed.email = "Bob@Example.com".into();
        assert!(matches!(db.update_user(&changed).await, Err(StorageError::Conflict("user"))));
        let mut ghost = bob.clone();
        ghost.id = UserId::new("ghost");
        ghost.email = "ghost@example.com".into();
        assert!(matches!(db.update_user(&ghost).await, Err(StorageError::NotFound("user"))));
    }

    #[tokio::test]
    async fn corrupt_timestamps_are_reported_as_corrupt() {
        let db = memory().await;
        let user = db.create_user(&new_user("c@example.com")).await.unwrap();
        sqlx::query("UPDATE users SET created_at = ? WHERE id = ?")
            .bind(i64::MAX)
            .bind(user.id.as_str())
            .execute(db.pool())
            .await
            .unwrap();
        assert!(matches!(db.get_user(&user.id).await, Err(StorageError::Corrupt(_))));
        sqlx::query("UPDATE users SET created_at = 'yesterday' WHERE id = ?")
            .bind(user.id.as_str())
            .execute(db.pool())
            .await
            .unwrap();
        let err = db.get_user(&user.id).await;
        assert!(matches!(err, Err(StorageError::Corrupt(ref m)) if !m.contains("yesterday")), "{err:?}");
    }
}
