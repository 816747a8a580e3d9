//! The GitHub provider against a local stand-in for github.com and its API: the code is exchanged
//! with the PKCE verifier, the subject is the numeric id, and only a verified address counts as one.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use torii_core::OAuthProvider;
use torii_core::oauth::{CodeExchange, OAuthSecret};
use torii_oauth::{GitHubConfig, GitHubProvider};

type FormFields = Vec<(String, String)>;

#[derive(Clone, Default)]
struct Fake {
    token_requests: Arc<Mutex<Vec<FormFields>>>,
    emails: Arc<Mutex<Value>>,
}

async fn token(State(fake): State<Fake>, Form(form): Form<FormFields>) -> Json<Value> {
    fake.token_requests.lock().unwrap().push(form);
    Json(json!({ "access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email" }))
}

async fn user() -> Json<Value> {
    Json(json!({ "id": 583231, "login": "octocat", "name": "The Octocat", "email": "public@example.com" }))
}

async fn emails(State(fake): State<Fake>) -> Json<Value> {
    Json(fake.emails.lock().unwrap().clone())
}

#[tokio::test]
async fn github_identity_comes_from_the_api() {
    let fake = Fake::default();
    let app = Router::new()
        .route("/login/oauth/access_token", post(token))
        .route("/api/user", get(user))
        .route("/api/user/emails", get(emails))
        .with_state(fake.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let provider = GitHubProvider::new(
        GitHubConfig::new("gh-client", "gh-secret", "https://app.example/auth/oauth/github/callback")
            .with_server(&base, format!("{base}/api")),
    )
    .unwrap();
    let start = provider.authorization_url("the-state").unwrap();
    assert!(start.url.starts_with(&format!("{base}/login/oauth/authorize?")), "{}", start.url);
    for part in ["state=the-state", "code_challenge_method=S256", "code_challenge=", "client_id=gh-client"] {
        assert!(start.url.contains(part), "{} lacks {part}", start.url);
    }

    *fake.emails.lock().unwrap() = json!([
        { "email": "old@example.com", "primary": false, "verified": true },
        { "email": "octo@example.com", "primary": true, "verified": true },
    ]);
    let exchange =
        || CodeExchange { code: OAuthSecret::new("the-code"), pkce_verifier: start.pkce_verifier.clone(), nonce: None };
    let identity = provider.exchange_code(exchange()).await.unwrap();
    assert_eq!(identity.subject, "583231");
    assert_eq!((identity.email.as_deref(), identity.email_verified), (Some("octo@example.com"), true));
    assert_eq!(identity.name.as_deref(), Some("The Octocat"));
    let sent = fake.token_requests.lock().unwrap()[0].clone();
    assert!(sent.contains(&("code_verifier".to_owned(), start.pkce_verifier.expose().to_owned())), "{sent:?}");
    assert!(sent.contains(&("code".to_owned(), "the-code".to_owned())));

    // No verified address: the public one is passed on as unverified.
    *fake.emails.lock().unwrap() = json!([{ "email": "octo@example.com", "primary": true, "verified": false }]);
    let identity = provider.exchange_code(exchange()).await.unwrap();
    assert_eq!((identity.email.as_deref(), identity.email_verified), (Some("public@example.com"), false));
}
