//! Users.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QuerySelect as _, QueryTrait as _,
};
use torii_core::email::normalize_email;
use torii_core::storage::{DroppedCredentials, UserStorage};
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db::{self, begin_write};
use crate::entity::{
    oauth_accounts, oauth_states, one_time_tokens, passkey_challenges, passkeys, passwords, refresh_tokens, sessions,
    users,
};
use crate::error::on;
use crate::time::{micros, micros_opt};

/// The Torii user a row describes.
fn into_user(row: users::Model) -> User {
    User {
        id: UserId::new(row.id),
        name: row.name,
        email: row.email,
        email_verified_at: row.email_verified_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// Inserts a user on `conn` (the pool or a transaction) and returns it as stored: timestamps truncated to
/// the microsecond, exactly what a later read gives.
pub(crate) async fn insert_user<C: ConnectionTrait>(conn: &C, user: &NewUser) -> StorageResult<User> {
    let stored = User {
        email_verified_at: micros_opt(user.email_verified_at),
        created_at: micros(user.created_at),
        updated_at: micros(user.created_at),
        ..user.to_user()
    };
    let row = users::ActiveModel {
        id: Set(stored.id.as_str().to_owned()),
        name: Set(stored.name.clone()),
        email: Set(stored.email.clone()),
        email_normalized: Set(normalize_email(&stored.email)),
        email_verified_at: Set(stored.email_verified_at),
        created_at: Set(stored.created_at),
        updated_at: Set(stored.updated_at),
    };
    db::execute(conn, users::Entity::insert(row).as_query()).await.map_err(on("user"))?;
    tracing::debug!(user_id = %stored.id, "created user");
    Ok(stored)
}

/// The user with this id, read on `conn`.
async fn find_user<C: ConnectionTrait>(conn: &C, id: &UserId) -> StorageResult<Option<User>> {
    let row: Option<users::Model> =
        db::one(conn, users::Entity::find_by_id(id.as_str()).as_query()).await.map_err(on("user"))?;
    Ok(row.map(into_user))
}

impl UserStorage for SeaORMRepositoryProvider {
    async fn create_user(&self, user: &NewUser) -> StorageResult<User> {
        insert_user(&self.db, user).await
    }

    async fn get_user(&self, id: &UserId) -> StorageResult<Option<User>> {
        find_user(&self.db, id).await
    }

    async fn get_user_by_email(&self, email: &str) -> StorageResult<Option<User>> {
        let query = users::Entity::find().filter(users::Column::EmailNormalized.eq(normalize_email(email)));
        let row: Option<users::Model> = db::one(&self.db, query.as_query()).await.map_err(on("user"))?;
        Ok(row.map(into_user))
    }

    async fn update_user(&self, user: &User) -> StorageResult<User> {
        // One transaction: the write (whose WHERE is the existence check, and whose uniqueness check is
        // the index) and the read of what was stored. `created_at` is not set, so it never changes.
        let tx = begin_write(&self.db).await.map_err(on("user"))?;
        let changes = users::ActiveModel {
            id: NotSet,
            name: Set(user.name.clone()),
            email: Set(user.email.clone()),
            email_normalized: Set(normalize_email(&user.email)),
            email_verified_at: Set(micros_opt(user.email_verified_at)),
            created_at: NotSet,
            updated_at: Set(micros(user.updated_at)),
        };
        let update = users::Entity::update_many().set(changes).filter(users::Column::Id.eq(user.id.as_str()));
        if db::execute(&tx, update.as_query()).await.map_err(on("user"))? == 0 {
            return Err(StorageError::NotFound("user"));
        }
        let stored = find_user(&tx, &user.id).await?.ok_or(StorageError::NotFound("user"))?;
        tx.commit().await.map_err(on("user"))?;
        Ok(stored)
    }

    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<bool> {
        let update = users::Entity::update_many()
            .col_expr(users::Column::EmailVerifiedAt, Expr::value(micros(at)))
            .filter(users::Column::Id.eq(id.as_str()));
        Ok(db::execute(&self.db, update.as_query()).await.map_err(on("user"))? > 0)
    }

    async fn prove_email(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<Option<DroppedCredentials>> {
        // The conditional UPDATE locks the user's row (SQLite: the whole database, BEGIN IMMEDIATE), so
        // of concurrent proofs one waits and then finds the address verified.
        let tx = begin_write(&self.db).await.map_err(on("user"))?;
        let verify = users::Entity::update_many()
            .col_expr(users::Column::EmailVerifiedAt, Expr::value(micros(at)))
            .filter(users::Column::Id.eq(id.as_str()))
            .filter(users::Column::EmailVerifiedAt.is_null());
        if db::execute(&tx, verify.as_query()).await.map_err(on("user"))? == 0 {
            return Ok(None);
        }
        let id = id.as_str();
        let keys: Vec<passkeys::Model> =
            db::all(&tx, passkeys::Entity::find().filter(passkeys::Column::UserId.eq(id)).as_query())
                .await
                .map_err(on("passkey"))?;
        let links: Vec<oauth_accounts::Model> =
            db::all(&tx, oauth_accounts::Entity::find().filter(oauth_accounts::Column::UserId.eq(id)).as_query())
                .await
                .map_err(on("oauth account"))?;
        let mut dropped = DroppedCredentials::default();
        let password = passwords::Entity::delete_many().filter(passwords::Column::UserId.eq(id)).into_query();
        dropped.password = db::execute(&tx, &password).await.map_err(on("user"))? > 0;
        let deletes = [
            passkeys::Entity::delete_many().filter(passkeys::Column::UserId.eq(id)).into_query(),
            oauth_accounts::Entity::delete_many().filter(oauth_accounts::Column::UserId.eq(id)).into_query(),
            refresh_tokens::Entity::delete_many().filter(refresh_tokens::Column::UserId.eq(id)).into_query(),
            passkey_challenges::Entity::delete_many().filter(passkey_challenges::Column::UserId.eq(id)).into_query(),
            oauth_states::Entity::delete_many().filter(oauth_states::Column::LinkUserId.eq(id)).into_query(),
        ];
        for delete in &deletes {
            db::execute(&tx, delete).await.map_err(on("user"))?;
        }
        tx.commit().await.map_err(on("user"))?;
        dropped.passkeys = keys.into_iter().map(|key| key.credential_id).collect();
        dropped.passkeys.sort();
        dropped.provider_links = links.into_iter().map(|link| (link.provider, link.subject)).collect();
        dropped.provider_links.sort();
        Ok(Some(dropped))
    }

    async fn delete_user(&self, id: &UserId) -> StorageResult<bool> {
        // `ON DELETE CASCADE` removes the dependent rows. They are also deleted explicitly, in the same
        // transaction, so that a SQLite connection built without foreign keys can never leave a deleted
        // user with a live session. The user's row is locked first, so nothing is added meanwhile.
        // Revocations of stateless sessions (`revoked_tokens`, `session_revocations`) stay: the user's
        // tokens must remain dead after the account is gone.
        let tx = begin_write(&self.db).await.map_err(on("user"))?;
        let user: Option<users::Model> =
            db::one(&tx, users::Entity::find_by_id(id.as_str()).lock_exclusive().as_query())
                .await
                .map_err(on("user"))?;
        let Some(user) = user else {
            return Ok(false);
        };
        let id = id.as_str();
        let deletes = [
            sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(id)).into_query(),
            passwords::Entity::delete_many().filter(passwords::Column::UserId.eq(id)).into_query(),
            oauth_accounts::Entity::delete_many().filter(oauth_accounts::Column::UserId.eq(id)).into_query(),
            oauth_states::Entity::delete_many().filter(oauth_states::Column::LinkUserId.eq(id)).into_query(),
            passkeys::Entity::delete_many().filter(passkeys::Column::UserId.eq(id)).into_query(),
            passkey_challenges::Entity::delete_many().filter(passkey_challenges::Column::UserId.eq(id)).into_query(),
            one_time_tokens::Entity::delete_many().filter(one_time_tokens::Column::UserId.eq(id)).into_query(),
            refresh_tokens::Entity::delete_many().filter(refresh_tokens::Column::UserId.eq(id)).into_query(),
            // Tokens sent to the address before the account existed carry no user id; they belong to
            // the account all the same and must not outlive it.
            one_time_tokens::Entity::delete_many()
                .filter(one_time_tokens::Column::EmailNormalized.eq(user.email_normalized))
                .into_query(),
            users::Entity::delete_many().filter(users::Column::Id.eq(id)).into_query(),
        ];
        for delete in &deletes {
            db::execute(&tx, delete).await.map_err(on("user"))?;
        }
        tx.commit().await.map_err(on("user"))?;
        tracing::debug!(user_id = %id, "deleted user");
        Ok(true)
    }
}
