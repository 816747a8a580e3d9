//! End to end against a real OpenID Provider: start → provider → callback → session → `/auth/user`,
//! and the ways a flow must fail.

use reqwest::StatusCode;
use torii_core::OAuthLinkPolicy;
use torii_core::storage::OAuthStorage as _;

use super::peer::{Account, App, Reply, browser, param, prerequisites, visit, with_param};

fn assert_refused(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.body.contains(&format!("\"code\":\"{code}\"")), "{}", reply.body);
    assert!(!reply.session_cookie, "a refused callback sets no session");
    assert_eq!(reply.referrer_policy.as_deref(), Some("no-referrer"));
}

async fn current_user(app: &App, browser: &reqwest::Client) -> (StatusCode, serde_json::Value) {
    let response = browser.get(app.url("/auth/user")).send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["user"].clone())
}

#[tokio::test]
async fn login_creates_user_and_session_and_redirects_to_next() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let browser = browser();
    let callback = app.authorize(&browser, "next=/welcome%3Ftab%3D1").await;
    assert!(param(&callback, "code").is_some());
    assert_eq!(param(&callback, "iss").as_deref(), Some(app.issuer.as_str()), "the provider sends iss");

    let reply = visit(&browser, callback.clone()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/welcome?tab=1"));
    assert_eq!(reply.referrer_policy.as_deref(), Some("no-referrer"));
    assert!(reply.session_cookie);

    let (status, user) = current_user(&app, &browser).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "ada@example.com");
    assert!(user["email_verified_at"].is_string(), "the provider verified the email: {user}");
    assert_eq!(user["name"], "Ada Lovelace");

    // The account is keyed on the provider's subject, and a second login finds it.
    let linked = browser.get(app.url("/auth/oauth/accounts")).send().await.unwrap();
    let linked: serde_json::Value = linked.json().await.unwrap();
    assert_eq!(linked["accounts"][0]["provider"], "oidc");
    assert_eq!(linked["providers"], serde_json::json!(["oidc"]));
    let account = app.torii.storage().get_oauth_account("oidc", "user-1").await.unwrap();
    assert_eq!(account.map(|a| a.email), Some(Some("ada@example.com".to_owned())));

    let again = visit(&browser, app.authorize(&browser, "").await).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(again.location.as_deref(), Some("/home"), "no next: the default");

    // The only way this user logs in is the provider: unlinking it is refused.
    let unlink = browser
        .delete(app.url("/auth/oauth/accounts/oidc"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(unlink.status(), StatusCode::CONFLICT);
    assert!(unlink.text().await.unwrap().contains("oauth_last_login_method"));
}

#[tokio::test]
async fn state_must_be_bound_single_use_and_present() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let browser = browser();

    // Wrong state: the browser's cookie holds the real one.
    let callback = app.authorize(&browser, "").await;
    let wrong = visit(&browser, with_param(&callback, "state", Some("not-the-state"))).await;
    assert_refused(&wrong, StatusCode::BAD_REQUEST, "oauth_invalid_state");

    // Missing state.
    let callback = app.authorize(&browser, "").await;
    let missing = visit(&browser, with_param(&callback, "state", None)).await;
    assert_refused(&missing, StatusCode::BAD_REQUEST, "oauth_invalid_state");

    // Another browser (login CSRF: an attacker's callback URL opened by a victim) lacks the cookie.
    let callback = app.authorize(&browser, "").await;
    let victim = super::peer::browser();
    let csrf = visit(&victim, callback.clone()).await;
    assert_refused(&csrf, StatusCode::BAD_REQUEST, "oauth_invalid_state");
    // The right browser still completes it.
    let ok = visit(&browser, callback.clone()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Replayed state: even with the binding cookie forged back, the server-side state is gone.
    let state = param(&callback, "state").unwrap();
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response =
        replay.get(callback.clone()).header("cookie", format!("torii_oauth_oidc={state}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("oauth_invalid_state"));
}

#[tokio::test]
async fn replayed_code_is_refused_by_the_provider() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let browser = browser();
    let first = app.authorize(&browser, "").await;
    assert_eq!(visit(&browser, first.clone()).await.status, StatusCode::SEE_OTHER);

    // A fresh, valid state (and binding cookie) with the already-redeemed code.
    let second = app.authorize(&browser, "").await;
    let replayed = with_param(&second, "code", param(&first, "code").as_deref());
    let reply = visit(&browser, replayed).await;
    assert_refused(&reply, StatusCode::UNAUTHORIZED, "oauth_failed");
    assert!(reply.body.contains("could not be exchanged"), "{}", reply.body);
}

#[tokio::test]
async fn authorization_response_from_another_issuer_is_refused() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let browser = browser();
    let callback = app.authorize(&browser, "").await;
    let reply = visit(&browser, with_param(&callback, "iss", Some("http://127.0.0.1:1/evil"))).await;
    assert_refused(&reply, StatusCode::BAD_REQUEST, "oauth_issuer_mismatch");

    // The provider advertises RFC 9207, so a response without `iss` is refused too.
    let callback = app.authorize(&browser, "").await;
    let reply = visit(&browser, with_param(&callback, "iss", None)).await;
    assert_refused(&reply, StatusCode::BAD_REQUEST, "oauth_issuer_mismatch");
}

async fn tampered_id_token_is_refused(claim: &'static str) {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account { tamper: Some(claim), ..Account::default() }).await;
    let browser = browser();
    let reply = visit(&browser, app.authorize(&browser, "").await).await;
    assert_refused(&reply, StatusCode::UNAUTHORIZED, "oauth_failed");
    assert!(reply.body.contains("the ID token is invalid"), "refused for its ID token: {}", reply.body);
    assert_eq!(current_user(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert!(app.torii.get_user_by_email("ada@example.com").await.unwrap().is_none(), "no user was created");
}

#[tokio::test]
async fn id_token_with_wrong_nonce_is_refused() {
    tampered_id_token_is_refused("nonce").await;
}

#[tokio::test]
async fn id_token_for_another_audience_is_refused() {
    tampered_id_token_is_refused("aud").await;
}

#[tokio::test]
async fn id_token_from_another_issuer_is_refused() {
    tampered_id_token_is_refused("iss").await;
}

#[tokio::test]
async fn unverified_email_cannot_take_over_an_existing_account() {
    if !prerequisites() {
        return;
    }
    // The provider says the address is NOT verified; even the permissive policy must refuse.
    let account = Account { email_verified: false, ..Account::default() };
    let app = App::start_with(account, OAuthLinkPolicy::LinkVerifiedEmail, 0).await;
    let owner = app.torii.register_user_with_password("ada@example.com", "analytical engine 1843").await.unwrap();

    let browser = browser();
    let reply = visit(&browser, app.authorize(&browser, "").await).await;
    assert_refused(&reply, StatusCode::CONFLICT, "oauth_email_in_use");
    assert_eq!(current_user(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    assert!(app.torii.list_oauth_accounts(&owner.id).await.unwrap().is_empty(), "nothing was linked");
}

#[tokio::test]
async fn verified_email_links_only_for_its_logged_in_owner_by_default() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let owner = app.torii.register_user_with_password("ada@example.com", "analytical engine 1843").await.unwrap();
    let browser = browser();

    // Not logged in: refused with a clear error, even though the provider verified the address.
    let reply = visit(&browser, app.authorize(&browser, "").await).await;
    assert_refused(&reply, StatusCode::CONFLICT, "oauth_email_in_use");

    // Logged in as the owner, an explicit link flow links the identity.
    let login = browser
        .post(app.url("/auth/login"))
        .json(&serde_json::json!({ "email": "ada@example.com", "password": "analytical engine 1843" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let reply = visit(&browser, app.authorize(&browser, "link=true&next=/settings").await).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location.as_deref(), Some("/settings"));
    let linked = app.torii.list_oauth_accounts(&owner.id).await.unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].subject, "user-1");

    // Logged out, the identity now logs into the same account.
    let fresh = super::peer::browser();
    assert_eq!(visit(&fresh, app.authorize(&fresh, "").await).await.status, StatusCode::SEE_OTHER);
    let (status, user) = current_user(&app, &fresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], owner.id.as_str());

    // The owner has a password, so unlinking is allowed.
    let unlink = fresh
        .delete(app.url("/auth/oauth/accounts/oidc"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(unlink.status(), StatusCode::NO_CONTENT);
    assert!(app.torii.list_oauth_accounts(&owner.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn open_redirect_next_falls_back_to_the_default() {
    if !prerequisites() {
        return;
    }
    let app = App::start(Account::default()).await;
    let browser = browser();
    for next in ["https%3A%2F%2Fevil.example%2F", "%2F%2Fevil.example", "%2F%5Cevil.example"] {
        let reply = visit(&browser, app.authorize(&browser, &format!("next={next}")).await).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.location.as_deref(), Some("/home"), "next={next}");
    }
}

#[tokio::test]
async fn rotated_provider_keys_are_fetched_again() {
    if !prerequisites() {
        return;
    }
    // Discovery caches the first provider's keys; a provider restarted on the same address signs
    // with a new key, whose unknown `kid` makes Torii fetch the JWKS again.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut app = App::start_with(Account::default(), OAuthLinkPolicy::default(), port).await;
    let redirect = app.url("/auth/oauth/oidc/callback");
    app.peer.take().unwrap().stop().await;
    let restarted = super::peer::OidcPeer::start(&redirect, &Account::default(), port).await;
    assert_eq!(restarted.issuer, app.issuer);
    app.peer = Some(restarted);

    let browser = browser();
    let reply = visit(&browser, app.authorize(&browser, "").await).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(current_user(&app, &browser).await.0, StatusCode::OK);
}
