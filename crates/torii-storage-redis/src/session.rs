//! Server-side sessions: one hash per session plus three indexes (see the crate docs for the layout).

use chrono::{DateTime, Utc};
use torii_core::storage::SessionStorage;
use torii_core::{SessionId, SessionRecord, StorageError, StorageResult, TokenHash, UserId};

use crate::RedisSessionStorage;
use crate::codec::{SESSION_FIELDS, decode_session, encode_session, session_ttl_millis, to_micros};
use crate::error::{corrupt, map_redis};
use crate::scripts;

impl SessionStorage for RedisSessionStorage {
    async fn ping(&self) -> StorageResult<()> {
        self.health_check().await
    }

    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        let mut invocation = scripts::CREATE_SESSION.prepare_invoke();
        invocation
            .key(self.keys.session(&session.token_hash))
            .key(self.keys.session_id(&session.id))
            .key(self.keys.user_sessions(&session.user_id))
            .key(self.keys.sessions_by_expiry())
            .arg(session.token_hash.as_str())
            .arg(session_ttl_millis(session))
            .arg(to_micros(session.created_at))
            .arg(to_micros(session.expires_at));
        for (field, value) in encode_session(session) {
            invocation.arg(field).arg(value);
        }
        let stored: u64 = invocation.invoke_async(&mut self.connection.clone()).await.map_err(map_redis)?;
        if stored == 0 {
            return Err(StorageError::Conflict("session"));
        }
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "created session");
        Ok(())
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        let values: Vec<Option<Vec<u8>>> = redis::cmd("HMGET")
            .arg(self.keys.session(token_hash))
            .arg(SESSION_FIELDS.as_slice())
            .query_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        // Redis may still hold a session that Torii's clock says has expired: the clock decides.
        Ok(decode_session(token_hash.clone(), values)?.filter(|session| session.expires_at > now))
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        let touched: u64 = scripts::TOUCH_SESSION
            .key(self.keys.session(token_hash))
            .arg(to_micros(updated_at))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(touched > 0)
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        let rows: Vec<Vec<Option<Vec<u8>>>> = scripts::LIST_SESSIONS
            .key(self.keys.user_sessions(user_id))
            .arg(self.keys.prefix())
            .arg(SESSION_FIELDS.as_slice())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        let mut sessions = Vec::with_capacity(rows.len());
        for mut row in rows {
            if row.is_empty() {
                return Err(corrupt("a session listing"));
            }
            let hash = row.remove(0).and_then(|bytes| String::from_utf8(bytes).ok());
            let hash = hash.ok_or_else(|| corrupt("a session's token hash"))?;
            if let Some(session) = decode_session(TokenHash::from_stored(hash), row)?
                && session.expires_at > now
            {
                sessions.push(session);
            }
        }
        // The same order as the SQL backends: newest first, the id breaking ties.
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        Ok(sessions)
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        let deleted: u64 = scripts::DELETE_SESSION
            .key(self.keys.session(token_hash))
            .arg(self.keys.prefix())
            .arg(token_hash.as_str())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(deleted > 0)
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        let deleted: u64 = scripts::DELETE_SESSION_BY_ID
            .key(self.keys.session_id(session_id))
            .arg(self.keys.prefix())
            .arg(user_id.as_str())
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(deleted > 0)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        let deleted: u64 = scripts::DELETE_USER_SESSIONS
            .key(self.keys.user_sessions(user_id))
            .arg(self.keys.prefix())
            .arg(if keep.is_some() { "1" } else { "0" })
            .arg(keep.map_or("", SessionId::as_str))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        tracing::debug!(user_id = %user_id, deleted, "deleted sessions of user");
        Ok(deleted)
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        if batch_size == 0 {
            return Ok(0);
        }
        let deleted: u64 = scripts::CLEANUP_SESSIONS
            .key(self.keys.sessions_by_expiry())
            .arg(self.keys.prefix())
            .arg(to_micros(now))
            .arg(batch_size)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        tracing::debug!(deleted, "deleted expired sessions");
        Ok(deleted)
    }
}
