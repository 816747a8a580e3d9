//! What a request says about its client: user agent and IP address, recorded on new sessions.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use crate::proxy::TrustedProxies;

/// Longest user agent kept; longer ones are cut (they are informational, and unbounded input does not
/// belong in the sessions table).
const MAX_USER_AGENT: usize = 512;

/// The client's user agent and IP address.
///
/// The IP comes from axum's `ConnectInfo<SocketAddr>` when the app is served with
/// `into_make_service_with_connect_info`; with plain `axum::serve(listener, app)` it is `None`.
/// Forwarding headers (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) are believed only from the
/// [`TrustedProxies`] found in the request's extensions (the auth router adds its own; add yours with
/// `.layer(axum::Extension(trusted_proxies))`), by the rules described there; from anyone else they
/// are ignored, since any client can send them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The `User-Agent` header, cut to 512 characters.
    pub user_agent: Option<String>,
    /// The peer address, when known.
    pub ip_address: Option<String>,
}

impl ClientInfo {
    /// Reads the client's details from a request.
    pub fn from_parts(parts: &Parts) -> Self {
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect());
        let ip_address = client_ip(parts).map(|ip| ip.to_string());
        Self { user_agent, ip_address }
    }

    /// The client's IP address, parsed.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip_address.as_deref().and_then(|ip| ip.parse().ok())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

impl From<ClientInfo> for torii_core::ClientContext {
    fn from(client: ClientInfo) -> Self {
        Self { ip_address: client.ip_address, user_agent: client.user_agent }
    }
}

/// Middleware that makes the request's [`ClientInfo`] the client of every audit event recorded while
/// it is handled (see `torii_core::audit::with_client_context`). The auth router applies it to its own
/// routes; add it to yours (`axum::middleware::from_fn(audit_client_context)`) when your handlers call
/// the coordinator, so their events say where the request came from.
pub async fn audit_client_context(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let client = ClientInfo::from_parts(&parts).into();
    torii_core::audit::with_client_context(client, next.run(Request::from_parts(parts, body))).await
}

/// The client address of a request: the one rule every route and extractor uses.
pub(crate) fn client_ip(parts: &Parts) -> Option<IpAddr> {
    match parts.extensions.get::<TrustedProxies>() {
        Some(proxies) => proxies.client_ip_of(parts),
        None => TrustedProxies::none().client_ip_of(parts),
    }
}
