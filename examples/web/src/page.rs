//! The server-rendered page and its script and style sheet, compiled into the binary.
//!
//! The page is static: the script asks the auth routes who is logged in and fills it in. Everything
//! the page shows that a user or their browser supplied (email, user agent) is inserted as text, never
//! as markup, and the Content-Security-Policy allows only this origin's own script and style, so an
//! injected `<script>` or inline handler would not run even if it slipped through.

use axum::Router;
use axum::http::header::{self, HeaderValue};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../static/index.html");
const APP_JS: &str = include_str!("../static/app.js");
const PASSKEY_JS: &str = include_str!("../static/passkey.js");
const EMAIL_JS: &str = include_str!("../static/email.js");
const OAUTH_JS: &str = include_str!("../static/oauth.js");
const STYLE_CSS: &str = include_str!("../static/style.css");

/// No inline script or style, no plugins, no framing, no `<base>` tricks; fetches to this origin only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /`, its scripts (`/app.js`, `/passkey.js`, `/email.js`) and `GET /style.css`, each with the security
/// headers.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| asset("text/html; charset=utf-8", INDEX_HTML)))
        .route("/app.js", get(|| asset("text/javascript; charset=utf-8", APP_JS)))
        .route("/passkey.js", get(|| asset("text/javascript; charset=utf-8", PASSKEY_JS)))
        .route("/email.js", get(|| asset("text/javascript; charset=utf-8", EMAIL_JS)))
        .route("/oauth.js", get(|| asset("text/javascript; charset=utf-8", OAUTH_JS)))
        .route("/style.css", get(|| asset("text/css; charset=utf-8", STYLE_CSS)))
        .layer(middleware::map_response(security_headers))
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Revalidate every time, so a rebuilt binary's page and script are never mixed with stale copies.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
