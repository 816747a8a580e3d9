//! Revocation of stateless (JWT) sessions: the token-id denylist and per-user "not before" times.

use chrono::{DateTime, Utc};
use torii_core::storage::TokenRevocationStorage;
use torii_core::{StorageResult, UserId};

use crate::RedisSessionStorage;
use crate::codec::{denylist_expiry_millis, parse_optional_micros, to_micros};
use crate::error::map_redis;
use crate::scripts;

impl TokenRevocationStorage for RedisSessionStorage {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        let _: u64 = scripts::REVOKE_TOKEN
            .key(self.keys.revoked(token_id))
            .key(self.keys.revoked_by_expiry())
            .arg(token_id)
            .arg(to_micros(expires_at))
            .arg(denylist_expiry_millis(expires_at))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        tracing::debug!(%user_id, "token id added to the denylist");
        Ok(())
    }

    async fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        // Two reads in one pipeline: one round trip on the per-request path of JWT sessions.
        let (denied, not_before): (bool, Option<Vec<u8>>) = redis::pipe()
            .exists(self.keys.revoked(token_id))
            .get(self.keys.not_before(user_id))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        if denied {
            return Ok(true);
        }
        Ok(parse_optional_micros(not_before, "a user's not_before")?.is_some_and(|not_before| issued_at < not_before))
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        let _: u64 = scripts::REVOKE_ALL_BEFORE
            .key(self.keys.not_before(user_id))
            .arg(to_micros(not_before))
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(())
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        let stored: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.keys.not_before(user_id))
            .query_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        parse_optional_micros(stored, "a user's not_before")
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        if batch_size == 0 {
            return Ok(0);
        }
        let deleted: u64 = scripts::CLEANUP_REVOKED
            .key(self.keys.revoked_by_expiry())
            .arg(self.keys.prefix())
            .arg(to_micros(now))
            .arg(batch_size)
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(map_redis)?;
        Ok(deleted)
    }
}
