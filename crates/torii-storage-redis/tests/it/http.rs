//! Driving a router with `tower::ServiceExt::oneshot`: requests with the development session cookie,
//! and replies read back as JSON.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    /// The token carried by the Set-Cookie header.
    pub fn cookie_token(&self) -> Option<String> {
        // A login also sets the device cookie; the session cookie is the other one.
        let set = self
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| !c.starts_with("torii_device=") && !c.starts_with("__Host-torii_device="))?;
        let (_, value) = set.split(';').next()?.split_once('=')?;
        Some(value.to_owned()).filter(|v| !v.is_empty())
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, body, raw }
}

fn credentials(email: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "email": email, "password": PASSWORD }).to_string()))
        .unwrap()
}

async fn authenticate(app: &Router, path: &str, email: &str, expected: StatusCode) -> String {
    let mut request = credentials(email);
    *request.uri_mut() = path.parse().unwrap();
    let reply = send(app, request).await;
    assert_eq!(reply.status, expected, "{}", reply.raw);
    reply.cookie_token().expect("a session cookie")
}

/// Registers through HTTP; returns the session cookie's token.
pub async fn register(app: &Router, email: &str) -> String {
    authenticate(app, "/auth/register", email, StatusCode::CREATED).await
}

/// Logs in through HTTP; returns the session cookie's token.
pub async fn login(app: &Router, email: &str) -> String {
    authenticate(app, "/auth/login", email, StatusCode::OK).await
}

/// A request carrying the session cookie; state-changing ones are JSON, as the CSRF guard wants.
pub fn with_cookie(method: Method, uri: &str, token: &str) -> Request<Body> {
    let mut builder =
        Request::builder().method(method.clone()).uri(uri).header(header::COOKIE, format!("torii_session={token}"));
    if method != Method::GET {
        builder = builder.header(header::CONTENT_TYPE, "application/json");
    }
    builder.body(Body::empty()).unwrap()
}

/// The status of `GET /protected` with this token.
pub async fn protected(app: &Router, token: &str) -> StatusCode {
    send(app, with_cookie(Method::GET, "/protected", token)).await.status
}

/// The public id of the session this token names.
pub async fn session_id(app: &Router, token: &str) -> String {
    let reply = send(app, with_cookie(Method::GET, "/auth/session", token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.body["session"]["id"].as_str().expect("a session id").to_owned()
}
