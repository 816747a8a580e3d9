//! The extractors with the documented state, with an app's own state, optional, and with connect info.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use torii_axum::{AuthContext, AuthSession, AuthUser, CookieConfig};
use torii_core::Torii;

use crate::support::*;

async fn maybe_user(user: Option<AuthUser>) -> Json<Value> {
    Json(json!({ "email": user.map(|u| u.email.clone()) }))
}

async fn session_id(session: AuthSession) -> Json<Value> {
    Json(json!({ "session_id": session.id }))
}

#[tokio::test]
async fn optional_user_is_none_without_a_session_and_some_with_one() {
    let torii = torii().await;
    let auth = torii_axum::routes(torii.clone()).with_cookie_config(CookieConfig::development()).build();
    let app = Router::new()
        .nest("/auth", auth)
        .route("/maybe", get(maybe_user))
        .route("/session-id", get(session_id))
        .with_state(torii.clone());
    let anonymous =
        send(&app, axum::http::Request::builder().uri("/maybe").body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.body["email"], Value::Null);
    let invalid = send(&app, get_with_cookie("/maybe", "not-a-token")).await;
    assert_eq!(invalid.body["email"], Value::Null);

    let token = register(&app, "ada@example.com").await;
    let known = send(&app, get_with_cookie("/maybe", &token)).await;
    assert_eq!(known.body["email"], "ada@example.com");
    let session = send(&app, get_with_cookie("/session-id", &token)).await;
    assert!(session.body["session_id"].is_string());

    // A storage failure is an error, not "anonymous".
    torii.storage().pool().close().await;
    let failed = send(&app, get_with_cookie("/maybe", &token)).await;
    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
}

/// An application's own state, with the coordinator as one field among others.
#[derive(Clone)]
struct AppState {
    torii: Arc<Torii<Repo>>,
    greeting: &'static str,
}

impl FromRef<AppState> for AuthContext {
    fn from_ref(state: &AppState) -> Self {
        AuthContext::new(state.torii.clone()).with_cookie_config(&CookieConfig::development())
    }
}

async fn greet(axum::extract::State(state): axum::extract::State<AppState>, user: AuthUser) -> String {
    format!("{} {}", state.greeting, user.email)
}

#[tokio::test]
async fn works_with_an_apps_own_state_via_from_ref() {
    let torii = torii().await;
    let auth = torii_axum::routes(torii.clone()).with_cookie_config(CookieConfig::development()).build();
    let app =
        Router::new().nest("/auth", auth).route("/greet", get(greet)).with_state(AppState { torii, greeting: "hello" });
    let token = register(&app, "ada@example.com").await;
    let reply = send(&app, get_with_cookie("/greet", &token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.raw, "hello ada@example.com");
    assert_eq!(send(&app, get_with_bearer("/greet", &token)).await.raw, "hello ada@example.com");
}

async fn serve(app: Router, connect_info: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if connect_info {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        } else {
            axum::serve(listener, app).await.unwrap();
        }
    });
    addr
}

/// A minimal HTTP/1.1 client over a raw socket: enough for one request with a JSON body.
async fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>, cookie: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: it-test/1.0\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = cookie {
        request.push_str(&format!("Cookie: torii_session={token}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

fn token_from(response: &str) -> String {
    let line = response.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: torii_session=")).unwrap();
    line["set-cookie: torii_session=".len()..].split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn real_server_records_the_client_ip_when_connect_info_is_present() {
    let torii = torii().await;
    let addr = serve(seed_app(torii.clone(), CookieConfig::development()), true).await;
    let (status, response) =
        http(addr, "POST", "/auth/register", Some(&json!({ "email": "ada@example.com", "password": PASSWORD })), None)
            .await;
    assert_eq!(status, 201, "{response}");
    let token = token_from(&response);
    let (status, response) = http(addr, "GET", "/auth/session", None, Some(&token)).await;
    assert_eq!(status, 200);
    assert!(response.contains("\"ip_address\":\"127.0.0.1\""), "{response}");
    assert!(response.contains("\"user_agent\":\"it-test/1.0\""), "{response}");
}

#[tokio::test]
async fn real_server_without_connect_info_still_works() {
    // Served exactly as the documentation does: `axum::serve(listener, app)`.
    let torii = torii().await;
    let addr = serve(seed_app(torii.clone(), CookieConfig::development()), false).await;
    let (status, response) =
        http(addr, "POST", "/auth/register", Some(&json!({ "email": "ada@example.com", "password": PASSWORD })), None)
            .await;
    assert_eq!(status, 201, "{response}");
    let token = token_from(&response);
    let (status, response) = http(addr, "GET", "/protected", None, Some(&token)).await;
    assert_eq!(status, 200, "{response}");
    assert!(response.contains("ada@example.com"));
    let (_, response) = http(addr, "GET", "/auth/session", None, Some(&token)).await;
    assert!(response.contains("\"ip_address\":null"), "{response}");
}
