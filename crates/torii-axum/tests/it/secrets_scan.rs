//! Secrets never leave in the clear: one run through every password and email flow, then a scan of
//! everything this test binary has logged (every test's, at debug level) and of every byte of the
//! database file for the passwords, session tokens, device cookie and single-use link tokens it used.
//! Tokens are stored as hashes and passwords as Argon2id hashes, so none may appear as given.

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use torii_core::Torii;
use torii_core::email_flows::MessageKind;
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::audit::capture_logs;
use crate::email::{app_on, post_with_cookie, token_in};
use crate::support::{Reply, get_with_cookie, post_json, send, with_cookie};

const EMAIL: &str = "scan@example.com";
const FIRST_PASSWORD: &str = "scan first passphrase 6c1d";
const WRONG_PASSWORD: &str = "scan wrong guess 93ab";
const RESET_PASSWORD: &str = "scan reset passphrase 4e77";
const CHANGED_PASSWORD: &str = "scan changed passphrase a01f";

/// The value of the cookie `name` that `reply` sets, if any.
fn cookie_named(reply: &Reply, name: &str) -> Option<String> {
    reply.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|set| {
        let (key, value) = set.split(';').next()?.split_once('=')?;
        (key == name && !value.is_empty()).then(|| value.to_owned())
    })
}

/// A database file of its own, removed (with its journal files) when dropped.
struct DatabaseFile(PathBuf);

impl DatabaseFile {
    fn new() -> Self {
        let name = format!("torii-secrets-scan-{}.db", torii_core::SessionToken::new_random().hash().as_str());
        Self(std::env::temp_dir().join(&name[..48]))
    }

    fn files(&self) -> Vec<PathBuf> {
        ["", "-wal", "-shm", "-journal"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", self.0.display())))
            .collect()
    }
}

impl Drop for DatabaseFile {
    fn drop(&mut self) {
        for file in self.files() {
            let _ = std::fs::remove_file(file);
        }
    }
}

#[tokio::test]
async fn no_secret_reaches_the_logs_or_the_database() {
    let log = capture_logs();
    let database = DatabaseFile::new();
    let repositories =
        SqliteRepositoryProvider::connect(&format!("sqlite://{}?mode=rwc", database.0.display())).await.unwrap();
    repositories.migrate().await.unwrap();
    let torii = Arc::new(Torii::new(Arc::new(repositories)));
    let app = app_on(torii.clone(), |c| c);
    let mut secrets: Vec<String> =
        [FIRST_PASSWORD, WRONG_PASSWORD, RESET_PASSWORD, CHANGED_PASSWORD].map(str::to_owned).to_vec();

    // Registration (and its verification link), a wrong guess, a login with its device cookie.
    let reply =
        send(&app.router, post_json("/auth/register", &json!({ "email": EMAIL, "password": FIRST_PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    secrets.push(reply.cookie_token().unwrap());
    secrets.push(token_in(&app.link_to(EMAIL, MessageKind::EmailVerification).await));
    let reply =
        send(&app.router, post_json("/auth/login", &json!({ "email": EMAIL, "password": WRONG_PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.raw);
    let reply =
        send(&app.router, post_json("/auth/login", &json!({ "email": EMAIL, "password": FIRST_PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    secrets.push(reply.cookie_token().unwrap());
    secrets.push(cookie_named(&reply, "torii_device").expect("a device cookie"));

    // A magic link, redeemed.
    let reply = send(&app.router, post_json("/auth/magic-link", &json!({ "email": EMAIL }))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let magic = token_in(&app.link_to(EMAIL, MessageKind::MagicLink).await);
    let reply = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": magic }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    secrets.extend([magic, reply.cookie_token().unwrap()]);

    // A reset.
    let reply = send(&app.router, post_json("/auth/password/forgot", &json!({ "email": EMAIL }))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let reset = token_in(&app.link_to(EMAIL, MessageKind::PasswordReset).await);
    let body = json!({ "token": reset, "new_password": RESET_PASSWORD });
    let reply = send(&app.router, post_json("/auth/password/reset", &body)).await;
    assert!(reply.status.is_success(), "{}", reply.raw);
    secrets.push(reset);

    // A bearer login, then a cookie login that changes the password and re-authenticates.
    let body = json!({ "email": EMAIL, "password": RESET_PASSWORD, "bearer": true });
    let reply = send(&app.router, post_json("/auth/login", &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    secrets.push(reply.body["token"].as_str().unwrap().to_owned());
    let reply =
        send(&app.router, post_json("/auth/login", &json!({ "email": EMAIL, "password": RESET_PASSWORD }))).await;
    let session = reply.cookie_token().unwrap();
    secrets.push(session.clone());
    let body = json!({ "current_password": RESET_PASSWORD, "new_password": CHANGED_PASSWORD });
    let reply = send(&app.router, post_with_cookie("/auth/password/change", &session, &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let reply =
        send(&app.router, post_with_cookie("/auth/reauthenticate", &session, &json!({ "password": CHANGED_PASSWORD })))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let session = reply.cookie_token().unwrap();
    secrets.push(session.clone());

    // The user's own security events are shown; then the session ends.
    let events = send(&app.router, get_with_cookie("/auth/security-events", &session)).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.raw);
    let logout = with_cookie(Method::POST, "/auth/logout", &session)
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    assert!(send(&app.router, logout).await.status.is_success());
    app.flows.wait_idle().await;
    drop(app);
    drop(torii);

    let logged = log.text();
    let stored: Vec<Vec<u8>> = database.files().iter().filter_map(|file| std::fs::read(file).ok()).collect();
    assert!(!stored.is_empty(), "the database file was written");
    for secret in &secrets {
        assert!(secret.len() >= 16, "a secret worth scanning for");
        assert!(!logged.contains(secret.as_str()), "a secret of {} characters was logged", secret.len());
        assert!(!events.raw.contains(secret.as_str()), "a secret reached the security events");
        for bytes in &stored {
            let found = bytes.windows(secret.len()).any(|window| window == secret.as_bytes());
            assert!(!found, "a secret of {} characters is stored in the database as given", secret.len());
        }
    }
}
