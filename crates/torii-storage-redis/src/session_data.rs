//! Application key/value session data ([`SessionStore`]): one string key per id.
//!
//! `{prefix}data:{id}` holds the [`SessionData`] as JSON (its values and its expiry in milliseconds)
//! and expires in Redis at the data's own expiry (`SET ... PXAT`, the `PEXPIREAT` of the write). Loads
//! also compare the stored expiry with the current time, so data is never returned late even when
//! Redis's clock is behind; Redis removing expired keys by itself is why `cleanup_expired` keeps the
//! trait's default. Ids may be bearer secrets (cookie values), so neither they nor the data are ever
//! logged or quoted in errors.

use chrono::Utc;
use torii_core::StorageError;
use torii_core::session_store::{Result, SessionData, SessionStore};

use crate::RedisSessionStorage;
use crate::error::{corrupt, map_redis};

#[torii_core::async_trait]
impl SessionStore for RedisSessionStorage {
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>> {
        let stored: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.keys.data(session_id))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        let Some(json) = stored else { return Ok(None) };
        // serde_json's messages can quote the text, so its error is not kept.
        let data: SessionData = serde_json::from_slice(&json).map_err(|_| corrupt("session data"))?;
        Ok((!data.is_expired_at(Utc::now())).then_some(data))
    }

    async fn save(&self, session_id: &str, data: SessionData) -> Result<()> {
        let key = self.keys.data(session_id);
        let mut connection = self.connection.clone();
        if data.is_expired_at(Utc::now()) {
            // Saving already-expired data replaces what was stored with nothing; Redis would refuse an
            // expiry time before 1970 anyway.
            redis::cmd("DEL").arg(key).query_async::<()>(&mut connection).await.map_err(map_redis)?;
            return Ok(());
        }
        let json = serde_json::to_vec(&data)
            .map_err(|_| StorageError::InvalidData("session data cannot be encoded".to_owned()))?;
        // One command, so the value and its expiry are written together and concurrent saves to one id
        // each replace the key whole.
        redis::cmd("SET")
            .arg(key)
            .arg(json)
            .arg("PXAT")
            .arg(data.expires_at().timestamp_millis())
            .query_async::<()>(&mut connection)
            .await
            .map_err(map_redis)?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<()> {
        redis::cmd("DEL")
            .arg(self.keys.data(session_id))
            .query_async::<()>(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(())
    }
}
