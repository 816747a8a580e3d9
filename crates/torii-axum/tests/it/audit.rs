//! The audit log over HTTP: flows through the real router record events in storage, through the
//! application's hook and through `tracing` (target `torii::audit`), with the client's address and user
//! agent, and never a secret; `GET /auth/security-events` shows the caller their own events only.

use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use torii_axum::CookieConfig;
use torii_core::Torii;
use torii_core::storage::{AuditEvent, AuditEventKind, AuditLogStorage as _, UserStorage as _};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::support::{PASSWORD, Repo, assert_error, get_with_cookie, seed_app, send, with_cookie};

const CLIENT_IP: &str = "203.0.113.9";
const CLIENT_UA: &str = "AuditTest/1.0 (X11)";
const WRONG_PASSWORD: &str = "not the password at all";

/// Everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
pub(crate) struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// The lines logged at target `torii::audit`.
    fn audit_lines(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines().filter(|line| line.contains("torii::audit")).map(str::to_owned).collect()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Everything this test binary logs, through one global subscriber (a per-test subscriber would race
/// with tests running without one over `tracing`'s callsite cache). Tests look up their own events by
/// id.
pub(crate) fn capture_logs() -> CapturedLog {
    static LOG: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = CapturedLog::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        log
    })
    .clone()
}

struct Fixture {
    app: Router,
    torii: Arc<Torii<Repo>>,
    hooked: Receiver<AuditEvent>,
}

/// The seed app over a coordinator whose hook forwards every event to `hooked`.
async fn fixture() -> Fixture {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let (sender, hooked) = channel();
    let sender = Mutex::new(sender);
    let torii = Arc::new(Torii::new(Arc::new(repositories)).on_event(move |event| {
        let _ = sender.lock().unwrap().send(event.clone());
    }));
    Fixture { app: seed_app(torii.clone(), CookieConfig::development()), torii, hooked }
}

impl Fixture {
    /// The next `n` events the hook received (they arrive on the hook thread, in order).
    fn hooked(&self, n: usize) -> Vec<AuditEvent> {
        (0..n).map(|_| self.hooked.recv_timeout(Duration::from_secs(10)).expect("an event for the hook")).collect()
    }

    async fn stored(&self, email: &str) -> Vec<AuditEvent> {
        let user = self.torii.storage().get_user_by_email(email).await.unwrap().unwrap();
        self.torii.storage().list_audit_events_for_user(&user.id, 100).await.unwrap()
    }
}

/// A JSON POST from the test client (its address and user agent set as a real server would).
fn from_client(uri: &str, body: &Value) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, CLIENT_UA)
        .body(Body::from(body.to_string()))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 9], 40000))));
    request
}

/// A request with the session cookie, from the test client.
fn with_client_cookie(method: Method, uri: &str, token: &str) -> Request<Body> {
    let mut request = with_cookie(method, uri, token)
        .header(header::USER_AGENT, CLIENT_UA)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 9], 40000))));
    request
}

fn kinds(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn register(app: &Router, email: &str) -> String {
    let reply = send(app, from_client("/auth/register", &json!({ "email": email, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.cookie_token().unwrap()
}

async fn login(app: &Router, email: &str, password: &str) -> crate::support::Reply {
    send(app, from_client("/auth/login", &json!({ "email": email, "password": password }))).await
}

#[tokio::test]
async fn password_flows_are_recorded_in_storage_through_the_hook_and_in_tracing() {
    let log = capture_logs();
    let f = fixture().await;
    let first = register(&f.app, "ada@example.com").await;
    assert_eq!(login(&f.app, "ada@example.com", WRONG_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let reply = login(&f.app, "ada@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    let second = reply.cookie_token().unwrap();
    let reply = send(&f.app, with_client_cookie(Method::POST, "/auth/logout", &second)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = send(&f.app, with_client_cookie(Method::POST, "/auth/sessions/revoke-others", &first)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);

    // Storage: newest first, every event with the client's address and user agent.
    let stored = f.stored("ada@example.com").await;
    assert_eq!(
        kinds(&stored),
        ["session.revoked_others", "session.revoked", "login.succeeded", "login.failed", "user.registered"]
    );
    let user_id = stored[0].user_id.clone().unwrap();
    for event in &stored {
        assert_eq!(event.user_id.as_ref(), Some(&user_id));
        assert_eq!(event.ip_address.as_deref(), Some(CLIENT_IP), "{event:?}");
        assert_eq!(event.user_agent.as_deref(), Some(CLIENT_UA), "{event:?}");
    }
    assert_eq!(stored[1].detail["reason"], "logout");
    assert_eq!(stored[2].detail["method"], "password");
    assert_eq!(stored[3].detail, json!({ "method": "password", "reason": "wrong_password" }));

    // The hook saw the same events, in the order they happened.
    let hooked = f.hooked(5);
    let mut oldest_first = stored.clone();
    oldest_first.reverse();
    assert_eq!(hooked, oldest_first);

    // Tracing: one line per event at target torii::audit, with kind, user and client.
    let lines = log.audit_lines();
    for event in &stored {
        let line = lines.iter().find(|l| l.contains(&event.id.to_string())).unwrap_or_else(|| panic!("{lines:?}"));
        assert!(line.contains(event.kind.as_str()) && line.contains(user_id.as_str()), "{line}");
        assert!(line.contains(CLIENT_IP) && line.contains(CLIENT_UA), "{line}");
    }
}

#[tokio::test]
async fn a_failed_login_for_an_unknown_address_records_the_client() {
    let log = capture_logs();
    let f = fixture().await;
    let reply = login(&f.app, "nobody@example.com", WRONG_PASSWORD).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");

    let [event] = f.hooked(1).try_into().unwrap();
    assert_eq!(event.kind, AuditEventKind::LOGIN_FAILED);
    assert_eq!(event.user_id, None);
    assert_eq!(event.ip_address.as_deref(), Some(CLIENT_IP));
    assert_eq!(event.user_agent.as_deref(), Some(CLIENT_UA));
    assert_eq!(event.detail, json!({ "method": "password", "reason": "unknown_account" }));
    // Stored too (read back by id, since it belongs to no account).
    let stored: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT ip_address, user_id FROM audit_events WHERE id = ?")
            .bind(event.id.as_str())
            .fetch_optional(f.torii.storage().pool())
            .await
            .unwrap()
            .map(|(ip, user): (Option<String>, Option<String>)| (ip.unwrap_or_default(), user));
    assert_eq!(stored, Some((CLIENT_IP.to_owned(), None)));

    let lines = log.audit_lines();
    let line = lines.iter().find(|l| l.contains(&event.id.to_string())).unwrap_or_else(|| panic!("{lines:?}"));
    assert!(line.contains("login.failed") && line.contains(CLIENT_IP) && line.contains(CLIENT_UA), "{line}");
    assert!(!lines.iter().any(|l| l.contains("nobody@example.com")), "the address tried is not logged");
}

#[tokio::test]
async fn users_see_their_own_security_events_only() {
    let f = fixture().await;
    let ada = register(&f.app, "ada@example.com").await;
    let bob = register(&f.app, "bob@example.com").await;
    assert_eq!(login(&f.app, "bob@example.com", WRONG_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let reply = send(&f.app, with_client_cookie(Method::POST, "/auth/sessions/revoke-others", &bob)).await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = send(&f.app, get_with_cookie("/auth/security-events", &ada)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let events = reply.body["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["user.registered"], "Ada sees nothing of Bob's: {}", reply.raw);
    assert_eq!(events[0]["ip_address"], CLIENT_IP);
    assert_eq!(events[0]["user_agent"], CLIENT_UA);
    assert!(events[0].get("user_id").is_none(), "the account is implied: {}", reply.raw);

    let reply = send(&f.app, get_with_cookie("/auth/security-events", &bob)).await;
    let kinds: Vec<&str> =
        reply.body["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["session.revoked_others", "login.failed", "user.registered"]);

    // Paging by limit, with a cap and a JSON error for nonsense.
    let reply = send(&f.app, get_with_cookie("/auth/security-events?limit=1", &bob)).await;
    assert_eq!(reply.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(reply.body["events"][0]["kind"], "session.revoked_others");
    let reply = send(&f.app, get_with_cookie("/auth/security-events?limit=1000000", &bob)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&f.app, get_with_cookie("/auth/security-events?limit=abc", &bob)).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    assert!(!reply.raw.contains("abc"), "input is not echoed");
    let reply = send(&f.app, Request::builder().uri("/auth/security-events").body(Body::empty()).unwrap()).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_panicking_hook_or_a_broken_audit_table_never_fails_a_login() {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let (sender, received) = channel();
    let sender = Mutex::new(sender);
    let torii =
        Torii::new(Arc::new(repositories)).on_event(|_| panic!("a buggy application hook")).on_event(move |event| {
            let _ = sender.lock().unwrap().send(event.kind.clone());
        });
    let torii = Arc::new(torii);
    let app = seed_app(torii.clone(), CookieConfig::development());
    register(&app, "ada@example.com").await;
    assert_eq!(login(&app, "ada@example.com", PASSWORD).await.status, StatusCode::OK);
    // The second hook still sees every event, after the first one panicked on each.
    let seen: Vec<_> = (0..2).map(|_| received.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
    assert_eq!(seen, [AuditEventKind::USER_REGISTERED, AuditEventKind::LOGIN_SUCCEEDED]);

    // The audit table is gone: events cannot be stored, yet logins still work.
    let log = capture_logs();
    sqlx::query("DROP TABLE audit_events").execute(torii.storage().pool()).await.unwrap();
    assert_eq!(login(&app, "ada@example.com", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(login(&app, "ada@example.com", WRONG_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert!(log.text().contains("could not store an audit event"), "{}", log.text());
    assert_eq!(received.recv_timeout(Duration::from_secs(10)).unwrap(), AuditEventKind::LOGIN_SUCCEEDED);
}

#[tokio::test]
async fn no_secret_reaches_the_audit_log_the_hook_or_the_route() {
    let log = capture_logs();
    let f = fixture().await;
    let mut secrets = vec![PASSWORD.to_owned(), WRONG_PASSWORD.to_owned()];
    secrets.push(register(&f.app, "ada@example.com").await);
    assert_eq!(login(&f.app, "ada@example.com", WRONG_PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login(&f.app, "nobody@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let reply = send(
        &f.app,
        from_client("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true })),
    )
    .await;
    let bearer = reply.body["token"].as_str().unwrap().to_owned();
    secrets.push(bearer.clone());
    let reply = login(&f.app, "ada@example.com", PASSWORD).await;
    let cookie = reply.cookie_token().unwrap();
    secrets.push(cookie.clone());
    let reply = send(&f.app, with_client_cookie(Method::POST, "/auth/logout", &cookie)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let route = send(&f.app, get_with_cookie("/auth/security-events", &secrets[2])).await;
    assert_eq!(route.status, StatusCode::OK);

    let stored = f.stored("ada@example.com").await;
    let hooked = f.hooked(6);
    let mut haystacks = vec![route.raw.clone(), format!("{stored:?}"), format!("{hooked:?}")];
    haystacks.extend(log.audit_lines());
    assert!(haystacks.len() > 6, "{haystacks:?}");
    for secret in &secrets {
        for haystack in &haystacks {
            assert!(!haystack.contains(secret.as_str()), "a secret in {haystack}");
        }
        // Nor a token's stored form.
        let hash = torii_core::TokenHash::of(secret.as_str());
        for haystack in &haystacks {
            assert!(!haystack.contains(hash.as_str()), "a token hash in {haystack}");
        }
    }
}
