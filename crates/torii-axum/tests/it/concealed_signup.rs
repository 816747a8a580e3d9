//! Sign-ups that do not tell who has an account: with `EmailConfig::conceal_existing_accounts`, a
//! registered address is answered exactly like a new one and its owner gets a notice by mail.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use torii_core::email_flows::MessageKind;

use crate::email::{App, app_on, app_with};
use crate::support::{PASSWORD, assert_error, post_json, register, send, torii};

/// The answer with the parts that differ between any two sign-ups (ids, times) blanked out.
fn shape(body: &Value) -> Value {
    let mut body = body.clone();
    for field in ["id", "created_at", "updated_at"] {
        body["user"][field] = json!("...");
    }
    body
}

async fn concealing() -> App {
    app_on(torii().await, |c| c.conceal_existing_accounts(true))
}

#[tokio::test]
async fn duplicate_registration_is_answered_like_a_new_one_and_the_owner_is_told() {
    let app = concealing().await;
    let owner =
        send(&app.router, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD })))
            .await;
    let again = send(
        &app.router,
        post_json("/auth/register", &json!({ "email": "ada@example.com", "password": "an attacker's choice" })),
    )
    .await;
    for reply in [&owner, &again] {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
        assert!(reply.set_cookie().is_none() && reply.body.get("session").is_none(), "no session: {}", reply.raw);
        assert_eq!(reply.headers.get(header::CONTENT_TYPE), owner.headers.get(header::CONTENT_TYPE));
    }
    assert_eq!(shape(&owner.body), shape(&again.body));
    assert_ne!(owner.body["user"]["id"], again.body["user"]["id"], "the placeholder is not the real account");

    // The owner's password is untouched, and the owner (not the requester) hears about it.
    let login =
        send(&app.router, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.raw);
    app.flows.wait_idle().await;
    let kinds: Vec<_> = app.outbox.messages_to("ada@example.com").iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, [MessageKind::EmailVerification, MessageKind::AccountExists]);
    let notice = app.outbox.last_to("ada@example.com").unwrap();
    assert!(notice.link().is_none() && !notice.text().contains("attacker"));
}

#[tokio::test]
async fn without_the_option_a_duplicate_gets_409_email_taken() {
    let app = app_with(|c| c).await;
    register(&app.router, "ada@example.com").await;
    let again =
        send(&app.router, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD })))
            .await;
    assert_error(&again, StatusCode::CONFLICT, "email_taken");
    app.flows.wait_idle().await;
    assert!(app.outbox.messages_to("ada@example.com").iter().all(|m| m.kind() != MessageKind::AccountExists));
}

#[cfg(feature = "passkey")]
mod passkey {
    use std::sync::Arc;

    use axum::Router;
    use axum::http::StatusCode;
    use serde_json::json;
    use torii_axum::CookieConfig;
    use torii_core::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};
    use torii_core::{PasskeyConfig, Torii};
    use torii_storage_sqlite::SqliteRepositoryProvider;

    use super::shape;
    use crate::email::App;
    use crate::passkey::Device;
    use crate::support::{PASSWORD, post_json, send};

    /// Email flows that conceal existing accounts, and the passkey routes.
    async fn app() -> App {
        let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
        repositories.migrate().await.unwrap();
        let torii = Arc::new(
            Torii::new(Arc::new(repositories))
                .with_passkeys(PasskeyConfig::new("example.com", "Example").with_origin("https://example.com"))
                .unwrap(),
        );
        let outbox = OutboxMailer::new();
        let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example")
            .unwrap()
            .conceal_existing_accounts(true);
        let flows = EmailFlows::new(torii.clone(), config, Arc::new(outbox.clone()));
        let auth = torii_axum::routes(torii.clone())
            .with_cookie_config(CookieConfig::development())
            .with_email_flows(flows.clone())
            .with_passkeys()
            .build();
        App { router: Router::new().nest("/auth", auth).with_state(torii), flows, outbox }
    }

    async fn passkey_sign_up(app: &App, email: &str) -> (crate::support::Reply, crate::support::Reply) {
        let start = send(&app.router, post_json("/auth/passkey/register/start", &json!({ "email": email }))).await;
        let mut device = Device::new();
        let response = device.create(&start.body["options"]);
        let body = json!({ "email": email, "challenge_id": start.body["challenge_id"], "response": response });
        let finish = send(&app.router, post_json("/auth/passkey/register/finish", &body)).await;
        (start, finish)
    }

    #[tokio::test]
    async fn passkey_sign_up_with_a_registered_address_looks_like_any_other() {
        let app = app().await;
        let owner = send(
            &app.router,
            post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD })),
        )
        .await;
        assert_eq!(owner.status, StatusCode::CREATED);
        let (new_start, new_finish) = passkey_sign_up(&app, "bob@example.com").await;
        let (dup_start, dup_finish) = passkey_sign_up(&app, "ada@example.com").await;
        assert_eq!(new_start.status, StatusCode::OK, "{}", new_start.raw);
        assert_eq!(dup_start.status, new_start.status, "{}", dup_start.raw);
        assert_eq!(new_start.body["options"]["publicKey"]["rp"], dup_start.body["options"]["publicKey"]["rp"]);
        for finish in [&new_finish, &dup_finish] {
            assert_eq!(finish.status, StatusCode::CREATED, "{}", finish.raw);
            assert!(finish.set_cookie().is_none() && finish.body.get("session").is_none(), "{}", finish.raw);
        }
        let mut bob = shape(&new_finish.body);
        bob["user"]["email"] = json!("ada@example.com");
        assert_eq!(bob, shape(&dup_finish.body));

        // No passkey reached Ada's account: it still has only its password.
        let login =
            send(&app.router, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD })))
                .await;
        let token = login.cookie_token().unwrap();
        let passkeys = send(&app.router, crate::support::get_with_cookie("/auth/passkeys", &token)).await;
        assert_eq!(passkeys.body["passkeys"].as_array().map(Vec::len), Some(0));
        app.flows.wait_idle().await;
        assert_eq!(app.outbox.last_to("ada@example.com").unwrap().kind(), MessageKind::AccountExists);
    }
}
