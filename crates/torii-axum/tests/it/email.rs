//! The email routes through the real router: magic links, verification, reset and change, with the
//! in-memory outbox standing in for the mail server.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use torii_axum::CookieConfig;
use torii_core::Torii;
use torii_core::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};

use crate::support::{
    PASSWORD, Repo, assert_error, get_with_cookie, login, post_json, protected_handler, register, send, torii,
    with_cookie,
};

const NEW_PASSWORD: &str = "a brand new passphrase";

pub(crate) struct App {
    pub(crate) router: Router,
    pub(crate) flows: EmailFlows<Repo>,
    pub(crate) outbox: OutboxMailer,
}

pub(crate) async fn app_with(configure: impl FnOnce(EmailConfig) -> EmailConfig) -> App {
    app_on(torii().await, configure)
}

/// The app over this coordinator, with email flows configured by `configure`.
pub(crate) fn app_on(torii: Arc<Torii<Repo>>, configure: impl FnOnce(EmailConfig) -> EmailConfig) -> App {
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example")
        .unwrap()
        .retries(2, std::time::Duration::ZERO);
    let flows = EmailFlows::new(torii.clone(), configure(config), Arc::new(outbox.clone()));
    let auth = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_email_flows(flows.clone())
        .build();
    let router =
        Router::new().nest("/auth", auth).route("/protected", axum::routing::get(protected_handler)).with_state(torii);
    App { router, flows, outbox }
}

async fn app() -> App {
    app_with(|c| c).await
}

impl App {
    /// The link in the newest message to `email`, checked to be of `kind`.
    pub(crate) async fn link_to(&self, email: &str, kind: MessageKind) -> String {
        self.flows.wait_idle().await;
        let message = self.outbox.last_to(email).expect("a message");
        assert_eq!(message.kind(), kind);
        message.link().expect("a link").to_owned()
    }
}

pub(crate) fn token_in(link: &str) -> String {
    link.split_once("?token=").unwrap().1.to_owned()
}

/// The path and query of a link (the router under test serves https://app.example).
fn path_of(link: &str) -> &str {
    link.strip_prefix("https://app.example").expect("configured base URL")
}

pub(crate) fn post_with_cookie(uri: &str, token: &str, body: &Value) -> Request<Body> {
    with_cookie(Method::POST, uri, token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get_page(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn magic_link_page_then_post_logs_in_once() {
    let app = app().await;
    register(&app.router, "ada@example.com").await;
    let reply = send(&app.router, post_json("/auth/magic-link", &json!({ "email": "ada@example.com" }))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let link = app.link_to("ada@example.com", MessageKind::MagicLink).await;
    assert!(link.starts_with("https://app.example/auth/magic-link?token="));

    // Opening the link (as a mail scanner would) shows a page and uses nothing up.
    for _ in 0..2 {
        let page = send(&app.router, get_page(path_of(&link))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.raw.contains("<form") && !page.raw.contains(&token_in(&link)));
        assert_eq!(page.headers.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
        assert!(page.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
    }

    let token = token_in(&link);
    let reply = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": token }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert!(reply.body.get("token").is_none());
    let cookie = reply.cookie_token().expect("session cookie");
    assert_eq!(send(&app.router, get_with_cookie("/protected", &cookie)).await.status, StatusCode::OK);

    let replay = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": token }))).await;
    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn enumeration_same_answer_for_known_and_unknown_addresses() {
    let app = app().await;
    register(&app.router, "ada@example.com").await;
    for path in ["/auth/magic-link", "/auth/password/forgot"] {
        let known = send(&app.router, post_json(path, &json!({ "email": "ada@example.com" }))).await;
        let unknown = send(&app.router, post_json(path, &json!({ "email": "nobody@example.com" }))).await;
        assert_eq!(known.status, StatusCode::ACCEPTED, "{path}: {}", known.raw);
        assert_eq!(known.status, unknown.status, "{path}");
        assert_eq!(known.raw, unknown.raw, "{path}");
        assert_eq!(known.headers.get(header::SET_COOKIE), unknown.headers.get(header::SET_COOKIE));
        // The work behind each answer runs in the background; wait so the messages keep their order.
        app.flows.wait_idle().await;
    }
    assert!(app.outbox.messages_to("nobody@example.com").is_empty());
    let kinds: Vec<_> = app.outbox.messages_to("ada@example.com").iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, [MessageKind::EmailVerification, MessageKind::MagicLink, MessageKind::PasswordReset]);
}

#[tokio::test]
async fn links_use_the_configured_base_url_whatever_the_host_header() {
    let app = app().await;
    register(&app.router, "ada@example.com").await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/auth/password/forgot")
        .header(header::HOST, "evil.example")
        .header(header::ORIGIN, "https://evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "email": "ada@example.com" }).to_string()))
        .unwrap();
    assert_eq!(send(&app.router, request).await.status, StatusCode::ACCEPTED);
    app.flows.wait_idle().await;
    let message = app.outbox.last_to("ada@example.com").unwrap();
    assert!(message.link().unwrap().starts_with("https://app.example/auth/password/reset?token="));
    assert!(!message.text().contains("evil") && !message.html().contains("evil"));
}

#[tokio::test]
async fn password_reset_over_http_signs_everyone_out() {
    let app = app().await;
    let session = register(&app.router, "ada@example.com").await;
    send(&app.router, post_json("/auth/password/forgot", &json!({ "email": "ada@example.com" }))).await;
    let link = app.link_to("ada@example.com", MessageKind::PasswordReset).await;
    let page = send(&app.router, get_page(path_of(&link))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.raw.contains("type=\"password\""));

    let token = token_in(&link);
    let weak =
        send(&app.router, post_json("/auth/password/reset", &json!({ "token": token, "new_password": "password" })))
            .await;
    assert_error(&weak, StatusCode::UNPROCESSABLE_ENTITY, "weak_password");
    let reset =
        send(&app.router, post_json("/auth/password/reset", &json!({ "token": token, "new_password": NEW_PASSWORD })))
            .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{}", reset.raw);
    assert!(reset.set_cookie().is_none(), "no automatic login");
    assert_eq!(send(&app.router, get_with_cookie("/protected", &session)).await.status, StatusCode::UNAUTHORIZED);
    let old =
        send(&app.router, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let new =
        send(&app.router, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": NEW_PASSWORD })))
            .await;
    assert_eq!(new.status, StatusCode::OK);
    app.flows.wait_idle().await;
    assert_eq!(app.outbox.last_to("ada@example.com").unwrap().kind(), MessageKind::PasswordChanged);

    // A reset token is not a magic link and does not verify an email.
    let replay = send(
        &app.router,
        post_json("/auth/password/reset", &json!({ "token": token, "new_password": "another fine passphrase" })),
    )
    .await;
    assert_error(&replay, StatusCode::BAD_REQUEST, "invalid_token");
}

#[tokio::test]
async fn reset_can_log_in_when_configured() {
    let app = app_with(|c| c.login_after_reset(true)).await;
    register(&app.router, "ada@example.com").await;
    send(&app.router, post_json("/auth/password/forgot", &json!({ "email": "ada@example.com" }))).await;
    let token = token_in(&app.link_to("ada@example.com", MessageKind::PasswordReset).await);
    let reply =
        send(&app.router, post_json("/auth/password/reset", &json!({ "token": token, "new_password": NEW_PASSWORD })))
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let cookie = reply.cookie_token().expect("session cookie");
    assert_eq!(send(&app.router, get_with_cookie("/protected", &cookie)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_are_refused_on_other_routes() {
    let app = app().await;
    register(&app.router, "ada@example.com").await;
    send(&app.router, post_json("/auth/password/forgot", &json!({ "email": "ada@example.com" }))).await;
    let reset = token_in(&app.link_to("ada@example.com", MessageKind::PasswordReset).await);
    for (path, body) in
        [("/auth/magic-link/verify", json!({ "token": reset })), ("/auth/verify-email", json!({ "token": reset }))]
    {
        assert_error(&send(&app.router, post_json(path, &body)).await, StatusCode::BAD_REQUEST, "invalid_token");
    }
    // Nor is it a session token.
    let as_session = send(&app.router, get_with_cookie("/protected", &reset)).await;
    assert_eq!(as_session.status, StatusCode::UNAUTHORIZED);
    // Still usable for its own purpose.
    let ok =
        send(&app.router, post_json("/auth/password/reset", &json!({ "token": reset, "new_password": NEW_PASSWORD })))
            .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn email_verification_over_http() {
    let app = app().await;
    let session = register(&app.router, "ada@example.com").await;
    let unauthenticated = send(&app.router, post_json("/auth/verify-email/resend", &json!({}))).await;
    assert_error(&unauthenticated, StatusCode::UNAUTHORIZED, "unauthenticated");
    let reply = send(&app.router, post_with_cookie("/auth/verify-email/resend", &session, &json!({}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    let link = app.link_to("ada@example.com", MessageKind::EmailVerification).await;
    assert!(link.starts_with("https://app.example/auth/verify-email?token="));
    assert_eq!(send(&app.router, get_page(path_of(&link))).await.status, StatusCode::OK);
    // Confirmed while signed in: nothing is removed and the session stays.
    let body = json!({ "token": token_in(&link) });
    let reply = send(&app.router, post_with_cookie("/auth/verify-email", &session, &body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["dropped"]["password"], false, "{}", reply.raw);
    assert!(reply.body["user"]["email_verified_at"].is_string(), "{}", reply.raw);
    let user = send(&app.router, get_with_cookie("/auth/user", &session)).await;
    assert!(user.body["user"]["email_verified_at"].is_string());
}

#[tokio::test]
async fn password_change_keeps_this_session_and_signs_out_the_others() {
    let app = app().await;
    let here = register(&app.router, "ada@example.com").await;
    let other = login(&app.router, "ada@example.com").await;
    let wrong = send(
        &app.router,
        post_with_cookie(
            "/auth/password/change",
            &here,
            &json!({ "current_password": "not my password", "new_password": NEW_PASSWORD }),
        ),
    )
    .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let anonymous = send(
        &app.router,
        post_json("/auth/password/change", &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
    )
    .await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED, "unauthenticated");

    let reply = send(
        &app.router,
        post_with_cookie(
            "/auth/password/change",
            &here,
            &json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["revoked"], 1);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &here)).await.status, StatusCode::OK);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &other)).await.status, StatusCode::UNAUTHORIZED);
    app.flows.wait_idle().await;
    assert_eq!(app.outbox.last_to("ada@example.com").unwrap().kind(), MessageKind::PasswordChanged);
}

#[tokio::test]
async fn cr_lf_in_the_address_is_refused_and_sends_nothing() {
    let app = app().await;
    register(&app.router, "ada@example.com").await;
    for path in ["/auth/magic-link", "/auth/password/forgot"] {
        let reply =
            send(&app.router, post_json(path, &json!({ "email": "ada@example.com\r\nBcc: victim@example.com" }))).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email");
    }
    app.flows.wait_idle().await;
    assert!(app.outbox.messages().iter().all(|m| m.kind() == MessageKind::EmailVerification));
    assert_eq!(app.outbox.messages().len(), 1, "only the registration's verification mail");
}

#[tokio::test]
async fn without_email_flows_the_routes_do_not_exist() {
    let torii = torii().await;
    let router = crate::support::seed_app(torii, CookieConfig::development());
    let reply = send(&router, post_json("/auth/magic-link", &json!({ "email": "ada@example.com" }))).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    register(&router, "ada@example.com").await;
}

#[tokio::test]
async fn registering_mails_a_link_that_verifies_the_address() {
    let app = app().await;
    let reply =
        send(&app.router, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD })))
            .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert!(reply.body["user"]["email_verified_at"].is_null());
    assert!(reply.body["session"]["id"].is_string());
    let session = reply.cookie_token().expect("session cookie");

    let link = app.link_to("ada@example.com", MessageKind::EmailVerification).await;
    assert!(link.starts_with("https://app.example/auth/verify-email?token="), "{link}");
    let page = send(&app.router, get_page(path_of(&link))).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = json!({ "token": token_in(&link) });
    let verified = send(&app.router, post_with_cookie("/auth/verify-email", &session, &body)).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.raw);
    let user = send(&app.router, get_with_cookie("/auth/user", &session)).await;
    assert!(user.body["user"]["email_verified_at"].is_string(), "{}", user.raw);
}

#[tokio::test]
async fn registration_answers_alike_whatever_happens_to_the_mail() {
    let healthy = app().await;
    let failing = app().await;
    failing.outbox.fail_next(10);
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true });
    let ok = send(&healthy.router, post_json("/auth/register", &body)).await;
    let failed = send(&failing.router, post_json("/auth/register", &body)).await;
    assert_eq!((ok.status, failed.status), (StatusCode::CREATED, StatusCode::CREATED), "{}", failed.raw);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ok.body), keys(&failed.body));
    assert!(failed.body["token"].is_string());
    failing.flows.wait_idle().await;
    assert_eq!(failing.outbox.attempts(), 2, "retried, then given up");
    assert!(failing.outbox.messages().is_empty());
    let me =
        send(&failing.router, crate::support::get_with_bearer("/auth/user", failed.body["token"].as_str().unwrap()))
            .await;
    assert_eq!(me.status, StatusCode::OK);
}

#[tokio::test]
async fn verification_on_register_can_be_turned_off() {
    let app = app_with(|c| c.send_verification_on_register(false)).await;
    register(&app.router, "ada@example.com").await;
    app.flows.wait_idle().await;
    assert!(app.outbox.messages().is_empty());
}

#[tokio::test]
async fn verified_only_login_over_http() {
    let app = app_on(Arc::new(Torii::clone(&*torii().await).require_verified_email(true)), |c| c);
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });
    // Registering does not log in: the account must prove its address first.
    let registered = send(&app.router, post_json("/auth/register", &credentials)).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.raw);
    assert_eq!(registered.body["user"]["email"], "ada@example.com");
    assert!(registered.body.get("session").is_none() && registered.set_cookie().is_none(), "{}", registered.raw);

    // Wrong password and unknown account: the plain answer, nothing about verification.
    let wrong = json!({ "email": "ada@example.com", "password": "not my password" });
    assert_error(
        &send(&app.router, post_json("/auth/login", &wrong)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let unknown = json!({ "email": "nobody@example.com", "password": PASSWORD });
    assert_error(
        &send(&app.router, post_json("/auth/login", &unknown)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let refused = send(&app.router, post_json("/auth/login", &credentials)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "email_not_verified");
    assert!(refused.set_cookie().is_none());

    let token = token_in(&app.link_to("ada@example.com", MessageKind::EmailVerification).await);
    // Not signed in (registering did not log in), so the password is entered again to keep it.
    let confirm = json!({ "token": token, "email": "ada@example.com", "password": PASSWORD });
    assert_eq!(send(&app.router, post_json("/auth/verify-email", &confirm)).await.status, StatusCode::OK);
    let cookie = login(&app.router, "ada@example.com").await;
    assert_eq!(send(&app.router, get_with_cookie("/protected", &cookie)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_magic_link_login_verifies_the_address_and_removes_an_unvouched_password() {
    let app = app_on(Arc::new(Torii::clone(&*torii().await).require_verified_email(true)), |c| {
        c.send_verification_on_register(false)
    });
    let credentials = json!({ "email": "ada@example.com", "password": PASSWORD });
    assert_eq!(send(&app.router, post_json("/auth/register", &credentials)).await.status, StatusCode::CREATED);
    assert_error(
        &send(&app.router, post_json("/auth/login", &credentials)).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    );
    send(&app.router, post_json("/auth/magic-link", &json!({ "email": "ada@example.com" }))).await;
    let token = token_in(&app.link_to("ada@example.com", MessageKind::MagicLink).await);
    let reply = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": token }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert!(reply.body["user"]["email_verified_at"].is_string());
    let session = reply.cookie_token().expect("the magic link signs in");
    assert_eq!(send(&app.router, get_with_cookie("/protected", &session)).await.status, StatusCode::OK);
    // Nobody signed in followed the link, so the password set before the address was proven is gone
    // (whoever registered may not own the address); a reset link sets a new one.
    assert_error(
        &send(&app.router, post_json("/auth/login", &credentials)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}
