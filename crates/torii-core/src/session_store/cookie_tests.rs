#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use super::*;
use crate::ToriiError;
use crate::clock::ManualClock;

const KEY_A: &str = "d6e1eeaab2f1310bcf316f772af0ecf9ee615d404a1ed8684ce5b9b8ff3fd346\
                     89e1b0b17e87092ab38b47e8eb21862e67db9f58af320a8f83e33e065ff60fca";
const KEY_B: &str = "b1898021a42e631f1727d5529b7f8ad09dbbaca86ffd75c17ca5e39b7d41a19a\
                     36e29c9593e81eddf2481c8c1fa9d60ebe77ef993e81d0fa1d8e04e271697767";

fn config(key: &str) -> SessionConfig {
    SessionConfig { encryption_key: Some(key.to_owned()), ..Default::default() }
}

fn store(key: &str) -> CookieSessionStore {
    CookieSessionStore::new(&config(key)).unwrap()
}

/// One creation time for the whole test binary, so `data()` always returns equal values.
static CREATED: LazyLock<DateTime<Utc>> = LazyLock::new(Utc::now);

fn data() -> SessionData {
    let mut data = SessionData::new_at(*CREATED, Duration::from_secs(600));
    data.set("user_id", "123");
    data.set("role", "admin");
    data
}

/// Replaces the character at `i` by another base64 character.
fn flip(value: &str, i: usize) -> String {
    let mut bytes = value.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn seal_then_open_round_trips() {
    let store = store(KEY_A);
    let sealed = store.seal(&data()).unwrap();
    assert!(!sealed.contains("admin") && !sealed.contains("user_id"), "the data must not be readable");
    assert_eq!(store.open(&sealed), Some(data()));
    assert_ne!(store.seal(&data()).unwrap(), sealed, "a fresh nonce every time");
}

#[test]
fn every_single_character_change_is_detected() {
    let store = store(KEY_A);
    let sealed = store.seal(&data()).unwrap();
    for i in 0..sealed.len() {
        assert_eq!(store.open(&flip(&sealed, i)), None, "flipped character {i}");
    }
    assert_eq!(store.open(&sealed[..sealed.len() - 4]), None);
    assert_eq!(store.open(&format!("{sealed}AAAA")), None);
}

#[test]
fn foreign_keys_and_other_cookie_names_are_refused() {
    let sealed = store(KEY_A).seal(&data()).unwrap();
    assert_eq!(store(KEY_B).open(&sealed), None);
    let other_name = CookieSessionStore::new(&SessionConfig { cookie_name: "other".into(), ..config(KEY_A) }).unwrap();
    assert_eq!(other_name.open(&sealed), None, "a value cannot move to another cookie");
}

#[test]
fn garbage_never_panics() {
    let store = store(KEY_A);
    let huge = "A".repeat(100_000);
    for input in ["", "a", "====", "not base64 at all!", "é", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &huge] {
        assert_eq!(store.open(input), None, "{input:.20}");
    }
}

#[test]
fn rotation_opens_old_cookies_and_seals_with_the_new_key() {
    let old = store(KEY_A);
    let old_cookie = old.seal(&data()).unwrap();
    let rotated =
        CookieSessionStore::new(&SessionConfig { previous_encryption_keys: vec![KEY_A.to_owned()], ..config(KEY_B) })
            .unwrap();
    assert_eq!(rotated.open(&old_cookie), Some(data()));

    let new_cookie = rotated.seal(&data()).unwrap();
    assert_eq!(old.open(&new_cookie), None, "sealed with the new key, not the old one");
    assert_eq!(store(KEY_B).open(&new_cookie), Some(data()));
    assert_eq!(store(KEY_B).open(&old_cookie), None, "once the old key is dropped its cookies stop working");
}

#[test]
fn missing_short_and_malformed_keys_are_refused() {
    let missing = CookieSessionStore::new(&SessionConfig::default()).unwrap_err();
    assert!(matches!(missing, SessionStoreError::MissingKey), "{missing}");
    assert!(missing.to_string().contains("openssl rand -hex 64"));

    let short = CookieSessionStore::new(&config(&KEY_A[..64])).unwrap_err();
    assert!(matches!(short, SessionStoreError::InvalidKey { .. }), "{short}");
    assert!(short.to_string().contains("128 hex characters") && !short.to_string().contains(&KEY_A[..16]));

    let placeholder = CookieSessionStore::new(&config("your-128-character-hex-key-here")).unwrap_err();
    assert!(matches!(placeholder, SessionStoreError::InvalidKey { .. }), "{placeholder}");

    let bad_previous = SessionConfig { previous_encryption_keys: vec!["abc".into()], ..config(KEY_A) };
    let err = CookieSessionStore::new(&bad_previous).unwrap_err();
    assert!(err.to_string().contains("previous encryption key #1"), "{err}");

    // `allow_insecure_key` covers a missing key only, never a bad one.
    let bad_but_allowed = SessionConfig { allow_insecure_key: true, ..config(&KEY_A[..64]) };
    assert!(CookieSessionStore::new(&bad_but_allowed).is_err());

    let as_torii: ToriiError = short.into();
    assert!(matches!(as_torii, ToriiError::ConfigError(_)));
}

/// Collects what the `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn insecure_key_works_and_warns() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    let config = SessionConfig { allow_insecure_key: true, ..Default::default() };
    let store = tracing::subscriber::with_default(subscriber, || CookieSessionStore::new(&config)).unwrap();

    let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("WARN") && logged.contains("INSECURE"), "{logged}");
    assert!(store.uses_ephemeral_key());
    assert_eq!(store.open(&store.seal(&data()).unwrap()), Some(data()));

    // Another process (or a restart) generates another key: its cookies are unreadable here.
    let restarted = CookieSessionStore::new(&config).unwrap();
    assert_eq!(restarted.open(&store.seal(&data()).unwrap()), None);
    assert!(!self::store(KEY_A).uses_ephemeral_key());
}

#[test]
fn data_too_large_for_a_cookie_is_refused() {
    let store = store(KEY_A);
    let mut data = SessionData::new(Duration::from_secs(600));
    data.set("blob", "x".repeat(2500));
    let cookie = store.cookie(&data).unwrap();
    assert!(cookie.to_string().len() <= MAX_COOKIE_BYTES);

    data.set("blob", "x".repeat(3000));
    let err = store.seal(&data).unwrap_err();
    assert!(matches!(err, SessionStoreError::TooLarge { size, limit: MAX_COOKIE_BYTES } if size > MAX_COOKIE_BYTES));
    assert!(err.to_string().contains("too large"), "{err}");

    data.set("blob", "x".repeat(1_000_000));
    assert!(matches!(store.seal(&data), Err(SessionStoreError::TooLarge { .. })), "refused before encrypting");
    assert!(matches!(ToriiError::from(store.seal(&data).unwrap_err()), ToriiError::Storage(_)));
}

#[test]
fn expired_data_does_not_open_and_the_ttl_caps_expiry() {
    let clock = Arc::new(ManualClock::starting_now());
    let config = SessionConfig { default_ttl_seconds: 60, ..config(KEY_A) };
    let store = CookieSessionStore::with_clock(&config, clock.clone()).unwrap();

    let long = SessionData::new_at(clock.now(), Duration::from_secs(3600));
    let cookie = store.cookie(&long).unwrap();
    assert_eq!(cookie.max_age(), Some(cookie::time::Duration::seconds(60)));
    let opened = store.open(cookie.value()).unwrap();
    assert_eq!(opened.expires_at(), clock.now() + chrono::Duration::seconds(60));

    clock.advance(chrono::Duration::seconds(59));
    assert!(store.open(cookie.value()).is_some());
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(store.open(cookie.value()), None);

    let already_expired = SessionData::new_at(clock.now(), Duration::ZERO);
    assert_eq!(store.open(&store.seal(&already_expired).unwrap()), None);
}

#[test]
fn cookies_carry_the_configured_attributes() {
    let store = store(KEY_A);
    let set_cookie = store.cookie(&data()).unwrap().to_string();
    assert!(set_cookie.starts_with("torii_app_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attribute), "{attribute} missing from {set_cookie}");
    }

    let dev = CookieSessionStore::new(&SessionConfig {
        cookie_name: "my_session".into(),
        cookie_path: "/app".into(),
        cookie_domain: Some("example.com".into()),
        cookie_secure: false,
        cookie_same_site: SameSite::Strict,
        ..config(KEY_A)
    })
    .unwrap();
    let removal = dev.removal_cookie().to_string();
    assert!(removal.starts_with("my_session=;"), "{removal}");
    for attribute in ["Max-Age=0", "Path=/app", "Domain=example.com", "SameSite=Strict"] {
        assert!(removal.contains(attribute), "{attribute} missing from {removal}");
    }
    assert!(!removal.contains("Secure"), "{removal}");
    assert_eq!(dev.cookie_name(), "my_session");
}

#[tokio::test]
async fn as_a_session_store_the_id_is_the_cookie_value() {
    let cookie_store = store(KEY_A);
    let sealed = cookie_store.seal(&data()).unwrap();
    let store: Arc<dyn SessionStore> = Arc::new(cookie_store);

    assert_eq!(store.load(&sealed).await.unwrap(), Some(data()));
    assert_eq!(store.load("session-123").await.unwrap(), None);
    assert!(matches!(store.save("session-123", data()).await, Err(ToriiError::Unsupported(_))));
    store.delete(&sealed).await.unwrap();
    assert_eq!(store.cleanup_expired().await.unwrap(), 0);
    assert!(store.is_healthy());
}

#[test]
fn debug_never_shows_keys() {
    let shown = format!("{:?}", store(KEY_A));
    assert!(!shown.contains(&KEY_A[..16]) && shown.contains("redacted"), "{shown}");
}
