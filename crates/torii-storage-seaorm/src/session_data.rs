//! Application key/value session data ([`SessionStore`]) in the `session_data` table.
//!
//! The values are one JSON object of strings in `data`; the expiry has its own column, so a load is one
//! primary-key lookup that also filters out expired rows, and cleanup is an index range scan. Ids may be
//! bearer secrets (cookie values), so neither they nor the data are ever logged or quoted in errors.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait as _, DbBackend, EntityTrait as _, QueryFilter as _, QueryTrait as _};
use torii_core::StorageError;
use torii_core::session_store::{Result, SessionData, SessionStore};

use crate::SeaORMRepositoryProvider;
use crate::db;
use crate::entity::session_data;
use crate::error::on;
use crate::time::micros;

/// How many expired rows one `DELETE` of [`SessionStore::cleanup_expired`] removes, so that a large
/// backlog is removed in short statements.
const CLEANUP_BATCH: u32 = 1_000;

/// The values as the JSON object stored in `data`.
fn encode(data: &SessionData) -> Result<String, StorageError> {
    let values: BTreeMap<&str, &str> = data.iter().collect();
    // Serializing a map of strings cannot fail; the error would not name a value anyway.
    serde_json::to_string(&values).map_err(|_| StorageError::InvalidData("session data cannot be encoded".to_owned()))
}

/// The data a row describes. serde_json's messages can quote the text, so its error is not kept.
fn decode(row: session_data::Model) -> Result<SessionData, StorageError> {
    let values: BTreeMap<String, String> = serde_json::from_str(&row.data)
        .map_err(|_| StorageError::Corrupt("session_data.data is not a JSON object of strings".to_owned()))?;
    // `expires_at` came from a `SessionData`, so it is already whole milliseconds and survives as is.
    let mut data = SessionData::new_at(row.expires_at, Duration::ZERO);
    for (key, value) in values {
        data.set(key, value);
    }
    Ok(data)
}

impl SeaORMRepositoryProvider {
    /// False for an id no row can have: PostgreSQL text cannot hold a NUL character (and refuses to
    /// compare with one), so such an id has nothing to find or delete there.
    fn can_be_stored(&self, session_id: &str) -> bool {
        !(session_id.contains('\0') && self.db.get_database_backend() == DbBackend::Postgres)
    }
}

/// The current time as the statements compare it.
fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

#[torii_core::async_trait]
impl SessionStore for SeaORMRepositoryProvider {
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>> {
        if !self.can_be_stored(session_id) {
            return Ok(None);
        }
        let query = session_data::Entity::find_by_id(session_id).filter(session_data::Column::ExpiresAt.gt(now()));
        let row: Option<session_data::Model> = db::one(&self.db, query.as_query()).await.map_err(on("session data"))?;
        Ok(row.map(decode).transpose()?)
    }

    async fn save(&self, session_id: &str, data: SessionData) -> Result<()> {
        let row = session_data::ActiveModel {
            id: Set(session_id.to_owned()),
            data: Set(encode(&data)?),
            expires_at: Set(micros(data.expires_at())),
            updated_at: Set(now()),
        };
        // One statement (`ON CONFLICT ... DO UPDATE`, `ON DUPLICATE KEY UPDATE` on MySQL), so concurrent
        // saves to one id each replace the row whole.
        let mut upsert = OnConflict::column(session_data::Column::Id);
        upsert.update_columns([
            session_data::Column::Data,
            session_data::Column::ExpiresAt,
            session_data::Column::UpdatedAt,
        ]);
        let insert = session_data::Entity::insert(row).on_conflict(upsert);
        db::execute(&self.db, insert.as_query()).await.map_err(on("session data"))?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<()> {
        if !self.can_be_stored(session_id) {
            return Ok(());
        }
        let delete = session_data::Entity::delete_many().filter(session_data::Column::Id.eq(session_id));
        db::execute(&self.db, delete.as_query()).await.map_err(on("session data"))?;
        Ok(())
    }

    async fn cleanup_expired(&self) -> Result<usize> {
        let now = now();
        let mut deleted = 0_u64;
        loop {
            let batch = db::delete_expired(
                &self.db,
                session_data::Entity,
                session_data::Column::Id,
                session_data::Column::ExpiresAt,
                now,
                CLEANUP_BATCH,
            )
            .await
            .map_err(on("session data"))?;
            deleted += batch;
            if batch < u64::from(CLEANUP_BATCH) {
                break;
            }
        }
        tracing::debug!(deleted, "deleted expired session data");
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }
}
