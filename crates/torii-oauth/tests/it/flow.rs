//! The flow and the linking rules, with a scripted provider standing in for the network.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use torii_core::oauth::{
    AuthorizationStart, CodeExchange, OAuthCallback, OAuthOutcome, OAuthSecret, OAuthStartOptions, ProviderIdentity,
};
use torii_core::storage::{OAuthStorage, PasskeyCredential, PasskeyStorage, UserStorage};
use torii_core::{ManualClock, OAuthError, OAuthLinkPolicy, OAuthProvider, Torii, ToriiError};
use torii_storage_sqlite::SqliteRepositoryProvider;

/// Hands out whatever identity the test put in, and records what it was given.
struct Scripted {
    name: &'static str,
    identity: Arc<Mutex<ProviderIdentity>>,
    seen: Arc<Mutex<Vec<CodeExchange>>>,
}

#[torii_core::async_trait]
impl OAuthProvider for Scripted {
    fn name(&self) -> &str {
        self.name
    }

    fn authorization_url(&self, state: &str) -> Result<AuthorizationStart, OAuthError> {
        Ok(AuthorizationStart {
            url: format!("https://idp.example/authorize?state={state}"),
            pkce_verifier: OAuthSecret::new(format!("verifier-for-{state}")),
            nonce: Some(format!("nonce-for-{state}")),
        })
    }

    async fn exchange_code(&self, exchange: CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        if exchange.code.expose() == "bad-code" {
            return Err(OAuthError::code_exchange("invalid_grant"));
        }
        self.seen.lock().unwrap().push(exchange);
        Ok(self.identity.lock().unwrap().clone())
    }
}

struct Setup {
    torii: Torii<SqliteRepositoryProvider>,
    identity: Arc<Mutex<ProviderIdentity>>,
    seen: Arc<Mutex<Vec<CodeExchange>>>,
    clock: Arc<ManualClock>,
}

fn identity(subject: &str, email: &str, verified: bool) -> ProviderIdentity {
    ProviderIdentity { subject: subject.into(), email: Some(email.into()), email_verified: verified, name: None }
}

async fn setup(policy: OAuthLinkPolicy) -> Setup {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let identity = Arc::new(Mutex::new(self::identity("sub-1", "ada@example.com", true)));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(Arc::new(repositories))
        .with_clock(clock.clone())
        .with_oauth_provider(Scripted { name: "idp", identity: identity.clone(), seen: seen.clone() })
        .with_oauth_provider(Scripted { name: "other", identity: identity.clone(), seen: seen.clone() })
        .with_oauth_link_policy(policy);
    Setup { torii, identity, seen, clock }
}

/// The documented two calls, on the documented bound.
async fn documented_login(
    torii: &Torii<impl UserStorage + OAuthStorage>,
    provider: &str,
) -> Result<(torii_core::User, torii_core::Session), ToriiError> {
    let start = torii.get_oauth_authorization_url(provider).await?;
    assert!(start.url.contains(&start.csrf_state));
    torii.exchange_oauth_code(provider, "code", &start.csrf_state, Some("agent".into()), Some("127.0.0.1".into())).await
}

fn oauth_err(result: Result<impl std::fmt::Debug, ToriiError>) -> OAuthError {
    match result {
        Err(ToriiError::OAuth(err)) => err,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

#[tokio::test]
async fn first_login_registers_then_logs_in_with_stored_verifier_and_nonce() {
    let s = setup(OAuthLinkPolicy::default()).await;
    let (user, session) = documented_login(&s.torii, "idp").await.unwrap();
    assert_eq!(user.email, "ada@example.com");
    assert!(user.is_email_verified());
    assert_eq!(s.torii.get_session(&session.token).await.unwrap().user_id, user.id);
    {
        let seen = s.seen.lock().unwrap();
        let state = seen[0].pkce_verifier.expose().strip_prefix("verifier-for-").unwrap();
        assert_eq!(seen[0].nonce.as_deref(), Some(format!("nonce-for-{state}").as_str()));
    }

    // The same subject logs in again, even after the provider reports another email.
    *s.identity.lock().unwrap() = identity("sub-1", "renamed@example.com", true);
    let (again, _) = documented_login(&s.torii, "idp").await.unwrap();
    assert_eq!(again.id, user.id);
}

#[tokio::test]
async fn state_is_single_use_expires_and_belongs_to_one_provider() {
    let s = setup(OAuthLinkPolicy::default()).await;
    let start = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    s.torii.exchange_oauth_code("idp", "code", &start.csrf_state, None, None).await.unwrap();
    let replay = s.torii.exchange_oauth_code("idp", "code", &start.csrf_state, None, None).await;
    assert!(matches!(oauth_err(replay), OAuthError::InvalidState));

    let start = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    s.clock.advance(Duration::minutes(10) + Duration::seconds(1));
    let late = s.torii.exchange_oauth_code("idp", "code", &start.csrf_state, None, None).await;
    assert!(matches!(oauth_err(late), OAuthError::InvalidState));

    // A state started with one provider is refused at another's callback (and is used up).
    let start = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    let mixed = s.torii.exchange_oauth_code("other", "code", &start.csrf_state, None, None).await;
    assert!(matches!(oauth_err(mixed), OAuthError::ProviderMismatch));
    let unknown = s.torii.get_oauth_authorization_url("nope").await;
    assert!(matches!(unknown, Err(ToriiError::ServiceNotFound(_))));
    let failed = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    let bad = s.torii.exchange_oauth_code("idp", "bad-code", &failed.csrf_state, None, None).await;
    assert!(matches!(oauth_err(bad), OAuthError::CodeExchange(_)));
}

#[tokio::test]
async fn existing_email_links_only_when_verified_and_allowed() {
    let s = setup(OAuthLinkPolicy::default()).await;
    let owner = s.torii.register_user_with_password("Ada@Example.com", "analytical engine 1843").await.unwrap();

    // Default policy, not logged in: refused even though verified.
    let refused = documented_login(&s.torii, "idp").await;
    assert!(matches!(oauth_err(refused), OAuthError::EmailInUse));

    // Logged in as someone else: still refused.
    let start = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    let mut callback = OAuthCallback::new("code", &start.csrf_state);
    callback.session_user_id = Some(torii_core::UserId::new("someone-else"));
    assert!(matches!(
        oauth_err(s.torii.complete_oauth_flow("idp", callback, None, None).await),
        OAuthError::EmailInUse
    ));

    // Logged in as the owner, with a verified email: linked.
    let start = s.torii.get_oauth_authorization_url("idp").await.unwrap();
    let mut callback = OAuthCallback::new("code", &start.csrf_state);
    callback.session_user_id = Some(owner.id.clone());
    let login = s.torii.complete_oauth_flow("idp", callback, None, None).await.unwrap();
    assert_eq!((login.user.id.clone(), login.outcome), (owner.id.clone(), OAuthOutcome::Linked));

    // The permissive policy links a verified email without a login, never an unverified one.
    let s = setup(OAuthLinkPolicy::LinkVerifiedEmail).await;
    let owner = s.torii.register_user_with_password("ada@example.com", "analytical engine 1843").await.unwrap();
    *s.identity.lock().unwrap() = identity("sub-1", "ada@example.com", false);
    assert!(matches!(oauth_err(documented_login(&s.torii, "idp").await), OAuthError::EmailInUse));
    *s.identity.lock().unwrap() = identity("sub-1", "ada@example.com", true);
    assert_eq!(documented_login(&s.torii, "idp").await.unwrap().0.id, owner.id);
}

#[tokio::test]
async fn link_flow_needs_its_user_and_one_identity_per_provider() {
    let s = setup(OAuthLinkPolicy::default()).await;
    let ada = s.torii.register_user_with_password("ada@example.com", "analytical engine 1843").await.unwrap();
    let bob = s.torii.register_user_with_password("bob@example.com", "difference engine 1822").await.unwrap();
    let link = |user: &torii_core::UserId| OAuthStartOptions {
        redirect_to: Some("/settings".into()),
        link_user_id: Some(user.clone()),
    };

    // Completed without Ada's session: refused.
    let start = s.torii.start_oauth_flow("idp", link(&ada.id)).await.unwrap();
    let anonymous = s.torii.exchange_oauth_code("idp", "code", &start.csrf_state, None, None).await;
    assert!(matches!(oauth_err(anonymous), OAuthError::LinkRequiresLogin));

    // With it: linked, whatever email the identity has.
    *s.identity.lock().unwrap() = identity("ada-at-idp", "someone@elsewhere.example", false);
    let start = s.torii.start_oauth_flow("idp", link(&ada.id)).await.unwrap();
    let mut callback = OAuthCallback::new("code", &start.csrf_state);
    callback.session_user_id = Some(ada.id.clone());
    let login = s.torii.complete_oauth_flow("idp", callback, None, None).await.unwrap();
    assert_eq!(login.redirect_to.as_deref(), Some("/settings"));
    assert_eq!(s.torii.list_oauth_accounts(&ada.id).await.unwrap()[0].subject, "ada-at-idp");

    // Bob cannot take Ada's identity, and Ada cannot link a second identity at the same provider.
    let start = s.torii.start_oauth_flow("idp", link(&bob.id)).await.unwrap();
    let mut callback = OAuthCallback::new("code", &start.csrf_state);
    callback.session_user_id = Some(bob.id.clone());
    assert!(matches!(
        oauth_err(s.torii.complete_oauth_flow("idp", callback, None, None).await),
        OAuthError::IdentityInUse
    ));
    *s.identity.lock().unwrap() = identity("ada-second", "x@elsewhere.example", true);
    let start = s.torii.start_oauth_flow("idp", link(&ada.id)).await.unwrap();
    let mut callback = OAuthCallback::new("code", &start.csrf_state);
    callback.session_user_id = Some(ada.id.clone());
    let second = s.torii.complete_oauth_flow("idp", callback, None, None).await;
    assert!(matches!(oauth_err(second), OAuthError::ProviderAlreadyLinked));
}

#[tokio::test]
async fn unlinking_never_removes_the_last_way_to_log_in() {
    let s = setup(OAuthLinkPolicy::default()).await;
    let (user, _) = documented_login(&s.torii, "idp").await.unwrap();
    let last = s.torii.unlink_oauth_account(&user.id, "idp").await;
    assert!(matches!(oauth_err(last), OAuthError::LastLoginMethod));
    assert!(matches!(oauth_err(s.torii.unlink_oauth_account(&user.id, "other").await), OAuthError::NotLinked));

    // A passkey is another way in.
    let now = s.torii.now();
    let passkey = PasskeyCredential {
        credential_id: "cred-1".into(),
        user_id: user.id.clone(),
        name: "Laptop".into(),
        data: "{}".into(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_at: now,
        last_used_at: None,
    };
    s.torii.storage().create_passkey(&passkey).await.unwrap();
    s.torii.unlink_oauth_account(&user.id, "idp").await.unwrap();
    assert!(s.torii.list_oauth_accounts(&user.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn identity_without_email_cannot_register() {
    let s = setup(OAuthLinkPolicy::default()).await;
    *s.identity.lock().unwrap() =
        ProviderIdentity { subject: "s".into(), email: None, email_verified: false, name: None };
    assert!(matches!(oauth_err(documented_login(&s.torii, "idp").await), OAuthError::MissingEmail));
}
