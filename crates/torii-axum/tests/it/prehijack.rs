//! Pre-account hijacking and look-alike addresses, attacker first, over the real router: someone who
//! creates an account under another person's address (by passkey, by an identity provider that does
//! not vouch for the address, or with a password) keeps nothing once the owner proves the address; and
//! a look-alike spelling of an address is that address, whose mail goes where the account says.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use torii_axum::{CookieConfig, OAuthRouteConfig};
use torii_core::Torii;
use torii_core::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};
use torii_core::storage::AuditLogStorage as _;

#[cfg(feature = "passkey")]
use crate::passkey::{Device, log_in as passkey_log_in, sign_up as passkey_sign_up};
use crate::support::{
    PASSWORD, Reply, Repo, ScriptedProvider, assert_error, get_with_cookie, post_json, send, torii, with_cookie,
};

const VICTIM: &str = "victim@example.com";
const NEW_PASSWORD: &str = "the owner's own passphrase";

/// An identity provider that vouches for nothing: the attacker's account there claims the victim's
/// address with `email_verified = false`.
/// An identity provider that vouches for nothing: the attacker's account there claims the victim's
/// address with `email_verified = false`.
fn careless_provider() -> ScriptedProvider {
    ScriptedProvider::identity("attacker-at-idp", VICTIM, false)
}

struct App {
    router: Router,
    flows: EmailFlows<Repo>,
    outbox: OutboxMailer,
}

/// Every way in at once: passwords, passkeys (when built with them), the careless provider, and the
/// email flows with an outbox for a mail server.
async fn app() -> App {
    let torii = (*torii().await).clone().with_oauth_provider(careless_provider());
    #[cfg(feature = "passkey")]
    let torii = torii
        .with_passkeys(torii_core::PasskeyConfig::new("example.com", "Example").with_origin(crate::passkey::ORIGIN))
        .unwrap();
    let torii: Arc<Torii<Repo>> = Arc::new(torii);
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
    let flows = EmailFlows::new(torii.clone(), config, Arc::new(outbox.clone()));
    let routes = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_oauth_config(OAuthRouteConfig::default())
        .with_email_flows(flows.clone());
    #[cfg(feature = "passkey")]
    let routes = routes.with_passkeys();
    let router = Router::new().nest("/auth", routes.build());
    App { router, flows, outbox }
}

impl App {
    /// The token in the newest message to `email`, checked to be of `kind`.
    async fn token_mailed_to(&self, email: &str, kind: MessageKind) -> String {
        self.flows.wait_idle().await;
        let message = self.outbox.last_to(email).expect("a message");
        assert_eq!(message.kind(), kind);
        let link = message.link().expect("a link");
        link.split_once("?token=").expect("a token").1.to_owned()
    }

    /// The owner, refused at registration, takes the account over with a reset mailed to them.
    async fn owner_resets_the_password(&self) {
        let taken =
            send(&self.router, post_json("/auth/register", &json!({ "email": VICTIM, "password": PASSWORD }))).await;
        assert_error(&taken, StatusCode::CONFLICT, "email_taken");
        let forgot = send(&self.router, post_json("/auth/password/forgot", &json!({ "email": VICTIM }))).await;
        assert_eq!(forgot.status, StatusCode::ACCEPTED, "{}", forgot.raw);
        let token = self.token_mailed_to(VICTIM, MessageKind::PasswordReset).await;
        let reset = json!({ "token": token, "new_password": NEW_PASSWORD });
        let reset = send(&self.router, post_json("/auth/password/reset", &reset)).await;
        assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.raw);
        let login = json!({ "email": VICTIM, "password": NEW_PASSWORD });
        let login = send(&self.router, post_json("/auth/login", &login)).await;
        assert_eq!(login.status, StatusCode::OK, "the owner logs in: {}", login.raw);
        assert!(login.body["user"]["email_verified_at"].is_string(), "{}", login.raw);
    }

    /// Signs in at the careless provider; the reply to the callback.
    async fn provider_login(&self) -> Reply {
        let start = send(&self.router, get("/auth/oauth/idp/start")).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.raw);
        let location = start.headers[header::LOCATION].to_str().unwrap();
        let state = location.strip_prefix("https://idp.example/authorize?state=").unwrap().to_owned();
        let callback = Request::builder()
            .uri(format!("/auth/oauth/idp/callback?code=c&state={state}"))
            .header(header::COOKIE, format!("torii_oauth_idp={state}"))
            .body(Body::empty())
            .unwrap();
        send(&self.router, callback).await
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

fn post_with_cookie(uri: &str, token: &str, body: &Value) -> Request<Body> {
    with_cookie(Method::POST, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The session token a reply set, whatever other cookies it set.
fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.strip_prefix("torii_session=").map(str::to_owned))
        .find(|v| !v.is_empty())
}

#[cfg(feature = "passkey")]
#[tokio::test]
async fn a_passkey_signed_up_under_the_victims_address_stops_working_after_the_owners_reset() {
    let app = app().await;
    let mut attacker = Device::new();
    let attacker_session = passkey_sign_up(&app.router, &mut attacker, VICTIM).await;
    // Passkey sign-up mails the verification link too: the owner hears of the account.
    app.token_mailed_to(VICTIM, MessageKind::EmailVerification).await;
    assert_eq!(passkey_log_in(&app.router, &mut attacker, Some(VICTIM)).await.status, StatusCode::OK);

    app.owner_resets_the_password().await;

    let refused = passkey_log_in(&app.router, &mut attacker, Some(VICTIM)).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let refused = passkey_log_in(&app.router, &mut attacker, None).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let old = send(&app.router, get_with_cookie("/auth/user", &attacker_session)).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_provider_identity_that_did_not_vouch_for_the_address_is_unlinked_by_the_owners_reset() {
    let app = app().await;
    let signed_up = app.provider_login().await;
    assert_eq!(signed_up.status, StatusCode::SEE_OTHER, "{}", signed_up.raw);
    let attacker_session = session_cookie(&signed_up).expect("the attacker got a session");
    // Provider sign-up with an address the provider did not vouch for mails the verification link.
    app.token_mailed_to(VICTIM, MessageKind::EmailVerification).await;
    let me = send(&app.router, get_with_cookie("/auth/user", &attacker_session)).await;
    assert_eq!(me.body["user"]["email_verified_at"], Value::Null, "{}", me.raw);
    let linked = send(&app.router, get_with_cookie("/auth/oauth/accounts", &attacker_session)).await;
    assert_eq!(linked.body["accounts"][0]["email_verified"], false, "the link records the provider's word");

    app.owner_resets_the_password().await;

    let old = send(&app.router, get_with_cookie("/auth/user", &attacker_session)).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
    // The identity is no longer linked, and its unvouched address cannot claim the owner's account.
    let again = app.provider_login().await;
    assert_error(&again, StatusCode::CONFLICT, "oauth_email_in_use");
    assert!(session_cookie(&again).is_none());
}

#[tokio::test]
async fn the_owner_following_the_verification_link_removes_a_password_someone_else_set() {
    let app = app().await;
    let reply = send(&app.router, post_json("/auth/register", &json!({ "email": VICTIM, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    let attacker_session = reply.cookie_token().unwrap();
    let token = app.token_mailed_to(VICTIM, MessageKind::EmailVerification).await;

    // The owner clicks the link in their mail: not signed in, no password.
    let verified = send(&app.router, post_json("/auth/verify-email", &json!({ "token": token }))).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    assert!(verified.body["user"]["email_verified_at"].is_string());
    assert_eq!(verified.body["dropped"]["password"], true, "{}", verified.raw);
    assert_eq!(verified.body["dropped"]["sessions"], 1, "{}", verified.raw);
    // The audit log records what was removed, by identifiers only.
    let user_id = torii_core::UserId::new(verified.body["user"]["id"].as_str().unwrap());
    let events = app.flows.torii().storage().list_audit_events_for_user(&user_id, 50).await.unwrap();
    let dropped = events.iter().find(|e| e.kind == torii_core::storage::AuditEventKind::CREDENTIALS_DROPPED);
    let dropped = dropped.expect("a credentials.dropped event");
    assert_eq!(dropped.detail["password"], true);
    assert_eq!(dropped.detail["sessions"], 1);
    assert!(!dropped.detail.to_string().contains(PASSWORD));

    let login = send(&app.router, post_json("/auth/login", &json!({ "email": VICTIM, "password": PASSWORD }))).await;
    assert_error(&login, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let old = send(&app.router, get_with_cookie("/auth/user", &attacker_session)).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn an_owner_who_is_signed_in_or_enters_the_password_keeps_it() {
    let app = app().await;
    // Signed in (the session `POST /register` gave), the link keeps everything.
    let reply = send(&app.router, post_json("/auth/register", &json!({ "email": VICTIM, "password": PASSWORD }))).await;
    let session = reply.cookie_token().unwrap();
    let token = app.token_mailed_to(VICTIM, MessageKind::EmailVerification).await;
    let verified =
        send(&app.router, post_with_cookie("/auth/verify-email", &session, &json!({ "token": token }))).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    assert_eq!(verified.body["dropped"]["password"], false, "{}", verified.raw);
    assert_eq!(send(&app.router, get_with_cookie("/auth/user", &session)).await.status, StatusCode::OK);

    // Not signed in, with the password entered again: a wrong one is refused before the link is used,
    // the right one keeps the password.
    let other = "other@example.com";
    let reply = send(&app.router, post_json("/auth/register", &json!({ "email": other, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let token = app.token_mailed_to(other, MessageKind::EmailVerification).await;
    let wrong = json!({ "token": token, "email": other, "password": "not the password at all" });
    let wrong = send(&app.router, post_json("/auth/verify-email", &wrong)).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let right = json!({ "token": token, "email": other, "password": PASSWORD });
    let right = send(&app.router, post_json("/auth/verify-email", &right)).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.raw);
    assert_eq!(right.body["dropped"]["password"], false, "{}", right.raw);
    let login = send(&app.router, post_json("/auth/login", &json!({ "email": other, "password": PASSWORD }))).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
}

#[cfg(feature = "passkey")]
#[tokio::test]
async fn a_passkey_owner_verifying_while_signed_in_keeps_the_passkey() {
    let app = app().await;
    let mut laptop = Device::new();
    let session = passkey_sign_up(&app.router, &mut laptop, VICTIM).await;
    let token = app.token_mailed_to(VICTIM, MessageKind::EmailVerification).await;
    let verified =
        send(&app.router, post_with_cookie("/auth/verify-email", &session, &json!({ "token": token }))).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    assert_eq!(verified.body["dropped"]["passkeys"], json!([]), "{}", verified.raw);
    assert_eq!(passkey_log_in(&app.router, &mut laptop, Some(VICTIM)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_magic_link_asked_for_a_look_alike_address_goes_to_the_stored_address() {
    let app = app().await;
    let reply =
        send(&app.router, post_json("/auth/register", &json!({ "email": "kate@example.com", "password": PASSWORD })))
            .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    app.flows.wait_idle().await;
    let before = app.outbox.messages().len();

    let kelvin = "\u{212A}ate@example.com";
    let asked = send(&app.router, post_json("/auth/magic-link", &json!({ "email": kelvin }))).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.raw);
    app.flows.wait_idle().await;
    let sent = app.outbox.messages();
    assert_eq!(sent.len(), before + 1, "one message");
    let message = sent.last().unwrap();
    assert_eq!(message.kind(), MessageKind::MagicLink);
    assert_eq!(message.to(), "kate@example.com", "mailed to the stored address, never to the look-alike");
    assert!(sent.iter().all(|m| !m.to().contains('\u{212A}')), "nothing goes to the look-alike spelling");
}

#[tokio::test]
async fn a_full_width_spelling_registers_as_the_same_account() {
    let app = app().await;
    let first =
        send(&app.router, post_json("/auth/register", &json!({ "email": "fw@example.com", "password": PASSWORD })))
            .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let wide = json!({ "email": "ｆｗ@example.com", "password": PASSWORD });
    let second = send(&app.router, post_json("/auth/register", &wide)).await;
    assert_error(&second, StatusCode::CONFLICT, "email_taken");
    // And it logs into that account, which keeps the spelling it was registered with.
    let login = send(&app.router, post_json("/auth/login", &wide)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
    assert_eq!(login.body["user"]["email"], "fw@example.com");
}
