//! The passkey routes over HTTP, with webauthn-rs's software authenticator as the browser.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use torii_axum::CookieConfig;
use torii_core::{ManualClock, PasskeyConfig, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;
use webauthn_authenticator_rs::AuthenticatorBackend as _;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::support::{Repo, assert_error, get_with_cookie, post_json, send, with_cookie};

pub(crate) const ORIGIN: &str = "https://example.com";

pub(crate) async fn app() -> Router {
    app_on(Arc::new(ManualClock::starting_now())).await
}

/// The app on a clock the test moves.
async fn app_on(clock: Arc<ManualClock>) -> Router {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let torii: Arc<Torii<Repo>> = Arc::new(
        Torii::new(Arc::new(repositories))
            .with_clock(clock)
            .with_passkeys(PasskeyConfig::new("example.com", "Example").with_origin(ORIGIN))
            .unwrap(),
    );
    let auth =
        torii_axum::routes(torii.clone()).with_cookie_config(CookieConfig::development()).with_passkeys().build();
    Router::new().nest("/auth", auth).with_state(torii)
}

/// The software authenticator: it keeps no resident keys, so it is told which passkey to answer with
/// and the user handle is added as a browser would.
pub(crate) struct Device {
    key: SoftPasskey,
    credentials: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    pub(crate) fn new() -> Self {
        Self { key: SoftPasskey::new(true), credentials: Vec::new() }
    }

    pub(crate) fn create(&mut self, options: &Value) -> Value {
        let mut ccr: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
        }
        let handle = ccr.public_key.user.id.to_vec();
        let credential = self.key.perform_register(Url::parse(ORIGIN).unwrap(), ccr.public_key, 60_000).unwrap();
        self.credentials.push((credential.raw_id.to_vec(), handle));
        serde_json::to_value(&credential).unwrap()
    }

    pub(crate) fn get(&mut self, options: &Value) -> Value {
        let (id, handle) = self.credentials.last().cloned().unwrap();
        let mut rcr: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        rcr.public_key.allow_credentials =
            serde_json::from_value(json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(&id) }])).unwrap();
        let mut assertion = self.key.perform_auth(Url::parse(ORIGIN).unwrap(), rcr.public_key, 60_000).unwrap();
        assertion.response.user_handle = Some(handle);
        serde_json::to_value(&assertion).unwrap()
    }
}

pub(crate) fn post_with_cookie(uri: &str, token: &str, body: &Value) -> Request<Body> {
    with_cookie(Method::POST, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn delete_request(uri: &str, token: &str) -> Request<Body> {
    with_cookie(Method::DELETE, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap()
}

/// Signs up through the routes; returns the session cookie's token.
pub(crate) async fn sign_up(app: &Router, device: &mut Device, email: &str) -> String {
    let start = send(app, post_json("/auth/passkey/register/start", &json!({ "email": email }))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = device.create(&start.body["options"]);
    let body = json!({ "email": email, "challenge_id": start.body["challenge_id"], "response": response });
    let finish = send(app, post_json("/auth/passkey/register/finish", &body)).await;
    assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.raw);
    assert_eq!(finish.body["user"]["email"], email);
    assert!(finish.body.get("token").is_none(), "the token travels only in the cookie");
    finish.cookie_token().unwrap()
}

pub(crate) async fn log_in(app: &Router, device: &mut Device, email: Option<&str>) -> crate::support::Reply {
    let body = email.map_or_else(|| json!({}), |email| json!({ "email": email }));
    let start = send(app, post_json("/auth/passkey/login/start", &body)).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = device.get(&start.body["options"]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response });
    send(app, post_json("/auth/passkey/login/finish", &body)).await
}

#[tokio::test]
async fn sign_up_log_in_add_rename_and_delete_passkeys_over_http() {
    let app = app().await;
    let mut laptop = Device::new();
    let token = sign_up(&app, &mut laptop, "ada@example.com").await;
    let me = send(&app, get_with_cookie("/auth/user", &token)).await;
    assert_eq!(me.body["user"]["email"], "ada@example.com");

    let by_email = log_in(&app, &mut laptop, Some("ada@example.com")).await;
    assert_eq!(by_email.status, StatusCode::OK, "{}", by_email.raw);
    assert!(by_email.cookie_token().is_some());
    let usernameless = log_in(&app, &mut laptop, None).await;
    assert_eq!(usernameless.status, StatusCode::OK, "{}", usernameless.raw);
    let token = usernameless.cookie_token().unwrap();

    // The only passkey of an account without a password stays.
    let list = send(&app, get_with_cookie("/auth/passkeys", &token)).await;
    let first = list.body["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let refused = send(&app, delete_request(&format!("/auth/passkeys/{first}"), &token)).await;
    assert_error(&refused, StatusCode::CONFLICT, "last_login_method");

    // Logged in, register/start adds a passkey to this account.
    let mut phone = Device::new();
    let start = send(&app, post_with_cookie("/auth/passkey/register/start", &token, &json!({}))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = phone.create(&start.body["options"]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response, "name": "Phone" });
    let added = send(&app, post_with_cookie("/auth/passkey/register/finish", &token, &body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.raw);
    assert_eq!(added.body["passkey"]["name"], "Phone");

    let rename = with_cookie(Method::PATCH, &format!("/auth/passkeys/{first}"), &token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "name": "Laptop" }).to_string()))
        .unwrap();
    let renamed = send(&app, rename).await;
    assert_eq!(renamed.body["passkey"]["name"], "Laptop", "{}", renamed.raw);

    let deleted = send(&app, delete_request(&format!("/auth/passkeys/{first}"), &token)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.raw);
    let list = send(&app, get_with_cookie("/auth/passkeys", &token)).await;
    assert_eq!(list.body["passkeys"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["passkeys"][0]["name"], "Phone");

    // The removed passkey can't log in; the remaining one can.
    let removed = log_in(&app, &mut laptop, Some("ada@example.com")).await;
    assert_error(&removed, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let removed = log_in(&app, &mut laptop, None).await;
    assert_error(&removed, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(log_in(&app, &mut phone, None).await.status, StatusCode::OK);
}

fn patch_with_cookie(uri: &str, token: &str, body: &Value) -> Request<Body> {
    with_cookie(Method::PATCH, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn renaming_checks_the_name_and_the_owner() {
    let app = app().await;
    let token = sign_up(&app, &mut Device::new(), "ada@example.com").await;
    let list = send(&app, get_with_cookie("/auth/passkeys", &token)).await;
    let id = list.body["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let uri = format!("/auth/passkeys/{id}");

    let renamed = send(&app, patch_with_cookie(&uri, &token, &json!({ "name": "  Laptop \t" }))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.raw);
    assert_eq!(renamed.body["passkey"]["name"], "Laptop", "trimmed");
    assert_eq!(renamed.body["passkey"]["id"], id.as_str());
    assert!(renamed.body["passkey"].get("data").is_none(), "no key material");

    // Refused names: the reason is given, the name is not echoed, and the stored name stays.
    let too_long = "y".repeat(65);
    for bad in ["", "   ", "Lap\ntop", "Lap\u{7}top", too_long.as_str()] {
        let reply = send(&app, patch_with_cookie(&uri, &token, &json!({ "name": bad }))).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name");
        if !bad.trim().is_empty() {
            assert!(!reply.raw.contains(bad), "the name is not echoed: {}", reply.raw);
        }
    }
    assert!(send(&app, patch_with_cookie(&uri, &token, &json!({ "name": "é".repeat(64) }))).await.status.is_success());
    let missing = send(&app, patch_with_cookie(&uri, &token, &json!({}))).await;
    assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let unknown = send(&app, patch_with_cookie("/auth/passkeys/bm9wZQ", &token, &json!({ "name": "Mine" }))).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");

    // Another user cannot rename or delete it: to them it does not exist.
    let eve = crate::support::register(&app, "eve@example.com").await;
    let theirs = send(&app, patch_with_cookie(&uri, &eve, &json!({ "name": "Mine" }))).await;
    assert_error(&theirs, StatusCode::NOT_FOUND, "not_found");
    assert_error(&send(&app, delete_request(&uri, &eve)).await, StatusCode::NOT_FOUND, "not_found");
    let anonymous = Request::builder()
        .method(Method::PATCH)
        .uri(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "name": "Mine" }).to_string()))
        .unwrap();
    assert_error(&send(&app, anonymous).await, StatusCode::UNAUTHORIZED, "unauthenticated");

    let list = send(&app, get_with_cookie("/auth/passkeys", &token)).await;
    assert_eq!(list.body["passkeys"][0]["name"], "é".repeat(64));
}

#[tokio::test]
async fn errors_are_uniform_and_say_nothing_about_accounts() {
    let app = app().await;
    sign_up(&app, &mut Device::new(), "ada@example.com").await;

    let known = send(&app, post_json("/auth/passkey/login/start", &json!({ "email": "ada@example.com" }))).await;
    let unknown = send(&app, post_json("/auth/passkey/login/start", &json!({ "email": "eve@example.com" }))).await;
    assert_eq!(known.status, unknown.status);
    let keys = |v: &Value| v["options"]["publicKey"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known.body), keys(&unknown.body));
    assert_eq!(unknown.body["options"]["publicKey"]["allowCredentials"].as_array().unwrap().len(), 1);

    let bogus = json!({ "challenge_id": "nope", "response": { "id": "x" } });
    assert_error(
        &send(&app, post_json("/auth/passkey/login/finish", &bogus)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let bogus = json!({ "email": "bob@example.com", "challenge_id": "nope", "response": {} });
    assert_error(
        &send(&app, post_json("/auth/passkey/register/finish", &bogus)).await,
        StatusCode::BAD_REQUEST,
        "passkey_rejected",
    );
    let taken = send(&app, post_json("/auth/passkey/register/start", &json!({ "email": "ada@example.com" }))).await;
    assert_error(&taken, StatusCode::CONFLICT, "email_taken");
    let missing = send(&app, post_json("/auth/passkey/register/start", &json!({}))).await;
    assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let anonymous = send(&app, Request::builder().uri("/auth/passkeys").body(Body::empty()).unwrap()).await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn the_routes_are_absent_unless_enabled_and_refused_unless_configured() {
    let torii = crate::support::torii().await;
    let plain = crate::support::seed_app(torii.clone(), CookieConfig::development());
    let reply = send(&plain, post_json("/auth/passkey/login/start", &json!({}))).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    let auth =
        torii_axum::routes(torii.clone()).with_cookie_config(CookieConfig::development()).with_passkeys().build();
    let unconfigured: Router = Router::new().nest("/auth", auth).with_state(torii);
    let reply = send(&unconfigured, post_json("/auth/passkey/login/start", &json!({}))).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn adding_or_deleting_a_passkey_needs_a_recent_login_and_a_passkey_can_give_one() {
    let clock = Arc::new(ManualClock::starting_now());
    let app = app_on(clock.clone()).await;
    let mut laptop = Device::new();
    let token = sign_up(&app, &mut laptop, "ada@example.com").await;
    let first = send(&app, get_with_cookie("/auth/passkeys", &token)).await.body["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An attacker holding a two-hour-old session can neither add their passkey nor remove the owner's.
    clock.advance(chrono::Duration::hours(2));
    let start = send(&app, post_with_cookie("/auth/passkey/register/start", &token, &json!({}))).await;
    assert_error(&start, StatusCode::FORBIDDEN, "reauthentication_required");
    let mut phone = Device::new();
    let finish = json!({ "challenge_id": "whatever", "response": {}, "name": "Mallory" });
    let finish = send(&app, post_with_cookie("/auth/passkey/register/finish", &token, &finish)).await;
    assert_error(&finish, StatusCode::FORBIDDEN, "reauthentication_required");
    let delete = send(&app, delete_request(&format!("/auth/passkeys/{first}"), &token)).await;
    assert_error(&delete, StatusCode::FORBIDDEN, "reauthentication_required");

    // Re-authenticating with the account's own passkey makes the session fresh again.
    let start = send(&app, post_with_cookie("/auth/reauthenticate/passkey/start", &token, &json!({}))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = laptop.get(&start.body["options"]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response });
    let reply = send(&app, post_with_cookie("/auth/reauthenticate/passkey/finish", &token, &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let fresh = reply.cookie_token().unwrap();
    assert_eq!(send(&app, get_with_cookie("/auth/user", &token)).await.status, StatusCode::UNAUTHORIZED);

    let start = send(&app, post_with_cookie("/auth/passkey/register/start", &fresh, &json!({}))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = phone.create(&start.body["options"]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response, "name": "Phone" });
    let added = send(&app, post_with_cookie("/auth/passkey/register/finish", &fresh, &body)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.raw);
}

#[tokio::test]
async fn another_accounts_passkey_does_not_reauthenticate() {
    let app = app().await;
    let mut ada = Device::new();
    let mut mallory = Device::new();
    let ada_token = sign_up(&app, &mut ada, "ada@example.com").await;
    sign_up(&app, &mut mallory, "mallory@example.com").await;
    let start = send(&app, post_with_cookie("/auth/reauthenticate/passkey/start", &ada_token, &json!({}))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = mallory.get(&start.body["options"]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response });
    let reply = send(&app, post_with_cookie("/auth/reauthenticate/passkey/finish", &ada_token, &body)).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert!(reply.set_cookie().is_none());
    assert_eq!(send(&app, get_with_cookie("/auth/user", &ada_token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_lock_never_blocks_passkey_login() {
    let app = app().await;
    let mut device = Device::new();
    sign_up(&app, &mut device, "ada@example.com").await;
    // Strangers guess passwords for the address until it is locked for password login.
    for _ in 0..8 {
        send(&app, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": "a wild guess" }))).await;
    }
    let reply =
        send(&app, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": "another guess" }))).await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // The passkey still works, with or without the address.
    for email in [Some("ada@example.com"), None] {
        let reply = log_in(&app, &mut device, email).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    }
}
