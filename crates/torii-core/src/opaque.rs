//! The built-in session manager for opaque, server-side sessions.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::managers::{ClientContext, SessionManager};
use crate::metrics::{self, Kind};
use crate::policy::{SessionLimitAction, SessionPolicy};
use crate::session::{Session, SessionConfig, SessionRecord, SessionToken};
use crate::storage::SessionStorage;

/// The built-in [`SessionManager`]: random opaque tokens, stored hashed in a [`SessionStorage`], with
/// the rules of a [`SessionPolicy`].
pub struct OpaqueSessionManager<S> {
    storage: Arc<S>,
    config: SessionConfig,
    policy: SessionPolicy,
    clock: Arc<dyn Clock>,
}

impl<S> OpaqueSessionManager<S> {
    /// A manager over this storage with the default policy.
    pub fn new(storage: Arc<S>, config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_policy(storage, config, SessionPolicy::default(), clock)
    }

    /// A manager over this storage with a policy.
    pub fn with_policy(storage: Arc<S>, config: SessionConfig, policy: SessionPolicy, clock: Arc<dyn Clock>) -> Self {
        Self { storage, config, policy, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        crate::torii::truncate_to_micros(self.clock.now())
    }
}

/// Opaque tokens are exactly 43 base64url characters. Anything else cannot be one of ours, so it is
/// refused without a database round trip.
fn is_well_formed_opaque(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn differs(bound: Option<&String>, seen: Option<&String>) -> bool {
    matches!((bound, seen), (Some(a), Some(b)) if a != b)
}

fn storage_to_torii(err: StorageError) -> ToriiError {
    match err {
        StorageError::NotFound(_) => ToriiError::UserNotFound,
        other => ToriiError::Storage(other),
    }
}

impl<S: SessionStorage> OpaqueSessionManager<S> {
    /// Looks the token up and applies the policy; `client` is checked when given.
    async fn validate(&self, token: &SessionToken, client: Option<&ClientContext>) -> Result<Session, ToriiError> {
        let SessionToken::Opaque(raw) = token else {
            return Err(ToriiError::SessionNotFound);
        };
        if !is_well_formed_opaque(raw) {
            return Err(ToriiError::SessionNotFound);
        }
        let now = self.now();
        let hash = token.hash();
        let Some(mut record) = self.storage.get_session(&hash, now).await? else {
            return Err(ToriiError::SessionNotFound);
        };
        if let Some(idle) = self.policy.idle_timeout
            && now - record.updated_at >= idle
        {
            self.end(&record, "idle timeout").await;
            return Err(ToriiError::SessionExpired);
        }
        if let Some(client) = client {
            let ip_moved = self.policy.bind_ip && differs(record.ip_address.as_ref(), client.ip_address.as_ref());
            let ua_changed =
                self.policy.bind_user_agent && differs(record.user_agent.as_ref(), client.user_agent.as_ref());
            if ip_moved || ua_changed {
                // Possibly a stolen token: end the session rather than just refusing this request.
                tracing::warn!(
                    session_id = %record.id,
                    user_id = %record.user_id,
                    ip_changed = ip_moved,
                    user_agent_changed = ua_changed,
                    "session used from a different client; revoked"
                );
                self.end(&record, "client binding").await;
                return Err(ToriiError::SessionNotFound);
            }
        }
        if now - record.updated_at >= self.policy.activity_resolution() {
            // Best effort: a failed "last seen" write must not fail the request it belongs to.
            match self.storage.touch_session(&hash, now).await {
                Ok(_) => record.updated_at = now,
                Err(err) => tracing::warn!(error = %err, session_id = %record.id, "could not record session activity"),
            }
        }
        Ok(Session::from_record(record, token.clone()))
    }

    async fn end(&self, record: &SessionRecord, reason: &'static str) {
        match self.storage.delete_session(&record.token_hash).await {
            Ok(_) => {
                tracing::info!(session_id = %record.id, reason, "session ended");
                metrics::sessions_revoked(Kind::Opaque, 1);
            }
            Err(err) => tracing::warn!(error = %err, session_id = %record.id, "could not delete an ended session"),
        }
    }

    /// Makes room for one more session of the user, or refuses, per the policy.
    async fn enforce_limit(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<(), ToriiError> {
        let Some((max, action)) = self.policy.max_sessions else {
            return Ok(());
        };
        let live = self.storage.list_sessions_for_user(user_id, now).await?;
        if live.len() < max {
            return Ok(());
        }
        match action {
            SessionLimitAction::Refuse => Err(ToriiError::SessionLimitReached),
            SessionLimitAction::EvictOldest => {
                // Newest first: everything from index max-1 on goes, leaving room for the new one.
                for old in &live[max - 1..] {
                    self.storage.delete_session_by_id(user_id, &old.id).await?;
                    tracing::info!(%user_id, session_id = %old.id, "oldest session evicted by the session limit");
                    metrics::sessions_revoked(Kind::Opaque, 1);
                }
                Ok(())
            }
        }
    }
}

#[async_trait]
impl<S: SessionStorage> SessionManager for OpaqueSessionManager<S> {
    async fn create_session(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<Session, ToriiError> {
        let now = self.now();
        self.enforce_limit(user_id, now).await?;
        let session = Session {
            id: SessionId::new_random(),
            token: SessionToken::new_random(),
            user_id: user_id.clone(),
            user_agent,
            ip_address,
            created_at: now,
            updated_at: now,
            expires_at: now + self.policy.lifetime(self.config.expires_in),
        };
        self.storage.create_session(&SessionRecord::from_session(&session)).await.map_err(storage_to_torii)?;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "session created");
        metrics::session_created(Kind::Opaque);
        Ok(session)
    }

    async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        let started = std::time::Instant::now();
        let result = self.validate(token, None).await;
        metrics::session_validated(Kind::Opaque, started, &result);
        result
    }

    async fn validate_session(&self, token: &SessionToken, client: &ClientContext) -> Result<Session, ToriiError> {
        let started = std::time::Instant::now();
        let result = self.validate(token, Some(client)).await;
        metrics::session_validated(Kind::Opaque, started, &result);
        result
    }

    async fn rotate_session(&self, token: &SessionToken, reauthenticated: bool) -> Result<Session, ToriiError> {
        let current = self.validate(token, None).await?;
        let now = self.now();
        let mut rotated = Session { token: SessionToken::new_random(), updated_at: now, ..current };
        if reauthenticated {
            // A fresh proof of identity restarts the session's clock, so freshness checks pass.
            rotated.created_at = now;
        }
        // Old token first: once this returns, the old token is dead whatever happens next.
        self.storage.delete_session(&token.hash()).await?;
        self.storage.create_session(&SessionRecord::from_session(&rotated)).await.map_err(storage_to_torii)?;
        tracing::info!(user_id = %rotated.user_id, session_id = %rotated.id, reauthenticated, "session token rotated");
        Ok(rotated)
    }

    async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError> {
        Ok(self.storage.list_sessions_for_user(user_id, self.now()).await?)
    }

    async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError> {
        if self.storage.delete_session(&token.hash()).await? {
            tracing::debug!("session revoked");
            metrics::sessions_revoked(Kind::Opaque, 1);
        }
        Ok(())
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> Result<bool, ToriiError> {
        let deleted = self.storage.delete_session_by_id(user_id, session_id).await?;
        if deleted {
            tracing::debug!(%user_id, %session_id, "session revoked");
            metrics::sessions_revoked(Kind::Opaque, 1);
        }
        Ok(deleted)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> Result<u64, ToriiError> {
        let n = self.storage.delete_sessions_for_user(user_id, keep).await?;
        tracing::debug!(%user_id, revoked = n, "sessions revoked");
        metrics::sessions_revoked(Kind::Opaque, n);
        Ok(n)
    }

    async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError> {
        self.cleanup_expired_sessions_in_batches(self.policy.cleanup_batch_size).await
    }

    async fn cleanup_expired_sessions_in_batches(&self, batch_size: u32) -> Result<u64, ToriiError> {
        let batch_size = batch_size.max(1);
        let now = self.now();
        let mut total = 0;
        loop {
            let deleted = self.storage.cleanup_expired_sessions(now, batch_size).await?;
            total += deleted;
            if deleted < u64::from(batch_size) {
                break;
            }
            // Let other tasks at the database between batches.
            tokio::task::yield_now().await;
        }
        if total > 0 {
            tracing::info!(deleted = total, "expired sessions cleaned up");
            metrics::sessions_cleaned(Kind::Opaque, total);
        }
        Ok(total)
    }
}
