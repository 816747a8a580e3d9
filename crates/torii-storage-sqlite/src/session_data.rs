//! Application key/value session data ([`SessionStore`]) in the `session_data` table.
//!
//! The values are one JSON object of strings in `data`; the expiry has its own column, so a load is one
//! primary-key lookup that also filters out expired rows, and cleanup is an index range scan. Ids may be
//! bearer secrets (cookie values), so neither they nor the data are ever logged or quoted in errors.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use torii_core::StorageError;
use torii_core::session_store::{Result, SessionData, SessionStore};

use crate::SqliteRepositoryProvider;
use crate::error::on;
use crate::time::{from_micros, to_micros};

/// How many expired rows one `DELETE` of [`SessionStore::cleanup_expired`] removes, so that a large
/// backlog never holds SQLite's write lock for long.
const CLEANUP_BATCH: i64 = 1_000;

/// The values as the JSON object stored in `data`.
fn encode(data: &SessionData) -> Result<String, StorageError> {
    let values: BTreeMap<&str, &str> = data.iter().collect();
    // Serializing a map of strings cannot fail; the error would not name a value anyway.
    serde_json::to_string(&values).map_err(|_| StorageError::InvalidData("session data cannot be encoded".to_owned()))
}

/// The data a row describes. serde_json's messages can quote the text, so its error is not kept.
fn decode(json: &str, expires_at: DateTime<Utc>) -> Result<SessionData, StorageError> {
    let values: BTreeMap<String, String> = serde_json::from_str(json)
        .map_err(|_| StorageError::Corrupt("session_data.data is not a JSON object of strings".to_owned()))?;
    // `expires_at` came from a `SessionData`, so it is already whole milliseconds and survives as is.
    let mut data = SessionData::new_at(expires_at, Duration::ZERO);
    for (key, value) in values {
        data.set(key, value);
    }
    Ok(data)
}

#[torii_core::async_trait]
impl SessionStore for SqliteRepositoryProvider {
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM session_data WHERE id = ? AND expires_at > ?")
                .bind(session_id)
                .bind(to_micros(Utc::now()))
                .fetch_optional(&self.pool)
                .await
                .map_err(on("session data"))?;
        let Some((json, expires_at)) = row else { return Ok(None) };
        Ok(Some(decode(&json, from_micros(expires_at, "session_data.expires_at")?)?))
    }

    async fn save(&self, session_id: &str, data: SessionData) -> Result<()> {
        // One statement, so concurrent saves to one id each replace the row whole.
        sqlx::query(
            "INSERT INTO session_data (id, data, expires_at, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE \
             SET data = excluded.data, expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .bind(session_id)
        .bind(encode(&data)?)
        .bind(to_micros(data.expires_at()))
        .bind(to_micros(Utc::now()))
        .execute(&self.pool)
        .await
        .map_err(on("session data"))?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM session_data WHERE id = ?")
            .bind(session_id)
            .execute(&self.pool)
            .await
            .map_err(on("session data"))?;
        Ok(())
    }

    async fn cleanup_expired(&self) -> Result<usize> {
        let now = to_micros(Utc::now());
        let mut deleted = 0_u64;
        loop {
            let batch = sqlx::query(
                "DELETE FROM session_data WHERE id IN \
                 (SELECT id FROM session_data WHERE expires_at <= ? LIMIT ?)",
            )
            .bind(now)
            .bind(CLEANUP_BATCH)
            .execute(&self.pool)
            .await
            .map_err(on("session data"))?
            .rows_affected();
            deleted += batch;
            if batch < CLEANUP_BATCH.unsigned_abs() {
                break;
            }
        }
        tracing::debug!(deleted, "deleted expired session data");
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }

    fn is_healthy(&self) -> bool {
        !self.pool.is_closed()
    }
}
