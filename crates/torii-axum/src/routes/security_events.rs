//! `GET /security-events`: the caller's own recent security events.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use torii_core::RepositoryProvider;
use torii_core::storage::AuditEvent;

use super::RouteState;
use crate::error::ApiError;
use crate::extract::AuthUser;

/// Events returned when the request names no `limit`.
pub const DEFAULT_SECURITY_EVENTS: u32 = 20;

/// Most events one request can ask for; a larger `limit` is cut to this.
pub const MAX_SECURITY_EVENTS_PER_REQUEST: u32 = 100;

/// One security event as its account's owner sees it. Events never hold a secret; this is the whole
/// stored event minus the account id (always the caller's).
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEventInfo {
    /// The event's id.
    pub id: String,
    /// What happened, such as `login.succeeded` or `passkey.added`.
    pub kind: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The client's IP address, when known.
    pub ip_address: Option<String>,
    /// The client's user agent, when known.
    pub user_agent: Option<String>,
    /// Details of the event (a login method, a provider, a session or passkey id), or `null`.
    pub detail: serde_json::Value,
}

impl From<AuditEvent> for SecurityEventInfo {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            kind: event.kind.to_string(),
            at: event.at,
            ip_address: event.ip_address,
            user_agent: event.user_agent,
            detail: event.detail,
        }
    }
}

/// Body of `GET /security-events`.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEventsResponse {
    /// The caller's events, newest first.
    pub events: Vec<SecurityEventInfo>,
}

/// `GET /security-events?limit=N`: the caller's most recent events, newest first (20 by default, at most
/// 100). Only the caller's own events: there is no parameter naming another account.
pub(crate) async fn list<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    auth: AuthUser,
    RawQuery(query): RawQuery,
) -> Result<Json<SecurityEventsResponse>, ApiError> {
    let limit = parse_limit(query.as_deref())?;
    let events = state.torii.security_events_for_user(&auth.id, limit).await?;
    Ok(Json(SecurityEventsResponse { events: events.into_iter().map(SecurityEventInfo::from).collect() }))
}

/// Reads `limit` from the query string: a positive integer, cut to the maximum. Other parameters are
/// ignored.
fn parse_limit(query: Option<&str>) -> Result<u32, ApiError> {
    let invalid = || ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", "limit must be a positive integer");
    let Some(value) = query.unwrap_or_default().split('&').find_map(|pair| pair.strip_prefix("limit=")) else {
        return Ok(DEFAULT_SECURITY_EVENTS);
    };
    let limit: u32 = value.parse().map_err(|_| invalid())?;
    if limit == 0 {
        return Err(invalid());
    }
    Ok(limit.min(MAX_SECURITY_EVENTS_PER_REQUEST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_parsed_and_capped() {
        assert_eq!(parse_limit(None).ok(), Some(DEFAULT_SECURITY_EVENTS));
        assert_eq!(parse_limit(Some("x=1")).ok(), Some(DEFAULT_SECURITY_EVENTS));
        assert_eq!(parse_limit(Some("limit=5")).ok(), Some(5));
        assert_eq!(parse_limit(Some("a=b&limit=100000")).ok(), Some(MAX_SECURITY_EVENTS_PER_REQUEST));
        for bad in ["limit=0", "limit=-1", "limit=abc", "limit="] {
            assert_eq!(parse_limit(Some(bad)).err().map(|e| e.code()), Some("invalid_query"), "{bad}");
        }
    }
}
