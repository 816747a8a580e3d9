//! End to end against a real SMTP server: the auth routes (the real router over SQLite) send through
//! [`SmtpMailer`] to `aiosmtpd` (from PyPI) on a free 127.0.0.1 port, which stores each message in a
//! Maildir. The tests read the received mail, follow its link and finish each flow.
//!
//! Without `aiosmtpd` (`python3 -m pip install aiosmtpd==1.4.6`; `.ci/run` installs it) the tests are
//! skipped with a notice, or fail when `CI` is set. `TORII_TEST_PYTHON` picks the interpreter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub, missing_docs)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use torii_axum::CookieConfig;
use torii_core::Torii;
use torii_core::email_flows::{EmailConfig, EmailFlows};
use torii_mailer_smtp::{SmtpConfig, SmtpMailer};
use torii_storage_sqlite::SqliteRepositoryProvider;
use tower::ServiceExt as _;

const BASE_URL: &str = "https://app.example";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// A running `aiosmtpd` that writes what it receives to a Maildir; killed on drop.
struct SmtpSink {
    child: Child,
    maildir: tempfile::TempDir,
    port: u16,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> String {
    std::env::var("TORII_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Starts the sink, or returns `None` (after a notice) when `aiosmtpd` is not installed. Under `CI`
/// a missing sink is a failure.
fn start_sink() -> Option<SmtpSink> {
    let available = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        let notice =
            "aiosmtpd is not installed (python3 -m pip install aiosmtpd==1.4.6): SMTP end-to-end tests skipped";
        assert!(std::env::var_os("CI").is_none(), "{notice}");
        eprintln!("note: {notice}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let maildir = tempfile::tempdir().unwrap();
    let child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let sink = SmtpSink { child, maildir, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start listening on 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(sink)
}

impl SmtpSink {
    /// Every received message (raw RFC 5322 text) addressed to `to`, oldest first.
    fn messages_to(&self, to: &str) -> Vec<String> {
        let new: PathBuf = self.maildir.path().join("mail").join("new");
        let Ok(entries) = std::fs::read_dir(&new) else { return Vec::new() };
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&format!("To: {to}"))))
            .collect()
    }
}

/// The plain-text part of a message, decoded.
fn plain_text(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let start = raw.find("Content-Type: text/plain").expect("a text/plain part");
    let part = &raw[start..];
    let (headers, rest) = part.split_once("\n\n").expect("part headers");
    let body = &rest[..rest.find("\n--").unwrap_or(rest.len())];
    if headers.contains("quoted-printable") {
        decode_quoted_printable(body)
    } else if headers.contains("base64") {
        let compact: String = body.split_whitespace().collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).unwrap()).unwrap()
    } else {
        body.to_owned()
    }
}

fn decode_quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The link in the newest message to `to` whose text contains `subject_contains`, which must start with
/// the configured base URL. Messages of different kinds are delivered in the background and may arrive
/// in any order (registration's verification mail can land after a magic link requested right after
/// it), so the newest message of the wanted kind is picked, not simply the newest one.
fn link_in_last(sink: &SmtpSink, to: &str, subject_contains: &str) -> String {
    let messages = sink.messages_to(to);
    assert!(!messages.is_empty(), "no mail to {to}");
    let raw = messages
        .iter()
        .rev()
        .find(|raw| raw.contains(subject_contains))
        .unwrap_or_else(|| panic!("no mail to {to} containing {subject_contains:?} among {messages:?}"));
    let text = plain_text(raw);
    let start = text.find(BASE_URL).unwrap_or_else(|| panic!("no link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

struct App {
    router: Router,
    flows: EmailFlows<SqliteRepositoryProvider>,
}

async fn app(sink: &SmtpSink) -> App {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let torii = Arc::new(Torii::new(Arc::new(repositories)));
    let smtp = SmtpConfig::danger_plaintext("127.0.0.1", sink.port).timeout(Duration::from_secs(10));
    let mailer = Arc::new(SmtpMailer::new(&smtp).unwrap());
    let config = EmailConfig::new("Acme", BASE_URL, "noreply@app.example").unwrap();
    let flows = EmailFlows::new(torii.clone(), config, mailer);
    let auth = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_email_flows(flows.clone())
        .build();
    App { router: Router::new().nest("/auth", auth).with_state(torii), flows }
}

struct Reply {
    status: StatusCode,
    body: Value,
    raw: String,
    cookie: Option<String>,
}

impl App {
    async fn send(&self, method: Method, uri: &str, cookie: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = cookie {
            request = request.header(header::COOKIE, format!("torii_session={token}"));
        }
        let request = match body {
            Some(body) => {
                request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        // A login also sets the device cookie; the session cookie is the other one.
        let cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| !c.starts_with("torii_device="))
            .and_then(|v| v.split(';').next())
            .and_then(|pair| pair.split_once('='))
            .map(|(_, value)| value.to_owned())
            .filter(|v| !v.is_empty());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        Reply { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null), raw, cookie }
    }

    async fn post(&self, uri: &str, body: Value) -> Reply {
        self.send(Method::POST, uri, None, Some(body)).await
    }

    /// Opens a link from a message: its page must answer 200 and leave the token usable.
    async fn open(&self, link: &str) -> String {
        let path = link.strip_prefix(BASE_URL).expect("configured base URL");
        let page = self.send(Method::GET, path, None, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.raw.contains("<form"));
        link.split_once("?token=").unwrap().1.to_owned()
    }

    async fn register(&self, email: &str) -> String {
        let reply = self.post("/auth/register", json!({ "email": email, "password": PASSWORD })).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
        reply.cookie.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magic_link_through_real_smtp() {
    let Some(sink) = start_sink() else { return };
    let app = app(&sink).await;
    app.register("ada@example.com").await;
    let reply = app.post("/auth/magic-link", json!({ "email": "ada@example.com" })).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let unknown = app.post("/auth/magic-link", json!({ "email": "nobody@example.com" })).await;
    assert_eq!((unknown.status, &unknown.raw), (reply.status, &reply.raw));
    app.flows.wait_idle().await;
    assert!(sink.messages_to("nobody@example.com").is_empty());

    let link = link_in_last(&sink, "ada@example.com", "Subject: Your sign-in link for Acme");
    assert!(link.starts_with("https://app.example/auth/magic-link?token="), "{link}");
    let token = app.open(&link).await;
    let login = app.post("/auth/magic-link/verify", json!({ "token": token })).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
    let user = app.send(Method::GET, "/auth/user", login.cookie.as_deref(), None).await;
    assert_eq!(user.body["user"]["email"], "ada@example.com");
    assert!(user.body["user"]["email_verified_at"].is_string());
    let replay = app.post("/auth/magic-link/verify", json!({ "token": token })).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_verification_through_real_smtp() {
    let Some(sink) = start_sink() else { return };
    let app = app(&sink).await;
    let session = app.register("ada@example.com").await;
    // Registration already mailed a link; let it arrive first, so the resent one (which voids it) is
    // the newest.
    app.flows.wait_idle().await;
    let reply = app.send(Method::POST, "/auth/verify-email/resend", Some(&session), Some(json!({}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    app.flows.wait_idle().await;
    let link = link_in_last(&sink, "ada@example.com", "Subject: Confirm your email address for Acme");
    let token = app.open(&link).await;
    // Followed in the browser that is signed in to the account: the address is proven by its owner,
    // so nothing is removed (without the session, the password set at sign-up would be).
    let body = Some(json!({ "token": token }));
    let verified = app.send(Method::POST, "/auth/verify-email", Some(&session), body).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    let user = app.send(Method::GET, "/auth/user", Some(&session), None).await;
    assert!(user.body["user"]["email_verified_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_through_real_smtp() {
    let Some(sink) = start_sink() else { return };
    let app = app(&sink).await;
    let session = app.register("ada@example.com").await;
    let reply = app.post("/auth/password/forgot", json!({ "email": "ada@example.com" })).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    app.flows.wait_idle().await;
    let link = link_in_last(&sink, "ada@example.com", "Subject: Reset your Acme password");
    assert!(link.starts_with("https://app.example/auth/password/reset?token="), "{link}");
    let token = app.open(&link).await;
    let reset = app.post("/auth/password/reset", json!({ "token": token, "new_password": NEW_PASSWORD })).await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.raw);
    assert_eq!(app.send(Method::GET, "/auth/user", Some(&session), None).await.status, StatusCode::UNAUTHORIZED);
    let login = app.post("/auth/login", json!({ "email": "ada@example.com", "password": NEW_PASSWORD })).await;
    assert_eq!(login.status, StatusCode::OK);
    app.flows.wait_idle().await;
    let messages = sink.messages_to("ada@example.com");
    assert!(messages.last().unwrap().contains("Subject: Your Acme password was changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_notice_through_real_smtp() {
    let Some(sink) = start_sink() else { return };
    let app = app(&sink).await;
    let session = app.register("ada@example.com").await;
    let body = json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD });
    let reply = app.send(Method::POST, "/auth/password/change", Some(&session), Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    app.flows.wait_idle().await;
    let messages = sink.messages_to("ada@example.com");
    // The registration's verification mail and the notice, delivered in the background in either order.
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().any(|m| m.contains("Subject: Confirm your email address for Acme")));
    let notice = messages.iter().find(|m| m.contains("Subject: Your Acme password was changed")).expect("the notice");
    assert!(!plain_text(notice).contains("token="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_mails_a_verification_link_through_real_smtp() {
    let Some(sink) = start_sink() else { return };
    let app = app(&sink).await;
    let session = app.register("ada@example.com").await;
    let before = app.send(Method::GET, "/auth/user", Some(&session), None).await;
    assert!(before.body["user"]["email_verified_at"].is_null(), "{}", before.raw);
    app.flows.wait_idle().await;
    assert_eq!(sink.messages_to("ada@example.com").len(), 1);
    let link = link_in_last(&sink, "ada@example.com", "Subject: Confirm your email address for Acme");
    assert!(link.starts_with("https://app.example/auth/verify-email?token="), "{link}");
    let token = app.open(&link).await;
    // Followed in the browser that is signed in to the account (see above).
    let body = Some(json!({ "token": token }));
    let verified = app.send(Method::POST, "/auth/verify-email", Some(&session), body).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    let after = app.send(Method::GET, "/auth/user", Some(&session), None).await;
    assert!(after.body["user"]["email_verified_at"].is_string(), "{}", after.raw);
}
