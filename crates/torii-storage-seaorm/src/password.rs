//! Password hashes (PHC strings; the password itself never reaches storage).

use chrono::Utc;
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _, QueryTrait as _};
use torii_core::storage::PasswordStorage;
use torii_core::{NewUser, StorageError, StorageResult, User, UserId};

use crate::SeaORMRepositoryProvider;
use crate::db::{self, begin_write};
use crate::entity::{passwords, users};
use crate::error::on;
use crate::time::micros;
use crate::user::insert_user;

impl PasswordStorage for SeaORMRepositoryProvider {
    async fn create_user_with_password(&self, user: &NewUser, password_hash: &str) -> StorageResult<User> {
        // Both inserts or neither.
        let tx = begin_write(&self.db).await.map_err(on("user"))?;
        let created = insert_user(&tx, user).await?;
        let row = passwords::ActiveModel {
            user_id: Set(created.id.as_str().to_owned()),
            password_hash: Set(password_hash.to_owned()),
            created_at: Set(created.created_at),
            updated_at: Set(created.created_at),
        };
        db::execute(&tx, passwords::Entity::insert(row).as_query()).await.map_err(on("password"))?;
        tx.commit().await.map_err(on("user"))?;
        Ok(created)
    }

    async fn set_password_hash(&self, user_id: &UserId, hash: &str) -> StorageResult<()> {
        // The trait passes no time, and the row's timestamps are bookkeeping only (Torii never reads
        // them back), so the system clock is good enough here.
        let now = micros(Utc::now());
        // The user's row is locked for the transaction: an unknown (or concurrently deleted) user is
        // refused even where foreign keys are off, and two concurrent calls for one user take turns, so
        // "update, else insert" needs no database-specific upsert.
        let tx = begin_write(&self.db).await.map_err(on("password"))?;
        let exists = users::Entity::find_by_id(user_id.as_str()).lock_exclusive();
        let user: Option<users::Model> = db::one(&tx, exists.as_query()).await.map_err(on("password"))?;
        if user.is_none() {
            return Err(StorageError::NotFound("user"));
        }
        let changes = passwords::ActiveModel {
            user_id: NotSet,
            password_hash: Set(hash.to_owned()),
            created_at: NotSet,
            updated_at: Set(now),
        };
        let update =
            passwords::Entity::update_many().set(changes).filter(passwords::Column::UserId.eq(user_id.as_str()));
        if db::execute(&tx, update.as_query()).await.map_err(on("password"))? == 0 {
            let row = passwords::ActiveModel {
                user_id: Set(user_id.as_str().to_owned()),
                password_hash: Set(hash.to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
            };
            db::execute(&tx, passwords::Entity::insert(row).as_query()).await.map_err(on("password"))?;
        }
        tx.commit().await.map_err(on("password"))?;
        tracing::debug!(user_id = %user_id, "set password hash");
        Ok(())
    }

    async fn get_password_hash(&self, user_id: &UserId) -> StorageResult<Option<String>> {
        let query = passwords::Entity::find_by_id(user_id.as_str());
        let row: Option<passwords::Model> = db::one(&self.db, query.as_query()).await.map_err(on("password"))?;
        Ok(row.map(|row| row.password_hash))
    }

    async fn remove_password_hash(&self, user_id: &UserId) -> StorageResult<bool> {
        let delete = passwords::Entity::delete_many().filter(passwords::Column::UserId.eq(user_id.as_str()));
        Ok(db::execute(&self.db, delete.as_query()).await.map_err(on("password"))? > 0)
    }
}
