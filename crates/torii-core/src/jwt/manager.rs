//! The JWT session manager: stateless validation plus a cheap revocation check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::claims::{JwtClaims, JwtMetadata, SESSION_TOKEN_TYPE, sign, verify};
use super::config::JwtConfig;
use crate::clock::Clock;
use crate::error::ToriiError;
use crate::id::{SessionId, UserId};
use crate::managers::{DEFAULT_CLEANUP_BATCH, SessionManager};
use crate::metrics::{self, Kind};
use crate::session::{Session, SessionRecord, SessionToken};
use crate::storage::TokenRevocationStorage;

/// Most token ids remembered as "checked, not revoked"; past this the cache starts over.
const REVOCATION_CACHE_CAPACITY: usize = 65_536;

/// A short-lived memory of tokens found not revoked, so a client making many requests per second costs
/// one denylist lookup per TTL instead of one per request. Revocations made through this instance
/// evict at once; revocations made by another instance are seen within the TTL.
struct RevocationCache {
    ttl: Duration,
    checked: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl RevocationCache {
    fn fresh(&self, jti: &str, now: DateTime<Utc>) -> bool {
        if self.ttl <= Duration::zero() {
            return false;
        }
        let map = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        map.get(jti).is_some_and(|at| now - *at < self.ttl)
    }

    fn remember(&self, jti: &str, now: DateTime<Utc>) {
        if self.ttl <= Duration::zero() {
            return;
        }
        let mut map = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= REVOCATION_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(jti.to_owned(), now);
    }

    fn forget(&self, jti: &str) {
        self.checked.lock().unwrap_or_else(|p| p.into_inner()).remove(jti);
    }

    fn clear(&self) {
        self.checked.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Issues and validates JWT sessions.
///
/// Validation verifies the signature and claims (CPU only) and then asks the revocation storage whether
/// the token id was revoked or issued before the user's "log out everywhere" time: one indexed lookup,
/// skipped for a token checked within the configured cache TTL (default 1 s).
pub struct JwtSessionManager<S> {
    storage: Arc<S>,
    config: JwtConfig,
    expires_in: Duration,
    clock: Arc<dyn Clock>,
    cache: RevocationCache,
}

impl<S> JwtSessionManager<S> {
    /// A manager issuing tokens valid for `expires_in`.
    pub fn new(storage: Arc<S>, config: JwtConfig, expires_in: Duration, clock: Arc<dyn Clock>) -> Self {
        let cache = RevocationCache { ttl: config.revocation_cache_ttl, checked: Mutex::new(HashMap::new()) };
        Self { storage, config, expires_in, clock, cache }
    }

    fn now(&self) -> DateTime<Utc> {
        crate::torii::truncate_to_micros(self.clock.now())
    }
}

impl<S: TokenRevocationStorage> JwtSessionManager<S> {
    async fn validate(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        let SessionToken::Jwt(raw) = token else {
            return Err(ToriiError::SessionNotFound);
        };
        let now = self.now();
        let claims = verify(raw, &self.config, now.timestamp()).map_err(|e| match e {
            ToriiError::InvalidToken("token expired") => ToriiError::SessionExpired,
            ToriiError::InvalidToken(_) => ToriiError::SessionNotFound,
            other => other,
        })?;
        if !self.cache.fresh(&claims.jti, now) {
            let user_id = UserId::new(claims.sub.clone());
            if self.storage.is_token_revoked(&claims.jti, &user_id, to_time(claims.iat)).await? {
                return Err(ToriiError::SessionNotFound);
            }
            self.cache.remember(&claims.jti, now);
        }
        Ok(session_from_claims(claims, token.clone()))
    }
}

fn to_time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

/// The session a verified token describes.
pub(crate) fn session_from_claims(claims: JwtClaims, token: SessionToken) -> Session {
    let metadata = claims.metadata.unwrap_or_default();
    Session {
        id: SessionId::new(claims.jti),
        token,
        user_id: UserId::new(claims.sub),
        user_agent: metadata.user_agent,
        ip_address: metadata.ip_address,
        created_at: to_time(claims.iat),
        updated_at: to_time(claims.iat),
        expires_at: to_time(claims.exp),
    }
}

#[async_trait]
impl<S: TokenRevocationStorage> SessionManager for JwtSessionManager<S> {
    async fn create_session(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<Session, ToriiError> {
        let now = self.now();
        // Tokens carry whole seconds. After a "log out everywhere" within the current second, a token
        // stamped with this second would count as issued before it; stamp it with the next second
        // instead (well inside the verification leeway).
        let mut iat = now.timestamp();
        if let Some(not_before) = self.storage.revoked_before(user_id).await?
            && to_time(iat) < not_before
        {
            iat = not_before.timestamp() + i64::from(not_before.timestamp_subsec_micros() > 0);
        }
        let claims = JwtClaims {
            sub: user_id.as_str().to_owned(),
            iat,
            exp: iat + self.expires_in.num_seconds(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            nbf: None,
            jti: SessionId::new_random().into_inner(),
            typ: SESSION_TOKEN_TYPE.to_owned(),
            metadata: self
                .config
                .include_metadata
                .then(|| JwtMetadata { user_agent: user_agent.clone(), ip_address: ip_address.clone() }),
        };
        let token = SessionToken::Jwt(sign(&claims, &self.config)?);
        let mut session = session_from_claims(claims, token);
        // The caller's own view keeps the metadata even when the token does not carry it.
        session.user_agent = user_agent;
        session.ip_address = ip_address;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "JWT session created");
        metrics::session_created(Kind::Jwt);
        Ok(session)
    }

    async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        let started = std::time::Instant::now();
        let result = self.validate(token).await;
        metrics::session_validated(Kind::Jwt, started, &result);
        result
    }

    async fn rotate_session(&self, token: &SessionToken, _reauthenticated: bool) -> Result<Session, ToriiError> {
        // A JWT cannot change its token and keep its id: issue a new token for the same user and
        // metadata (freshly stamped, so it is also fresh), then revoke the old one.
        let current = self.validate(token).await?;
        let rotated =
            self.create_session(&current.user_id, current.user_agent.clone(), current.ip_address.clone()).await?;
        self.delete_session(token).await?;
        Ok(rotated)
    }

    async fn list_sessions(&self, _user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError> {
        // JWT sessions are not recorded server-side, so there is no device list to show.
        Ok(Vec::new())
    }

    async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError> {
        let SessionToken::Jwt(raw) = token else {
            return Ok(());
        };
        // An invalid or expired token needs no revoking.
        let Ok(claims) = verify(raw, &self.config, self.now().timestamp()) else {
            return Ok(());
        };
        let leeway = Duration::seconds(i64::try_from(self.config.leeway_secs).unwrap_or(0));
        self.storage.revoke_token_id(&claims.jti, &UserId::new(claims.sub), to_time(claims.exp) + leeway).await?;
        self.cache.forget(&claims.jti);
        tracing::debug!(session_id = %claims.jti, "JWT session revoked");
        metrics::sessions_revoked(Kind::Jwt, 1);
        Ok(())
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> Result<bool, ToriiError> {
        // Without the token there is no proof the id belongs to this user, and the denylist is keyed by
        // token id: accepting it would let one user revoke another's session by guessing its id.
        // (JWT sessions are not listed, so no client has ids to revoke anyway.)
        let _ = (user_id, session_id);
        Err(ToriiError::Unsupported("revoking a JWT session by id needs the token itself; revoke it with the token"))
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> Result<u64, ToriiError> {
        if keep.is_some() {
            return Err(ToriiError::Unsupported(
                "keeping one session while revoking the others needs server-side (opaque) sessions",
            ));
        }
        self.storage.revoke_all_before(user_id, self.now()).await?;
        self.cache.clear();
        tracing::debug!(%user_id, "all JWT sessions of the user revoked");
        Ok(0)
    }

    async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError> {
        let now = self.now();
        let mut total = 0;
        loop {
            let deleted = self.storage.cleanup_revoked_tokens(now, DEFAULT_CLEANUP_BATCH).await?;
            total += deleted;
            if deleted < u64::from(DEFAULT_CLEANUP_BATCH) {
                if total > 0 {
                    tracing::info!(deleted = total, "expired JWT denylist entries cleaned up");
                    metrics::sessions_cleaned(Kind::Jwt, total);
                }
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}
