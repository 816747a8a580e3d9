//! Users.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use torii_core::email::normalize_email;
use torii_core::storage::{DroppedCredentials, UserStorage};
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::PostgresRepositoryProvider;
use crate::error::{on, storable};
use crate::time::{micros, micros_opt};

/// A `users` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    name: Option<String>,
    email: String,
    email_verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserRow {
    fn into_user(self) -> User {
        User {
            id: UserId::new(self.id),
            name: self.name,
            email: self.email,
            email_verified_at: self.email_verified_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Inserts a user on `conn` (a pooled connection or a transaction) and returns it as stored.
///
/// Returning the stored row rather than echoing the input means the caller gets exactly what a later
/// read gives (timestamps truncated to the microsecond).
pub(crate) async fn insert_user(conn: &mut PgConnection, user: &NewUser) -> StorageResult<User> {
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, name, email, email_normalized, email_verified_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         RETURNING id, name, email, email_verified_at, created_at, updated_at",
    )
    .bind(user.id.as_str())
    .bind(user.name.as_deref())
    .bind(user.email.as_str())
    .bind(normalize_email(&user.email))
    .bind(micros_opt(user.email_verified_at))
    .bind(micros(user.created_at))
    .fetch_one(conn)
    .await
    .map_err(on("user"))?;
    tracing::debug!(user_id = %user.id, "created user");
    Ok(row.into_user())
}

impl UserStorage for PostgresRepositoryProvider {
    async fn create_user(&self, user: &NewUser) -> StorageResult<User> {
        let mut conn = self.pool.acquire().await.map_err(on("user"))?;
        insert_user(&mut conn, user).await
    }

    async fn get_user(&self, id: &UserId) -> StorageResult<Option<User>> {
        if !storable(&[id.as_str()]) {
            return Ok(None);
        }
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, name, email, email_verified_at, created_at, updated_at FROM users WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("user"))?;
        Ok(row.map(UserRow::into_user))
    }

    async fn get_user_by_email(&self, email: &str) -> StorageResult<Option<User>> {
        if !storable(&[email]) {
            return Ok(None);
        }
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT id, name, email, email_verified_at, created_at, updated_at FROM users \
             WHERE email_normalized = $1",
        )
        .bind(normalize_email(email))
        .fetch_optional(&self.pool)
        .await
        .map_err(on("user"))?;
        Ok(row.map(UserRow::into_user))
    }

    async fn update_user(&self, user: &User) -> StorageResult<User> {
        if !storable(&[user.id.as_str()]) {
            return Err(StorageError::NotFound("user"));
        }
        // One statement: the existence check, the uniqueness check (by the index) and the write are
        // atomic, and `created_at` is not in the SET list so it can never change.
        let row: Option<UserRow> = sqlx::query_as(
            "UPDATE users SET name = $1, email = $2, email_normalized = $3, email_verified_at = $4, updated_at = $5 \
             WHERE id = $6 \
             RETURNING id, name, email, email_verified_at, created_at, updated_at",
        )
        .bind(user.name.as_deref())
        .bind(user.email.as_str())
        .bind(normalize_email(&user.email))
        .bind(micros_opt(user.email_verified_at))
        .bind(micros(user.updated_at))
        .bind(user.id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(on("user"))?;
        row.map(UserRow::into_user).ok_or(StorageError::NotFound("user"))
    }

    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<bool> {
        if !storable(&[id.as_str()]) {
            return Ok(false);
        }
        let result = sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2")
            .bind(micros(at))
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(on("user"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn prove_email(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<Option<DroppedCredentials>> {
        if !storable(&[id.as_str()]) {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await.map_err(on("user"))?;
        // The row lock taken by this UPDATE makes a concurrent proof wait, then find nothing to update.
        let verified =
            sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL")
                .bind(micros(at))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(on("user"))?;
        if verified.rows_affected() == 0 {
            return Ok(None);
        }
        let mut dropped = DroppedCredentials::default();
        dropped.password = sqlx::query("DELETE FROM passwords WHERE user_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(on("user"))?
            .rows_affected()
            > 0;
        dropped.passkeys = sqlx::query_scalar("DELETE FROM passkeys WHERE user_id = $1 RETURNING credential_id")
            .bind(id.as_str())
            .fetch_all(&mut *tx)
            .await
            .map_err(on("passkey"))?;
        dropped.provider_links =
            sqlx::query_as("DELETE FROM oauth_accounts WHERE user_id = $1 RETURNING provider, subject")
                .bind(id.as_str())
                .fetch_all(&mut *tx)
                .await
                .map_err(on("oauth account"))?;
        for statement in [
            "DELETE FROM refresh_tokens WHERE user_id = $1",
            "DELETE FROM passkey_challenges WHERE user_id = $1",
            "DELETE FROM oauth_states WHERE link_user_id = $1",
        ] {
            sqlx::query(statement).bind(id.as_str()).execute(&mut *tx).await.map_err(on("user"))?;
        }
        tx.commit().await.map_err(on("user"))?;
        dropped.passkeys.sort();
        dropped.provider_links.sort();
        Ok(Some(dropped))
    }

    async fn delete_user(&self, id: &UserId) -> StorageResult<bool> {
        if !storable(&[id.as_str()]) {
            return Ok(false);
        }
        // `ON DELETE CASCADE` removes every row that references the user (sessions, password, linked
        // accounts, flow states, passkeys, challenges, tokens with its id, refresh tokens); PostgreSQL
        // always enforces foreign keys. Tokens sent to the address before the account existed carry no user id; they
        // belong to the account all the same and must not outlive it, so they go in the same
        // transaction.
        let mut tx = self.pool.begin().await.map_err(on("user"))?;
        let email: Option<String> = sqlx::query_scalar("DELETE FROM users WHERE id = $1 RETURNING email_normalized")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(on("user"))?;
        let Some(email_normalized) = email else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM one_time_tokens WHERE email_normalized = $1")
            .bind(email_normalized)
            .execute(&mut *tx)
            .await
            .map_err(on("user"))?;
        tx.commit().await.map_err(on("user"))?;
        tracing::debug!(user_id = %id, "deleted user");
        Ok(true)
    }
}
