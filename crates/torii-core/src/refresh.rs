//! Access + refresh token pairs for API and mobile clients.
//!
//! The access token is a normal session token from the configured session manager (with JWT sessions,
//! a short-lived JWT). The refresh token is an opaque 256-bit secret, stored hashed, that can be
//! exchanged exactly once for a new pair. Every exchange rotates it; presenting an already-exchanged
//! refresh token means it was copied, so the whole family (every token descending from that login) is
//! revoked and the caller must log in again.

use chrono::{DateTime, Duration, Utc};

use crate::audit::AuthMethod;
use crate::error::ToriiError;
use crate::id::{SessionId, UserId};
use crate::session::{Session, SessionToken};
use crate::storage::{AuditEventKind, RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse};
use crate::token::{TokenHash, generate_secret_token};
use crate::torii::Torii;

/// Default refresh-token lifetime.
pub const DEFAULT_REFRESH_LIFETIME: Duration = Duration::days(30);

/// An access token and the refresh token that renews it.
#[derive(Clone)]
pub struct TokenPair {
    /// The session the access token authenticates.
    pub session: Session,
    /// The refresh token (a secret: send it to the client once, never log it).
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("session", &self.session)
            .field("refresh_token", &"<redacted>")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

impl TokenPair {
    /// The access token.
    pub fn access_token(&self) -> &SessionToken {
        &self.session.token
    }
}

impl<S: RefreshTokenStorage> Torii<S> {
    /// Issues a new access + refresh pair for the user (for example right after a password login).
    ///
    /// # Errors
    /// As [`Torii::create_session`]; a storage failure.
    pub async fn issue_token_pair(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<TokenPair, ToriiError> {
        let family = SessionId::new_random().into_inner();
        self.new_pair(user_id, family, user_agent, ip_address).await
    }

    /// Exchanges a refresh token for a new pair. The presented token stops working. Presenting a token
    /// that was already exchanged revokes its whole family and fails.
    ///
    /// # Errors
    /// [`ToriiError::InvalidToken`] for an unknown, expired, revoked or replayed refresh token; a storage
    /// failure.
    pub async fn refresh_token_pair(
        &self,
        refresh_token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<TokenPair, ToriiError> {
        let now = self.now();
        match self.storage().use_refresh_token(&TokenHash::of(refresh_token), now).await? {
            RefreshTokenUse::Valid(record) => {
                let client = crate::torii::explicit_client(&user_agent, &ip_address);
                let pair = self.new_pair(&record.user_id, record.family_id, user_agent, ip_address).await?;
                self.audit_login(&record.user_id, AuthMethod::Refresh, &pair.session, client.as_ref()).await;
                Ok(pair)
            }
            RefreshTokenUse::Reused(record) => {
                let revoked = self.storage().revoke_refresh_family(&record.family_id, now).await?;
                tracing::warn!(
                    user_id = %record.user_id,
                    revoked,
                    "refresh token reused: the token family is revoked"
                );
                let client = crate::torii::explicit_client(&user_agent, &ip_address);
                let detail = serde_json::json!({ "revoked_tokens": revoked });
                self.audit(AuditEventKind::REFRESH_TOKEN_REUSED, Some(&record.user_id), client.as_ref(), detail).await;
                Err(ToriiError::InvalidToken("refresh token already used"))
            }
            _ => {
                let client = crate::torii::explicit_client(&user_agent, &ip_address);
                let detail = serde_json::json!({ "method": "refresh", "reason": "invalid_token" });
                self.audit(AuditEventKind::LOGIN_FAILED, None, client.as_ref(), detail).await;
                Err(ToriiError::InvalidToken("invalid refresh token"))
            }
        }
    }

    /// Revokes the refresh token's whole family (logout for API clients). Unknown tokens are ignored.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_refresh_token(&self, refresh_token: &str) -> Result<(), ToriiError> {
        let now = self.now();
        // Using it is how the family is found; a used or revoked token is handled alike.
        match self.storage().use_refresh_token(&TokenHash::of(refresh_token), now).await? {
            RefreshTokenUse::Valid(record) | RefreshTokenUse::Reused(record) => {
                self.storage().revoke_refresh_family(&record.family_id, now).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn new_pair(
        &self,
        user_id: &UserId,
        family_id: String,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<TokenPair, ToriiError> {
        let session = self.create_session(user_id, user_agent, ip_address).await?;
        let now = self.now();
        let refresh_token = generate_secret_token();
        let refresh_expires_at = now + self.session_policy().refresh_lifetime();
        let record = RefreshTokenRecord {
            token_hash: TokenHash::of(&refresh_token),
            family_id,
            user_id: user_id.clone(),
            created_at: now,
            expires_at: refresh_expires_at,
            used_at: None,
            revoked_at: None,
        };
        self.storage().create_refresh_token(&record).await?;
        Ok(TokenPair { session, refresh_token, refresh_expires_at })
    }
}
