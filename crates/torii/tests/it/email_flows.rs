//! Email flows against real storage: magic links, address verification, password reset and change,
//! with an in-memory outbox and a manual clock. Runs on in-memory SQLite here, and once per other
//! backend from the `on_*` modules (the `backend` module of the including module picks it).

use std::sync::Arc;

use chrono::Duration;
use torii::email_flows::{EmailConfig, EmailFlows, EmailMessage, MessageKind, OtherSessions, OutboxMailer};
use torii::storage::{MagicLinkStorage, TokenPurpose, UserStorage};
use torii::{ManualClock, Torii, ToriiError};
use torii_test_backends::StoredTokens as _;

use super::backend::{Repo, setup_test_repositories};
use crate::support::{OTHER_PASSWORD, PASSWORD};

/// This backend's repositories, or an early return (the test is skipped, with a notice) when its
/// database server is unavailable outside CI.
macro_rules! repositories {
    () => {
        match setup_test_repositories().await {
            Some(repositories) => repositories,
            None => return,
        }
    };
}

struct Fixture {
    flows: EmailFlows<Repo>,
    torii: Arc<Torii<Repo>>,
    outbox: OutboxMailer,
    clock: Arc<ManualClock>,
}

async fn fixture_with(configure: impl FnOnce(EmailConfig) -> EmailConfig) -> Option<Fixture> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Arc::new(Torii::new(setup_test_repositories().await?).with_clock(clock.clone()));
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example")
        .unwrap()
        .retries(3, std::time::Duration::ZERO);
    let flows = EmailFlows::new(torii.clone(), configure(config), Arc::new(outbox.clone()));
    Some(Fixture { flows, torii, outbox, clock })
}

async fn fixture() -> Option<Fixture> {
    fixture_with(|c| c).await
}

fn token_of(message: &EmailMessage) -> String {
    let link = message.link().expect("a link");
    link.split_once("?token=").expect("token parameter").1.to_owned()
}

impl Fixture {
    async fn last_token_to(&self, email: &str, kind: MessageKind) -> String {
        self.flows.wait_idle().await;
        let message = self.outbox.last_to(email).expect("a message");
        assert_eq!(message.kind(), kind);
        token_of(&message)
    }
}

fn is_invalid_token(result: &Result<impl std::fmt::Debug, ToriiError>) -> bool {
    matches!(result, Err(ToriiError::InvalidToken(_)))
}

/// The seed's documented helpers compile against `&Torii<impl UserStorage + MagicLinkStorage>` and work.
#[tokio::test]
async fn seed_magic_link_helpers_work() {
    async fn send_magic_link(torii: &Torii<impl UserStorage + MagicLinkStorage>, email: &str) -> String {
        let token = torii.generate_magic_token(email).await.unwrap();
        format!("https://your-app.com/auth/magic-link?token={}", token.token)
    }
    async fn verify_magic_link(torii: &Torii<impl UserStorage + MagicLinkStorage>, token: &str) -> torii::UserId {
        let (user, session) = torii
            .verify_magic_token(token, Some("Browser User Agent".to_string()), Some("127.0.0.1".to_string()))
            .await
            .unwrap();
        assert_eq!(session.user_id, user.id);
        assert!(!session.token.to_string().is_empty());
        user.id
    }
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let link = send_magic_link(&f.torii, "ada@example.com").await;
    let token = link.split_once("token=").unwrap().1;
    assert_eq!(token.len(), 43);
    assert_eq!(verify_magic_link(&f.torii, token).await, user.id);
    // Following the link proved the address.
    assert!(f.torii.get_user(&user.id).await.unwrap().unwrap().is_email_verified());
}

#[tokio::test]
async fn magic_link_logs_in_once_and_uses_the_configured_base_url() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.send_magic_link("ADA@example.com").await.unwrap();
    f.flows.wait_idle().await;
    let message = f.outbox.last_to("ada@example.com").unwrap();
    assert!(message.link().unwrap().starts_with("https://app.example/auth/magic-link?token="));
    assert!(message.text().contains(message.link().unwrap()));
    let token = token_of(&message);
    let (logged_in, session) = f.flows.verify_magic_token(&token, None, None).await.unwrap();
    assert_eq!(logged_in.id, user.id);
    assert_eq!(f.torii.get_session(&session.token).await.unwrap().user_id, user.id);
    // Replay.
    assert!(is_invalid_token(&f.flows.verify_magic_token(&token, None, None).await));
}

#[tokio::test]
async fn magic_link_expires_after_ten_minutes() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let token = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;
    f.clock.advance(Duration::minutes(10));
    assert!(is_invalid_token(&f.torii.verify_magic_token(&token, None, None).await));

    let token = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;
    f.clock.advance(Duration::minutes(10) - Duration::seconds(1));
    assert!(f.torii.verify_magic_token(&token, None, None).await.is_ok());
}

#[tokio::test]
async fn a_new_magic_link_voids_the_older_ones() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let first = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;
    let second = f.torii.generate_magic_token("Ada@Example.com").await.unwrap().token;
    assert!(is_invalid_token(&f.torii.verify_magic_token(&first, None, None).await));
    assert!(f.torii.verify_magic_token(&second, None, None).await.is_ok());
}

#[tokio::test]
async fn tokens_only_work_for_their_purpose() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let reset = f.torii.generate_password_reset_token("ada@example.com").await.unwrap().unwrap().token;
    let verify = f.torii.generate_email_verification_token(&user.id).await.unwrap().token;
    let magic = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;

    assert!(is_invalid_token(&f.torii.verify_magic_token(&reset, None, None).await));
    assert!(is_invalid_token(&f.torii.verify_email(&reset).await));
    assert!(is_invalid_token(&f.torii.verify_magic_token(&verify, None, None).await));
    assert!(is_invalid_token(&f.torii.reset_password(&verify, OTHER_PASSWORD).await));
    assert!(is_invalid_token(&f.torii.reset_password(&magic, OTHER_PASSWORD).await));
    assert!(is_invalid_token(&f.torii.verify_email(&magic).await));
    // Nor as a session token.
    assert!(f.torii.get_session(&torii::SessionToken::new(&reset)).await.is_err());
    // A wrong-purpose attempt does not use the token up. (The reset comes last: it voids every other
    // outstanding link of the address.)
    assert!(f.torii.verify_email(&verify).await.is_ok());
    assert!(f.torii.verify_magic_token(&magic, None, None).await.is_ok());
    assert!(f.torii.reset_password(&reset, OTHER_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn tampered_and_malformed_tokens_are_refused() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let token = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;
    let mut chars: Vec<char> = token.chars().collect();
    chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [tampered.as_str(), &token[..42], &format!("{token}A"), "", "not a token", &token.to_uppercase()] {
        if bad == token {
            continue;
        }
        assert!(is_invalid_token(&f.torii.verify_magic_token(bad, None, None).await), "{bad:?}");
    }
    assert!(f.torii.verify_magic_token(&token, None, None).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_redemptions_give_exactly_one_session() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let token = f.torii.generate_magic_token("ada@example.com").await.unwrap().token;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let torii = f.torii.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move { torii.verify_magic_token(&token, None, None).await }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(err) => assert!(matches!(err, ToriiError::InvalidToken(_)), "{err:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(f.torii.list_sessions(&user.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.send_magic_link("nobody@example.com").await.unwrap();
    f.flows.request_password_reset("nobody@example.com").await.unwrap();
    f.flows.wait_idle().await;
    assert!(f.outbox.messages().is_empty());
    assert!(f.torii.get_user_by_email("nobody@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn magic_link_can_create_the_account_when_configured() {
    let Some(f) = fixture_with(|c| c.create_accounts_on_magic_link(true)).await else { return };
    f.flows.send_magic_link("new@example.com").await.unwrap();
    let token = f.last_token_to("new@example.com", MessageKind::MagicLink).await;
    let (user, _) = f.flows.verify_magic_token(&token, None, None).await.unwrap();
    assert_eq!(user.email, "new@example.com");
    assert!(user.is_email_verified());
    // Without the option, the same kind of token fails.
    let token = f.torii.generate_magic_token("other@example.com").await.unwrap().token;
    assert!(is_invalid_token(&f.torii.verify_magic_token(&token, None, None).await));
    assert!(f.torii.get_user_by_email("other@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn cr_lf_in_addresses_is_refused_and_nothing_is_sent() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    for bad in
        ["ada@example.com\r\nBcc: victim@example.com", "ada@example.com\nBcc: v@example.com", "ada@exa\rmple.com"]
    {
        assert!(matches!(f.flows.send_magic_link(bad).await, Err(ToriiError::InvalidEmail(_))));
        assert!(matches!(f.flows.request_password_reset(bad).await, Err(ToriiError::InvalidEmail(_))));
        assert!(matches!(f.torii.generate_magic_token(bad).await, Err(ToriiError::InvalidEmail(_))));
    }
    f.flows.wait_idle().await;
    assert!(f.outbox.messages().is_empty());
}

#[tokio::test]
async fn email_verification_sets_verified_once() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.send_verification_email(&user.id).await.unwrap();
    let token = f.last_token_to("ada@example.com", MessageKind::EmailVerification).await;
    let verified = f.flows.verify_email(&token).await.unwrap();
    assert!(verified.is_email_verified());
    assert!(f.torii.get_user(&user.id).await.unwrap().unwrap().email_verified_at.is_some());
    assert!(is_invalid_token(&f.flows.verify_email(&token).await));
    // Already verified: nothing more is sent.
    f.outbox.clear();
    f.flows.send_verification_email(&user.id).await.unwrap();
    f.flows.wait_idle().await;
    assert!(f.outbox.messages().is_empty());
}

#[tokio::test]
async fn verification_fails_once_the_address_changed() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let token = f.torii.generate_email_verification_token(&user.id).await.unwrap().token;
    let mut changed = user.clone();
    changed.email = "ada@elsewhere.example".into();
    f.torii.storage().update_user(&changed).await.unwrap();
    assert!(is_invalid_token(&f.torii.verify_email(&token).await));
    assert!(!f.torii.get_user(&user.id).await.unwrap().unwrap().is_email_verified());
}

#[tokio::test]
async fn password_reset_revokes_sessions_voids_tokens_and_sends_a_notice() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let (_, s1) = f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    let (_, s2) = f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();

    f.flows.request_password_reset("ada@example.com").await.unwrap();
    let first = f.last_token_to("ada@example.com", MessageKind::PasswordReset).await;
    assert!(
        f.outbox
            .last_to("ada@example.com")
            .unwrap()
            .link()
            .unwrap()
            .starts_with("https://app.example/auth/password/reset?token=")
    );
    f.flows.request_password_reset("ada@example.com").await.unwrap();
    let second = f.last_token_to("ada@example.com", MessageKind::PasswordReset).await;
    assert!(is_invalid_token(&f.flows.reset_password(&first, OTHER_PASSWORD).await), "older link voided");

    // A weak password is refused without using the link up.
    assert!(matches!(f.flows.reset_password(&second, "password").await, Err(ToriiError::WeakPassword(_))));
    let reset = f.flows.reset_password(&second, OTHER_PASSWORD).await.unwrap();
    assert_eq!(reset.id, user.id);
    assert!(f.torii.get_session(&s1.token).await.is_err());
    assert!(f.torii.get_session(&s2.token).await.is_err());
    assert!(f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.is_err());
    assert!(f.torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await.is_ok());
    assert!(is_invalid_token(&f.flows.reset_password(&second, "yet another passphrase").await), "replay");

    f.flows.wait_idle().await;
    let notice = f.outbox.last_to("ada@example.com").unwrap();
    assert_eq!(notice.kind(), MessageKind::PasswordChanged);
    assert!(notice.link().is_none());
}

#[tokio::test]
async fn password_reset_requests_are_rate_limited_per_account() {
    let Some(f) = fixture_with(|c| c.rate_limit(3, Duration::minutes(15))).await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.torii.register_user_with_password("bob@example.com", PASSWORD).await.unwrap();
    for _ in 0..5 {
        f.flows.request_password_reset("ada@example.com").await.unwrap();
    }
    f.flows.request_password_reset("bob@example.com").await.unwrap();
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.messages_to("ada@example.com").len(), 3);
    assert_eq!(f.outbox.messages_to("bob@example.com").len(), 1);
    // The third mail's link is still live: requests over the limit issue no token.
    let token = token_of(&f.outbox.last_to("ada@example.com").unwrap());
    // The window slides: once the burst is more than a window behind, mail goes out again.
    f.clock.advance(Duration::minutes(30));
    f.flows.request_password_reset("ada@example.com").await.unwrap();
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.messages_to("ada@example.com").len(), 4);
    assert!(is_invalid_token(&f.torii.reset_password(&token, OTHER_PASSWORD).await));
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_keeps_this_session() {
    let Some(f) = fixture().await else { return };
    let user = f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let (_, here) = f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    let (_, other) = f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    let reset = f.torii.generate_password_reset_token("ada@example.com").await.unwrap().unwrap().token;

    let wrong = f.flows.change_password(&user.id, "not my password", OTHER_PASSWORD, OtherSessions::Keep).await;
    assert!(matches!(wrong, Err(ToriiError::InvalidCredentials)));
    let weak = f.flows.change_password(&user.id, PASSWORD, "password", OtherSessions::Keep).await;
    assert!(matches!(weak, Err(ToriiError::WeakPassword(_))));

    let change = f
        .flows
        .change_password(&user.id, PASSWORD, OTHER_PASSWORD, OtherSessions::RevokeExcept(here.id.clone()))
        .await
        .unwrap();
    assert_eq!(change.revoked, 1);
    assert!(change.new_session.is_none(), "an opaque session is kept, not replaced");
    assert!(f.torii.get_session(&here.token).await.is_ok());
    assert!(f.torii.get_session(&other.token).await.is_err());
    assert!(f.torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await.is_ok());
    assert!(is_invalid_token(&f.torii.reset_password(&reset, "a third passphrase").await), "reset link voided");
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.last_to("ada@example.com").unwrap().kind(), MessageKind::PasswordChanged);
}

#[tokio::test]
async fn delivery_is_retried_and_failures_stay_silent() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.outbox.fail_next(2);
    f.flows.send_magic_link("ada@example.com").await.unwrap();
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.attempts(), 3);
    assert_eq!(f.outbox.messages().len(), 1);

    // Failing every attempt: the request still succeeds; the mail is given up after 3 tries.
    f.outbox.clear();
    f.outbox.fail_next(10);
    f.flows.request_password_reset("ada@example.com").await.unwrap();
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.attempts(), 6);
    assert!(f.outbox.messages().is_empty());
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_bound_to_their_purpose() {
    let Some(f) = fixture().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let token = f.torii.generate_magic_token("ada@example.com").await.unwrap();
    assert_eq!(token.purpose, TokenPurpose::MagicLink);
    assert!(!format!("{token:?}").contains(&token.token));
    let stored = f.torii.storage().one_time_token_hashes().await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token.token);
    assert_eq!(stored[0], torii::storage::TokenHash::of(&token.token).as_str());
}

#[tokio::test]
async fn registering_through_the_flows_mails_a_link_that_verifies_the_address() {
    let Some(f) = fixture().await else { return };
    let user = f.flows.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    assert!(!user.is_email_verified());
    let token = f.last_token_to("ada@example.com", MessageKind::EmailVerification).await;
    let message = f.outbox.last_to("ada@example.com").unwrap();
    assert!(message.link().unwrap().starts_with("https://app.example/auth/verify-email?token="));
    assert_eq!(f.flows.verify_email(&token).await.unwrap().id, user.id);
    assert!(f.torii.get_user(&user.id).await.unwrap().unwrap().is_email_verified());
    // Registration errors are the registration's own, and send nothing more.
    let again = f.flows.register_user_with_password("ada@example.com", PASSWORD).await;
    assert!(matches!(again, Err(ToriiError::UserAlreadyExists)));
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.messages().len(), 1);
}

#[tokio::test]
async fn verification_on_register_can_be_turned_off() {
    let Some(f) = fixture_with(|c| c.send_verification_on_register(false)).await else { return };
    assert!(!f.flows.config().sends_verification_on_register());
    let user = f.flows.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.after_registration(&user.id).await;
    f.flows.wait_idle().await;
    assert!(f.outbox.messages().is_empty());
}

#[tokio::test]
async fn registration_succeeds_when_every_delivery_attempt_fails() {
    let Some(f) = fixture().await else { return };
    f.outbox.fail_next(10);
    let user = f.flows.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.wait_idle().await;
    assert_eq!(f.outbox.attempts(), 3, "tried as configured, then given up");
    assert!(f.outbox.messages().is_empty());
    assert_eq!(f.torii.get_user_by_email("ada@example.com").await.unwrap().unwrap().id, user.id);
    // The user can ask again once the mail server is back.
    f.outbox.fail_next(0);
    f.flows.send_verification_email(&user.id).await.unwrap();
    f.last_token_to("ada@example.com", MessageKind::EmailVerification).await;
}

/// A coordinator that refuses password login until the address is verified, with flows over it.
async fn verified_only() -> Option<Fixture> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii =
        Arc::new(Torii::new(setup_test_repositories().await?).with_clock(clock.clone()).require_verified_email(true));
    assert!(torii.requires_verified_email());
    let outbox = OutboxMailer::new();
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
    let flows = EmailFlows::new(torii.clone(), config, Arc::new(outbox.clone()));
    Some(Fixture { flows, torii, outbox, clock })
}

#[tokio::test]
async fn verified_only_login_is_revealed_only_to_the_right_password() {
    let Some(f) = verified_only().await else { return };
    let user = f.flows.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let login = |password: &'static str| f.torii.login_user_with_password("ada@example.com", password, None, None);
    assert!(matches!(login(OTHER_PASSWORD).await, Err(ToriiError::InvalidCredentials)));
    let unknown = f.torii.login_user_with_password("nobody@example.com", PASSWORD, None, None).await;
    assert!(matches!(unknown, Err(ToriiError::InvalidCredentials)));
    assert!(matches!(login(PASSWORD).await, Err(ToriiError::EmailNotVerified)));
    assert!(f.torii.list_sessions(&user.id).await.unwrap().is_empty(), "no session was issued");

    // Ada enters her password on the confirmation page, which keeps it: the first proof of an address
    // removes every credential nobody vouched for, unless its owner shows it is theirs.
    let token = f.last_token_to("ada@example.com", MessageKind::EmailVerification).await;
    let ada = f.torii.verify_password_login("ada@example.com", PASSWORD).await.unwrap();
    assert!(f.flows.verify_email_as(&token, Some(&ada.id)).await.unwrap().dropped.is_empty());
    let (logged_in, session) = login(PASSWORD).await.unwrap();
    assert_eq!((logged_in.id, session.user_id), (user.id.clone(), user.id));
    // Without the option, the same unverified state logs in.
    let relaxed = Torii::new(repositories!());
    relaxed.register_user_with_password("bob@example.com", PASSWORD).await.unwrap();
    assert!(relaxed.login_user_with_password("bob@example.com", PASSWORD, None, None).await.is_ok());
}

#[tokio::test]
async fn magic_links_and_reset_links_prove_the_address_for_verified_only_login() {
    let Some(f) = verified_only().await else { return };
    f.torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    f.flows.send_magic_link("ada@example.com").await.unwrap();
    let token = f.last_token_to("ada@example.com", MessageKind::MagicLink).await;
    let (user, _) = f.flows.verify_magic_token(&token, None, None).await.unwrap();
    assert!(user.is_email_verified());
    // Nobody signed in followed the link, so the password set before the address was proven is gone
    // (whoever registered may not own the address); a reset link sets a new one.
    let old = f.torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(old, Err(ToriiError::InvalidCredentials)));

    f.torii.register_user_with_password("bob@example.com", PASSWORD).await.unwrap();
    f.flows.request_password_reset("bob@example.com").await.unwrap();
    let token = f.last_token_to("bob@example.com", MessageKind::PasswordReset).await;
    assert!(f.flows.reset_password(&token, OTHER_PASSWORD).await.unwrap().is_email_verified());
    assert!(f.torii.login_user_with_password("bob@example.com", OTHER_PASSWORD, None, None).await.is_ok());
}
