//! Cross-site request forgery defence for cookie-authenticated requests.
//!
//! A browser attaches the session cookie to requests that another site triggers. Such requests are
//! refused when the browser says they are cross-site (`Sec-Fetch-Site: cross-site`), or when their
//! `Origin` is neither this host nor an allowed origin. State-changing requests must also be
//! `application/json`, which a cross-site HTML form cannot send without a CORS preflight.
//! Only a request that is really authenticated by a bearer token skips these checks: it carries no
//! session cookie, and its `Authorization: Bearer` token is a live session (a cross-site page cannot
//! set that header without a preflight). Any other `Authorization` header proves nothing: browsers
//! attach `Basic` credentials to cross-site requests on their own.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::context::AuthContext;
use crate::error::ApiError;
use crate::extract::{authenticate, find_token};

/// Origins allowed besides the request's own host, and how requests are authenticated.
#[derive(Debug, Clone)]
pub(crate) struct CsrfConfig {
    pub(crate) allowed_origins: Arc<[String]>,
    pub(crate) context: AuthContext,
}

pub(crate) async fn csrf_guard(State(config): State<CsrfConfig>, request: Request, next: Next) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let bearer = bearer_authenticated(&config.context, &mut parts).await;
    if let Err(err) = check(&config, &parts.method, &parts.headers, bearer) {
        return err.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when the credential in use is a bearer token (no session cookie) and it names a live session.
/// The lookup is kept in the request, so the handler's extractor does not repeat it.
async fn bearer_authenticated(context: &AuthContext, parts: &mut axum::http::request::Parts) -> bool {
    let Some((_, crate::extract::TokenSource::Bearer)) = find_token(&parts.headers, &context.cookie_config()) else {
        return false;
    };
    matches!(authenticate(parts, context).await, Ok(Some(auth)) if auth.is_bearer())
}

fn check(
    config: &CsrfConfig,
    method: &Method,
    headers: &HeaderMap,
    bearer_authenticated: bool,
) -> Result<(), ApiError> {
    if is_safe(method) || bearer_authenticated {
        return Ok(());
    }
    if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site")) {
        return Err(ApiError::cross_site());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| ApiError::cross_site())?;
        if !origin_allowed(config, origin, headers) {
            return Err(ApiError::cross_site());
        }
    }
    if !is_json(headers) {
        return Err(ApiError::unsupported_media_type());
    }
    Ok(())
}

fn origin_allowed(config: &CsrfConfig, origin: &str, headers: &HeaderMap) -> bool {
    if config.allowed_origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(origin)) {
        return true;
    }
    // "null" (sandboxed frames, some redirects) has no host and is never same-origin.
    let Some((_scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|host| host.eq_ignore_ascii_case(authority))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn config(allowed_origins: &[&str]) -> CsrfConfig {
        struct Nobody;
        #[async_trait::async_trait]
        impl crate::context::SessionAuthority for Nobody {
            async fn authenticate(
                &self,
                _: &torii_core::SessionToken,
                _: &torii_core::ClientContext,
            ) -> Result<(torii_core::User, torii_core::Session), torii_core::ToriiError> {
                Err(torii_core::ToriiError::SessionNotFound)
            }
        }
        CsrfConfig {
            allowed_origins: allowed_origins.iter().map(|o| (*o).to_owned()).collect(),
            context: AuthContext::from_authority(Arc::new(Nobody)),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_json_passes() {
        let cfg = config(&[]);
        let h = headers(&[
            ("host", "app.example"),
            ("origin", "https://app.example"),
            ("content-type", "application/json"),
        ]);
        assert!(check(&cfg, &Method::POST, &h, false).is_ok());
        let h = headers(&[("sec-fetch-site", "same-origin"), ("content-type", "application/json; charset=utf-8")]);
        assert!(check(&cfg, &Method::DELETE, &h, false).is_ok());
    }

    #[test]
    fn cross_site_is_forbidden() {
        let cfg = config(&[]);
        let json = ("content-type", "application/json");
        for h in [
            headers(&[("sec-fetch-site", "cross-site"), json]),
            headers(&[("host", "app.example"), ("origin", "https://evil.example"), json]),
            headers(&[("host", "app.example"), ("origin", "null"), json]),
        ] {
            assert_eq!(check(&cfg, &Method::POST, &h, false).err().map(|e| e.status().as_u16()), Some(403));
        }
    }

    #[test]
    fn forms_are_refused_and_bearer_sessions_and_reads_pass() {
        let cfg = config(&[]);
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(check(&cfg, &Method::POST, &form, false).err().map(|e| e.status().as_u16()), Some(415));
        let cross = headers(&[("authorization", "Bearer abc"), ("sec-fetch-site", "cross-site")]);
        assert!(check(&cfg, &Method::POST, &cross, true).is_ok());
        // An Authorization header alone (Basic, or a bearer token that is not a session) proves nothing.
        assert_eq!(check(&cfg, &Method::POST, &cross, false).err().map(|e| e.status().as_u16()), Some(403));
        assert!(check(&cfg, &Method::GET, &headers(&[("sec-fetch-site", "cross-site")]), false).is_ok());
    }

    #[test]
    fn allowed_origins_pass() {
        let cfg = config(&["https://app.example"]);
        let h = headers(&[
            ("host", "internal:8080"),
            ("origin", "https://app.example"),
            ("content-type", "application/json"),
        ]);
        assert!(check(&cfg, &Method::POST, &h, false).is_ok());
    }
}
