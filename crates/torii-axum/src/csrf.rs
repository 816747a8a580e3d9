//! Cross-site request forgery defence for cookie-authenticated requests.
//!
//! A browser attaches the session cookie to requests that another site triggers. Such requests are
//! refused when the browser says they are cross-site (`Sec-Fetch-Site: cross-site`), or when their
//! `Origin` is neither this host nor an allowed origin. State-changing requests must also be
//! `application/json`, which a cross-site HTML form cannot send without a CORS preflight.
//! Requests carrying an `Authorization` header are not cookie-authenticated (a cross-site page cannot
//! set that header without a preflight), so they skip these checks.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Origins allowed besides the request's own host.
#[derive(Debug, Clone, Default)]
pub(crate) struct CsrfConfig {
    pub(crate) allowed_origins: Arc<[String]>,
}

pub(crate) async fn csrf_guard(State(config): State<CsrfConfig>, request: Request, next: Next) -> Response {
    if let Err(err) = check(&config, request.method(), request.headers()) {
        return err.into_response();
    }
    next.run(request).await
}

fn check(config: &CsrfConfig, method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || headers.contains_key(header::AUTHORIZATION) {
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

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_json_passes() {
        let cfg = CsrfConfig::default();
        let h = headers(&[
            ("host", "app.example"),
            ("origin", "https://app.example"),
            ("content-type", "application/json"),
        ]);
        assert!(check(&cfg, &Method::POST, &h).is_ok());
        let h = headers(&[("sec-fetch-site", "same-origin"), ("content-type", "application/json; charset=utf-8")]);
        assert!(check(&cfg, &Method::DELETE, &h).is_ok());
    }

    #[test]
    fn cross_site_is_forbidden() {
        let cfg = CsrfConfig::default();
        let json = ("content-type", "application/json");
        for h in [
            headers(&[("sec-fetch-site", "cross-site"), json]),
            headers(&[("host", "app.example"), ("origin", "https://evil.example"), json]),
            headers(&[("host", "app.example"), ("origin", "null"), json]),
        ] {
            assert_eq!(check(&cfg, &Method::POST, &h).err().map(|e| e.status().as_u16()), Some(403));
        }
    }

    #[test]
    fn forms_are_refused_and_bearer_and_reads_pass() {
        let cfg = CsrfConfig::default();
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert_eq!(check(&cfg, &Method::POST, &form).err().map(|e| e.status().as_u16()), Some(415));
        let bearer = headers(&[("authorization", "Bearer abc"), ("sec-fetch-site", "cross-site")]);
        assert!(check(&cfg, &Method::POST, &bearer).is_ok());
        assert!(check(&cfg, &Method::GET, &headers(&[("sec-fetch-site", "cross-site")])).is_ok());
    }

    #[test]
    fn allowed_origins_pass() {
        let cfg = CsrfConfig { allowed_origins: Arc::from(["https://app.example".to_owned()]) };
        let h = headers(&[
            ("host", "internal:8080"),
            ("origin", "https://app.example"),
            ("content-type", "application/json"),
        ]);
        assert!(check(&cfg, &Method::POST, &h).is_ok());
    }
}
