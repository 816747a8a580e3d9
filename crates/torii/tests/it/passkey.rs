//! Passkey ceremonies end to end on real storage (in-memory SQLite here, every other backend from the
//! `on_*` modules), with webauthn-rs's software authenticator playing the
//! browser: the happy paths, and the attacks the ceremonies must refuse.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use serde_json::Value;
use torii::storage::{AuditLogStorage as _, PasskeyStorage as _, PasswordStorage as _};
use torii::{
    ChallengeId, ManualClock, PasskeyConfig, PasskeyEnrollmentCompletion, PasskeyError, PasskeyLoginCompletion,
    PasskeyOptions, PasskeyRegistrationCompletion, Torii, ToriiError, User,
};
use webauthn_authenticator_rs::AuthenticatorBackend as _;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use super::backend::{Repo, setup_test_repositories};
use crate::support::PASSWORD;

const ORIGIN: &str = "https://example.com";

type Coordinator = Torii<Repo>;

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

async fn torii_with_clock() -> Option<(Coordinator, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await?)
        .with_clock(clock.clone())
        .with_passkeys(PasskeyConfig::new("example.com", "Example").with_origin(ORIGIN))
        .unwrap();
    Some((torii, clock))
}

async fn torii() -> Option<Coordinator> {
    Some(torii_with_clock().await?.0)
}

/// A software authenticator standing in for the browser. It cannot keep resident keys or show who it
/// belongs to, so the tests tell it which credential to use and add the user handle a browser would.
struct Device {
    key: SoftPasskey,
    origin: Url,
    /// (credential id, user handle) of each passkey it created.
    credentials: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Device {
    fn new() -> Self {
        Self::at(ORIGIN)
    }

    fn at(origin: &str) -> Self {
        // `true`: report user verification as done (this test authenticator has no PIN or biometrics).
        Self { key: SoftPasskey::new(true), origin: Url::parse(origin).unwrap(), credentials: Vec::new() }
    }

    fn create(&mut self, options: &Value) -> Value {
        self.create_with(options, |_| {})
    }

    /// navigator.credentials.create(), with a hook to tamper with the options first.
    fn create_with(&mut self, options: &Value, tamper: impl FnOnce(&mut CreationChallengeResponse)) -> Value {
        let mut ccr: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false; // not supported by the software authenticator
        }
        tamper(&mut ccr);
        let user_handle = ccr.public_key.user.id.to_vec();
        let credential = self.key.perform_register(self.origin.clone(), ccr.public_key, 60_000).unwrap();
        self.credentials.push((credential.raw_id.to_vec(), user_handle));
        serde_json::to_value(&credential).unwrap()
    }

    fn get(&mut self, options: &Value) -> Value {
        self.get_with(options, |_| {})
    }

    /// navigator.credentials.get() with this device's newest passkey.
    fn get_with(&mut self, options: &Value, tamper: impl FnOnce(&mut RequestChallengeResponse)) -> Value {
        let (id, handle) = self.credentials.last().cloned().unwrap();
        let mut rcr: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        // Like a browser with a resident key: answer with the passkey even when the list does not name it.
        rcr.public_key.allow_credentials =
            serde_json::from_value(serde_json::json!([{ "type": "public-key", "id": URL_SAFE_NO_PAD.encode(&id) }]))
                .unwrap();
        tamper(&mut rcr);
        let mut assertion = self.key.perform_auth(self.origin.clone(), rcr.public_key, 60_000).unwrap();
        assertion.response.user_handle = Some(handle);
        serde_json::to_value(&assertion).unwrap()
    }
}

fn registration(email: &str, start: &PasskeyOptions, response: Value) -> PasskeyRegistrationCompletion {
    PasskeyRegistrationCompletion {
        email: email.to_owned(),
        challenge_id: ChallengeId::new(start.challenge_id.as_str().to_owned()),
        response,
    }
}

fn login(start: &PasskeyOptions, response: Value) -> PasskeyLoginCompletion {
    PasskeyLoginCompletion { challenge_id: start.challenge_id.clone(), response }
}

async fn sign_up(torii: &Coordinator, device: &mut Device, email: &str) -> User {
    let start = torii.begin_passkey_registration(email).await.unwrap();
    let response = device.create(&start.options);
    torii.complete_passkey_registration(&registration(email, &start, response)).await.unwrap()
}

fn is_invalid_credentials<T: std::fmt::Debug>(result: Result<T, ToriiError>) -> bool {
    matches!(result, Err(ToriiError::InvalidCredentials))
}

fn is_passkey_error<T: std::fmt::Debug>(result: Result<T, ToriiError>, expected: PasskeyError) -> bool {
    matches!(result, Err(ToriiError::Passkey(e)) if e == expected)
}

#[tokio::test]
async fn a_passkey_only_account_signs_up_and_logs_in_with_and_without_email() {
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();

    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let public_key = &start.options["publicKey"];
    assert_eq!(public_key["rp"]["id"], "example.com");
    assert_eq!(public_key["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(public_key["authenticatorSelection"]["residentKey"], "required");
    let response = device.create(&start.options);
    let user = torii.complete_passkey_registration(&registration("Ada@Example.com", &start, response)).await.unwrap();
    assert_eq!(user.email, "Ada@Example.com");
    assert!(torii.storage().get_password_hash(&user.id).await.unwrap().is_none(), "no password");
    let passkeys = torii.list_passkeys(&user.id).await.unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].name, "Passkey");

    // With an email: the allow-list names the account's passkey.
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    assert_eq!(start.options["publicKey"]["allowCredentials"][0]["id"], passkeys[0].id.as_str());
    assert_eq!(start.options["publicKey"]["userVerification"], "required");
    let (logged_in, session) =
        torii.complete_passkey_login(&login(&start, device.get(&start.options)), None, None).await.unwrap();
    assert_eq!(logged_in.id, user.id);
    assert_eq!(torii.get_session(&session.token).await.unwrap().user_id, user.id);

    // Without: the passkey's user handle names the account.
    let start = torii.begin_passkey_login_usernameless().await.unwrap();
    assert_eq!(start.options["publicKey"]["allowCredentials"], serde_json::json!([]));
    assert_eq!(start.options["mediation"], "conditional");
    let (logged_in, _) =
        torii.complete_passkey_login(&login(&start, device.get(&start.options)), None, None).await.unwrap();
    assert_eq!(logged_in.id, user.id);

    let stored = torii.storage().get_passkey(&passkeys[0].id).await.unwrap().unwrap();
    assert_eq!(stored.sign_count, 2, "the counter the second login presented");
    assert!(stored.last_used_at.is_some());
    // The software key is device-bound: it reports neither flag (a synced passkey's are checked in the
    // example app's browser test).
    assert_eq!((stored.backup_eligible, stored.backup_state), (false, false));
    assert_eq!((passkeys[0].backup_eligible, passkeys[0].backup_state), (false, false));
}

#[tokio::test]
async fn an_email_with_an_account_cannot_start_a_new_account_registration() {
    let Some(torii) = torii().await else { return };
    torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    assert!(matches!(torii.begin_passkey_registration("ADA@example.com").await, Err(ToriiError::UserAlreadyExists)));
}

#[tokio::test]
async fn replayed_challenges_are_refused() {
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let completion = registration("ada@example.com", &start, device.create(&start.options));
    torii.complete_passkey_registration(&completion).await.unwrap();
    assert!(is_passkey_error(torii.complete_passkey_registration(&completion).await, PasskeyError::ChallengeInvalid));

    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let completion = login(&start, device.get(&start.options));
    torii.complete_passkey_login(&completion, None, None).await.unwrap();
    assert!(is_invalid_credentials(torii.complete_passkey_login(&completion, None, None).await));

    // A response made for one challenge does not complete another.
    let first = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let second = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let answer_to_first = device.get(&first.options);
    assert!(is_invalid_credentials(torii.complete_passkey_login(&login(&second, answer_to_first), None, None).await));
}

#[tokio::test]
async fn a_registration_challenge_cannot_complete_a_login_or_another_email() {
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let response = device.create(&start.options);
    let as_login = PasskeyLoginCompletion { challenge_id: start.challenge_id.clone(), response: response.clone() };
    assert!(is_invalid_credentials(torii.complete_passkey_login(&as_login, None, None).await));
    // The login attempt did not spend it (kinds are separate), but another email cannot use it.
    let other = registration("eve@example.com", &start, response.clone());
    assert!(is_passkey_error(torii.complete_passkey_registration(&other).await, PasskeyError::ChallengeInvalid));
    assert!(torii.get_user_by_email("eve@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn a_wrong_origin_is_refused() {
    let Some(torii) = torii().await else { return };
    let mut phishing = Device::at("https://example.com.evil.test");
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let response = phishing.create(&start.options);
    let result = torii.complete_passkey_registration(&registration("ada@example.com", &start, response)).await;
    assert!(is_passkey_error(result, PasskeyError::VerificationFailed));
    assert!(torii.get_user_by_email("ada@example.com").await.unwrap().is_none(), "no account was created");

    // A genuine passkey used through a phishing origin.
    let mut device = Device::new();
    sign_up(&torii, &mut device, "ada@example.com").await;
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    device.origin = Url::parse("https://evil.test").unwrap();
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&start, device.get(&start.options)), None, None).await
    ));
}

#[tokio::test]
async fn a_wrong_relying_party_id_is_refused() {
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let response = device.create_with(&start.options, |ccr| ccr.public_key.rp.id = "evil.test".to_owned());
    let result = torii.complete_passkey_registration(&registration("ada@example.com", &start, response)).await;
    assert!(is_passkey_error(result, PasskeyError::VerificationFailed));

    sign_up(&torii, &mut device, "ada@example.com").await;
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let response = device.get_with(&start.options, |rcr| rcr.public_key.rp_id = "evil.test".to_owned());
    assert!(is_invalid_credentials(torii.complete_passkey_login(&login(&start, response), None, None).await));
}

#[tokio::test]
async fn a_passkey_of_one_account_cannot_log_in_to_another() {
    let Some(torii) = torii().await else { return };
    let mut alice = Device::new();
    let mut bob = Device::new();
    sign_up(&torii, &mut alice, "alice@example.com").await;
    let bob_user = sign_up(&torii, &mut bob, "bob@example.com").await;

    // Bob's login ceremony answered with Alice's passkey.
    let start = torii.begin_passkey_login("bob@example.com").await.unwrap();
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&start, alice.get(&start.options)), None, None).await
    ));

    // Usernameless: Alice's passkey claiming to be Bob's (the user handle is not signed).
    let start = torii.begin_passkey_login_usernameless().await.unwrap();
    let bob_handle = bob.credentials[0].1.clone();
    alice.credentials[0].1 = bob_handle;
    let response = alice.get(&start.options);
    assert!(is_invalid_credentials(torii.complete_passkey_login(&login(&start, response), None, None).await));

    // Adding Alice's passkey to Bob's account fails: it is registered already.
    let start = torii.begin_passkey_enrollment(&bob_user.id).await.unwrap();
    let mut fresh = Device::new();
    let response = fresh.create(&start.options);
    let enrollment = PasskeyEnrollmentCompletion { challenge_id: start.challenge_id, response, name: None };
    let alice_user = torii.get_user_by_email("alice@example.com").await.unwrap().unwrap();
    let result = torii.complete_passkey_enrollment(&alice_user.id, &enrollment).await;
    assert!(is_passkey_error(result, PasskeyError::ChallengeInvalid), "Bob's enrollment cannot finish for Alice");
}

#[tokio::test]
async fn a_response_without_user_verification_is_refused() {
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();
    // The authenticator skips the PIN or biometric check (as if the options had made it optional), so its
    // answer carries no "user verified" flag.
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let mut unverified = start.options.clone();
    unverified["publicKey"]["authenticatorSelection"]["userVerification"] = "preferred".into();
    let response = device.create(&unverified);
    let result = torii.complete_passkey_registration(&registration("ada@example.com", &start, response)).await;
    assert!(is_passkey_error(result, PasskeyError::VerificationFailed));
    assert!(torii.get_user_by_email("ada@example.com").await.unwrap().is_none(), "no account was created");

    sign_up(&torii, &mut device, "ada@example.com").await;
    let by_email = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let usernameless = torii.begin_passkey_login_usernameless().await.unwrap();
    for start in [by_email, usernameless] {
        let mut unverified = start.options.clone();
        unverified["publicKey"]["userVerification"] = "preferred".into();
        let response = device.get(&unverified);
        assert!(is_invalid_credentials(torii.complete_passkey_login(&login(&start, response), None, None).await));
    }
    // The same passkey, verified, still logs in.
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    assert!(torii.complete_passkey_login(&login(&start, device.get(&start.options)), None, None).await.is_ok());
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let Some((torii, clock)) = torii_with_clock().await else { return };
    let mut device = Device::new();
    let start = torii.begin_passkey_registration("ada@example.com").await.unwrap();
    let response = device.create(&start.options);
    clock.advance(Duration::minutes(5) + Duration::seconds(1));
    let result = torii.complete_passkey_registration(&registration("ada@example.com", &start, response)).await;
    assert!(is_passkey_error(result, PasskeyError::ChallengeInvalid));

    sign_up(&torii, &mut device, "ada@example.com").await;
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    let response = device.get(&start.options);
    clock.advance(Duration::minutes(4));
    let still_valid = torii.begin_passkey_login("ada@example.com").await.unwrap();
    clock.advance(Duration::minutes(1) + Duration::seconds(1));
    assert!(is_invalid_credentials(torii.complete_passkey_login(&login(&start, response), None, None).await));
    let response = device.get(&still_valid.options);
    assert!(torii.complete_passkey_login(&login(&still_valid, response), None, None).await.is_ok());
}

#[tokio::test]
async fn unknown_emails_get_answers_shaped_like_known_ones() {
    let Some(torii) = torii().await else { return };
    sign_up(&torii, &mut Device::new(), "ada@example.com").await;
    torii.register_user_with_password("pat@example.com", PASSWORD).await.unwrap(); // no passkeys

    let known = torii.begin_passkey_login("ada@example.com").await.unwrap();
    for email in ["nobody@example.com", "pat@example.com", "not an email"] {
        let unknown = torii.begin_passkey_login(email).await.unwrap();
        assert_eq!(shape(&known.options), shape(&unknown.options), "{email}");
        let again = torii.begin_passkey_login(email).await.unwrap();
        assert_eq!(
            unknown.options["publicKey"]["allowCredentials"], again.options["publicKey"]["allowCredentials"],
            "the decoy is stable, as a real account's list would be"
        );
        assert_ne!(unknown.options["publicKey"]["challenge"], again.options["publicKey"]["challenge"]);
    }
    // The decoy ceremony never completes, whatever passkey answers it.
    let decoy = torii.begin_passkey_login("nobody@example.com").await.unwrap();
    let mut device = Device::new();
    sign_up(&torii, &mut device, "eve@example.com").await;
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&decoy, device.get(&decoy.options)), None, None).await
    ));
}

/// The structure of a JSON value: keys, types and string lengths, not values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(s) => Value::String(format!("string({})", s.len())),
        Value::Number(_) => Value::String("number".into()),
        other => other.clone(),
    }
}

/// Everything a `tracing` subscriber writes, for tests that check what is logged.
#[derive(Clone, Default)]
struct CapturedLog(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_signature_counter_that_goes_backwards_is_refused() {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let log = CapturedLog::default();
    let writer = log.clone();
    // The test runs on one thread, so this subscriber sees everything the ceremony logs.
    let _logging =
        tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish().set_default();
    let Some(torii) = torii().await else { return };
    let mut device = Device::new();
    let user = sign_up(&torii, &mut device, "ada@example.com").await;
    let id = torii.list_passkeys(&user.id).await.unwrap()[0].id.clone();
    // As if a clone of the authenticator had already logged in 100 times.
    let stored = torii.storage().get_passkey(&id).await.unwrap().unwrap();
    torii.storage().update_passkey_usage(&id, &stored.data, 100, false, torii.now()).await.unwrap();

    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&start, device.get(&start.options)), None, None).await
    ));
    assert_eq!(torii.storage().get_passkey(&id).await.unwrap().unwrap().sign_count, 100, "nothing recorded");

    // A security event: its own target, the event name, whose passkey, both counters; no key material.
    let logged = log.text();
    let event =
        logged.lines().find(|line| line.contains("passkey_counter_regression")).unwrap_or_else(|| panic!("{logged}"));
    assert!(event.contains("WARN") && event.contains("torii::security"), "{event}");
    assert!(event.contains(&id) && event.contains(user.id.as_str()), "{event}");
    assert!(event.contains("stored=100") && event.contains("presented=1"), "{event}");
    assert!(!logged.contains(&stored.data), "the stored credential is never logged");

    // And an audit event in this backend's log, next to the passkey's registration.
    let events = torii.storage().list_audit_events_for_user(&user.id, 10).await.unwrap();
    let regression = events
        .iter()
        .find(|e| e.kind == torii::storage::AuditEventKind::PASSKEY_COUNTER_REGRESSION)
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(regression.detail["passkey_id"], id.as_str());
    assert_eq!(regression.detail["stored_counter"], 100);
    assert!(events.iter().any(|e| e.kind == torii::storage::AuditEventKind::PASSKEY_ADDED));
    assert!(!format!("{events:?}").contains(&stored.data));
}

#[tokio::test]
async fn users_add_rename_and_delete_passkeys_but_never_the_last_way_in() {
    let Some(torii) = torii().await else { return };
    let mut laptop = Device::new();
    let user = sign_up(&torii, &mut laptop, "ada@example.com").await;
    let first = torii.list_passkeys(&user.id).await.unwrap()[0].id.clone();

    assert!(is_passkey_error(torii.delete_passkey(&user.id, &first).await, PasskeyError::LastLoginMethod));

    let mut phone = Device::new();
    let start = torii.begin_passkey_enrollment(&user.id).await.unwrap();
    let excluded = start.options["publicKey"]["excludeCredentials"].as_array().unwrap();
    assert_eq!(excluded.len(), 1, "the existing passkey is excluded");
    let response = phone.create(&start.options);
    let completion =
        PasskeyEnrollmentCompletion { challenge_id: start.challenge_id, response, name: Some("  Phone ".into()) };
    let added = torii.complete_passkey_enrollment(&user.id, &completion).await.unwrap();
    assert_eq!(added.name, "Phone");
    assert_eq!(torii.list_passkeys(&user.id).await.unwrap().len(), 2);

    assert!(torii.rename_passkey(&user.id, &first, "Laptop").await.unwrap());
    assert!(is_passkey_error(
        torii.rename_passkey(&user.id, &first, " ").await,
        PasskeyError::InvalidName("the name is empty")
    ));
    let stranger = torii.register_user_with_password("eve@example.com", PASSWORD).await.unwrap();
    assert!(!torii.rename_passkey(&stranger.id, &first, "Mine").await.unwrap(), "scoped to the owner");
    assert!(!torii.delete_passkey(&stranger.id, &first).await.unwrap(), "scoped to the owner");

    assert!(torii.delete_passkey(&user.id, &first).await.unwrap());
    let names: Vec<String> = torii.list_passkeys(&user.id).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Phone"]);

    // The deleted passkey no longer logs in, by email or without.
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&start, laptop.get(&start.options)), None, None).await
    ));
    let start = torii.begin_passkey_login_usernameless().await.unwrap();
    assert!(is_invalid_credentials(
        torii.complete_passkey_login(&login(&start, laptop.get(&start.options)), None, None).await
    ));
    let start = torii.begin_passkey_login("ada@example.com").await.unwrap();
    assert!(torii.complete_passkey_login(&login(&start, phone.get(&start.options)), None, None).await.is_ok());

    // With a password as well, the last passkey can go.
    torii.set_user_password(&user.id, PASSWORD).await.unwrap();
    assert!(torii.delete_passkey(&user.id, &added.id).await.unwrap());
}

#[tokio::test]
async fn without_configuration_passkeys_are_not_available() {
    let torii = Torii::new(repositories!());
    assert!(matches!(torii.begin_passkey_registration("ada@example.com").await, Err(ToriiError::ServiceNotFound(_))));
    assert!(matches!(torii.begin_passkey_login_usernameless().await, Err(ToriiError::ServiceNotFound(_))));
    let bad = Torii::new(repositories!())
        .with_passkeys(PasskeyConfig::new("example.com", "Example").with_origin("https://evil.test"));
    assert!(matches!(bad, Err(ToriiError::ConfigError(_))));
}

/// The documented helpers compile against `&Torii<impl UserStorage + PasskeyStorage>` as written.
#[tokio::test]
async fn documented_passkey_helpers_work_as_written() {
    async fn start_passkey_registration(
        torii: &Torii<impl torii_core::storage::UserStorage + torii_core::storage::PasskeyStorage>,
        email: &str,
    ) -> Result<(String, Value), ToriiError> {
        let options = torii.begin_passkey_registration(email).await?;
        println!("Challenge ID: {}", options.challenge_id);
        println!("WebAuthn Options: {}", serde_json::to_string(&options.options).unwrap());
        Ok((options.challenge_id.to_string(), options.options))
    }

    async fn complete_passkey_registration(
        torii: &Torii<impl torii_core::storage::UserStorage + torii_core::storage::PasskeyStorage>,
        email: &str,
        challenge_id: &str,
        response: Value,
    ) -> Result<User, ToriiError> {
        let completion = PasskeyRegistrationCompletion {
            email: email.to_string(),
            challenge_id: ChallengeId::new(challenge_id.to_string()),
            response,
        };
        let user = torii.complete_passkey_registration(&completion).await?;
        println!("User registered with passkey: {}", user.id);
        Ok(user)
    }

    let Some(torii) = torii().await else { return };
    let (challenge_id, options) = start_passkey_registration(&torii, "ada@example.com").await.unwrap();
    let response = Device::new().create(&options);
    let user = complete_passkey_registration(&torii, "ada@example.com", &challenge_id, response).await.unwrap();
    assert_eq!(torii.get_user(&user.id).await.unwrap(), Some(user));
}
