//! Response bodies. None of them can carry a session token, except [`LoginResponse::token`] in the
//! explicit bearer mode.

use chrono::{DateTime, Utc};
use serde::Serialize;
use torii_core::{Session, SessionId, SessionRecord, User};

/// A session as shown to its owner: public id and metadata, never the token or its hash.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    /// Public id, usable with `DELETE /sessions/{id}`.
    pub id: SessionId,
    /// When the session was created (the login).
    pub created_at: DateTime<Utc>,
    /// Last recorded activity (refreshed at most every few minutes).
    pub last_seen_at: DateTime<Utc>,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// The user agent that logged in.
    pub user_agent: Option<String>,
    /// The IP address that logged in, when known.
    pub ip_address: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl SessionInfo {
    pub(crate) fn from_record(record: SessionRecord, current: &SessionId) -> Self {
        Self {
            current: &record.id == current,
            id: record.id,
            created_at: record.created_at,
            last_seen_at: record.updated_at,
            expires_at: record.expires_at,
            user_agent: record.user_agent,
            ip_address: record.ip_address,
        }
    }

    pub(crate) fn from_session(session: &Session) -> Self {
        Self {
            id: session.id.clone(),
            created_at: session.created_at,
            last_seen_at: session.updated_at,
            expires_at: session.expires_at,
            user_agent: session.user_agent.clone(),
            ip_address: session.ip_address.clone(),
            current: true,
        }
    }
}

/// Body of a successful login or registration.
#[derive(Debug, Clone, Serialize)]
pub struct LoginResponse {
    /// The user.
    pub user: User,
    /// The new session.
    pub session: SessionInfo,
    /// The session token, only when the request asked for bearer mode (`"bearer": true`); otherwise the
    /// token travels only in the `HttpOnly` cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Body of `GET /user`.
#[derive(Debug, Clone, Serialize)]
pub struct UserResponse {
    /// The current user.
    pub user: User,
}

/// Body of `GET /session`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionResponse {
    /// The current session.
    pub session: SessionInfo,
}

/// Body of `GET /sessions`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionsResponse {
    /// The user's live sessions, newest first.
    pub sessions: Vec<SessionInfo>,
}

/// Body of `POST /sessions/revoke-others`.
#[derive(Debug, Clone, Serialize)]
pub struct RevokedResponse {
    /// How many sessions were revoked.
    pub revoked: u64,
}
