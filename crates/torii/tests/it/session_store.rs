//! Application session data (`torii::session_store`): the documented snippets, compiled as written
//! apart from the module path, and the environment readers driven through `from_lookup`.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use torii::session_store::{CookieSessionStore, InMemorySessionStore, SessionConfig, SessionData, SessionStore};
use torii::{JwtAlgorithm, SessionProviderType, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

/// A well-formed key for the tests (never use a key from source code in production).
const KEY: &str = "5f0b1c2d3e4f5a6b7c8d9eaf0b1c2d3e4f5a6b7c8d9eaf0b1c2d3e4f5a6b7c8d\
                   9eaf0b1c2d3e4f5a6b7c8d9eaf0b1c2d3e4f5a6b7c8d9eaf0b1c2d3e4f5a6b7c";

// ---- Quick start -------------------------------------------------------------------------------

/// The quick start as documented: the production store from `SESSION_ENCRYPTION_KEY`, then the
/// development one.
fn quick_start() -> Result<(), Box<dyn Error>> {
    use std::sync::Arc;
    use torii::session_store::{CookieSessionStore, InMemorySessionStore, SessionConfig};
    // For production: use cookie sessions with encryption key
    let config = SessionConfig {
        encryption_key: Some(std::env::var("SESSION_ENCRYPTION_KEY").expect("SESSION_ENCRYPTION_KEY required")),
        ..Default::default()
    };
    let store = Arc::new(CookieSessionStore::new(&config)?);
    assert!(!store.uses_ephemeral_key());
    // For development: use in-memory sessions
    let store = Arc::new(InMemorySessionStore::new(Duration::from_secs(3600)));
    assert_eq!(store.default_ttl(), Duration::from_secs(3600));
    Ok(())
}

/// Runs the quick start inside a child process that has `SESSION_ENCRYPTION_KEY` set (see
/// `quick_start_runs_with_the_key_in_the_environment`); a no-op in a normal test run.
#[test]
fn quick_start_child() {
    if std::env::var_os("TORII_IT_QUICK_START_CHILD").is_some() {
        quick_start().unwrap();
    }
}

#[test]
fn quick_start_runs_with_the_key_in_the_environment() {
    // Tests must not mutate their own process environment, so the snippet runs in a child process.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "session_store::quick_start_child", "--nocapture", "--test-threads=1"])
        .env("TORII_IT_QUICK_START_CHILD", "1")
        .env("SESSION_ENCRYPTION_KEY", KEY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
}

// ---- Cookie configuration ----------------------------------------------------------------------

/// The documented configuration, with the key's placeholder as a parameter.
fn configured_cookie_store(key: &str) -> Result<CookieSessionStore, Box<dyn Error>> {
    use torii::session_store::{CookieSessionStore, SessionConfig};
    let config = SessionConfig {
        // REQUIRED: 64-byte hex-encoded encryption key (128 hex characters)
        encryption_key: Some(key.to_string()),
        // Optional settings
        cookie_name: "my_session".to_string(),
        cookie_path: "/".to_string(),
        cookie_secure: true,        // HTTPS only (recommended for production)
        cookie_http_only: true,     // Prevent JavaScript access
        default_ttl_seconds: 86400, // 24 hours
        ..Default::default()
    };
    let store = CookieSessionStore::new(&config)?;
    Ok(store)
}

#[test]
fn the_placeholder_key_is_refused_and_a_real_key_works() {
    let err = configured_cookie_store("your-128-character-hex-key-here").unwrap_err();
    assert!(err.to_string().contains("128 hex characters") || err.to_string().contains("hex digit"), "{err}");

    let store = configured_cookie_store(KEY).unwrap();
    let mut data = SessionData::new(Duration::from_secs(3600));
    data.set("user_id".to_string(), "123".to_string());
    let cookie = store.cookie(&data).unwrap().to_string();
    assert!(cookie.starts_with("my_session=") && cookie.contains("Secure") && cookie.contains("HttpOnly"));
    let value = store.seal(&data).unwrap();
    assert_eq!(store.open(&value), Some(data));
}

#[test]
fn development_mode_generates_a_key() {
    let config = SessionConfig {
        allow_insecure_key: true, // WARNING: Never use in production!
        ..Default::default()
    };
    let store = CookieSessionStore::new(&config).unwrap();
    assert!(store.uses_ephemeral_key());
    let sealed = store.seal(&SessionData::new(Duration::from_secs(60))).unwrap();
    assert!(store.open(&sealed).is_some());

    // Without the opt-in, a missing key stops start-up.
    let err = CookieSessionStore::new(&SessionConfig::default()).unwrap_err();
    assert!(matches!(ToriiError::from(err), ToriiError::ConfigError(_)));
}

#[test]
fn in_memory_store_as_documented() {
    use std::time::Duration;
    use torii::session_store::InMemorySessionStore;
    let store = InMemorySessionStore::new(Duration::from_secs(3600 * 24));
    assert_eq!(store.default_ttl(), Duration::from_secs(86_400));
}

// ---- The trait ---------------------------------------------------------------------------------

#[allow(unused_variables)] // `user_id` is read and dropped, as in the documentation.
async fn example(store: Arc<dyn SessionStore>) -> torii::session_store::Result<()> {
    let session_id = "session-123";
    // Create session data
    let mut session = SessionData::new(Duration::from_secs(3600));
    session.set("user_id".to_string(), "123".to_string());
    // Save session
    store.save(session_id, session).await?;
    // Load session
    if let Some(session) = store.load(session_id).await? {
        let user_id = session.get("user_id");
    }
    // Delete session
    store.delete(session_id).await?;
    Ok(())
}

#[tokio::test]
async fn the_trait_example_runs_on_a_server_side_store() -> Result<(), ToriiError> {
    let store = Arc::new(InMemorySessionStore::new(Duration::from_secs(3600)));
    example(store.clone()).await?;
    assert!(store.is_empty().await, "the example deletes what it saved");
    Ok(())
}

#[tokio::test]
async fn a_cookie_store_refuses_saves_by_id_instead_of_dropping_data() {
    let store: Arc<dyn SessionStore> = Arc::new(configured_cookie_store(KEY).unwrap());
    assert!(matches!(example(store).await, Err(ToriiError::Unsupported(_))));
}

#[test]
fn session_data_as_documented() {
    use std::time::Duration;
    use torii::session_store::SessionData;
    let mut session = SessionData::new(Duration::from_secs(3600));
    // Set values
    session.set("user_id".to_string(), "123".to_string());
    session.set("role".to_string(), "admin".to_string());
    // Get values
    if let Some(user_id) = session.get("user_id") {
        println!("User ID: {}", user_id);
    }
    // Remove values
    session.remove("role");
    // Check expiration
    if session.is_expired() {
        println!("Session expired");
    }
    // Extend expiration
    session.extend(Duration::from_secs(7200));

    assert_eq!(session.get("user_id"), Some("123"));
    assert_eq!(session.get("role"), None);
    let remaining = session.expires_at() - chrono::Utc::now();
    assert!(remaining > chrono::Duration::seconds(7100) && remaining <= chrono::Duration::seconds(7200));
}

// ---- A custom backend --------------------------------------------------------------------------

/// The documented shape of a custom backend, over a `HashMap` instead of a Redis client.
struct MapSessionStore {
    entries: tokio::sync::Mutex<HashMap<String, SessionData>>,
}

#[torii::async_trait]
impl SessionStore for MapSessionStore {
    async fn load(&self, session_id: &str) -> torii::session_store::Result<Option<SessionData>> {
        Ok(self.entries.lock().await.get(session_id).filter(|data| !data.is_expired()).cloned())
    }

    async fn save(&self, session_id: &str, data: SessionData) -> torii::session_store::Result<()> {
        self.entries.lock().await.insert(session_id.to_owned(), data);
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> torii::session_store::Result<()> {
        self.entries.lock().await.remove(session_id);
        Ok(())
    }

    async fn cleanup_expired(&self) -> torii::session_store::Result<usize> {
        let mut entries = self.entries.lock().await;
        let before = entries.len();
        entries.retain(|_, data| !data.is_expired());
        Ok(before - entries.len())
    }

    fn is_healthy(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn a_custom_backend_is_usable_as_a_trait_object() -> Result<(), ToriiError> {
    let store = Arc::new(MapSessionStore { entries: Default::default() });
    example(store.clone()).await?;
    store.save("gone", SessionData::new(Duration::ZERO)).await?;
    assert_eq!(store.load("gone").await?, None);
    assert_eq!(store.cleanup_expired().await?, 1);
    assert!(store.is_healthy());
    Ok(())
}

// ---- Environment variables ---------------------------------------------------------------------

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| vars.get(name).cloned()
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_store_config_reads_session_variables() {
    let config = SessionConfig::from_lookup(lookup(&[
        ("SESSION_ENCRYPTION_KEY", KEY),
        ("SESSION_COOKIE_NAME", "cart"),
        ("SESSION_TTL_SECONDS", "600"),
    ]))
    .unwrap();
    let store = CookieSessionStore::new(&config).unwrap();
    assert_eq!(store.cookie_name(), "cart");
    let sealed = store.seal(&SessionData::new(Duration::from_secs(3600))).unwrap();
    let opened = store.open(&sealed).unwrap();
    assert!(opened.expires_at() <= chrono::Utc::now() + chrono::Duration::seconds(600), "capped by the TTL");
}

#[tokio::test]
async fn torii_sessions_configured_from_the_environment_work() -> Result<(), ToriiError> {
    let cases = [
        ("opaque", vec![("TORII_SESSION_EXPIRES_IN", "12h")], None),
        ("hs256", vec![("JWT_SECRET", "a-secret-that-is-at-least-32-bytes-long")], Some(JwtAlgorithm::HS256)),
        (
            "rs256",
            vec![
                ("JWT_ALGORITHM", "RS256"),
                ("JWT_PRIVATE_KEY_PATH", "rsa_private.pem"),
                ("JWT_PUBLIC_KEY_PATH", "rsa_public.pem"),
            ],
            Some(JwtAlgorithm::RS256),
        ),
        (
            "es256",
            vec![
                ("JWT_ALGORITHM", "ES256"),
                ("JWT_PRIVATE_KEY_PATH", "ec_private.pem"),
                ("JWT_PUBLIC_KEY_PATH", "ec_public.pem"),
            ],
            Some(JwtAlgorithm::ES256),
        ),
        (
            "eddsa",
            vec![
                ("JWT_ALGORITHM", "EdDSA"),
                ("JWT_PRIVATE_KEY_PATH", "ed25519_private.pem"),
                ("JWT_PUBLIC_KEY_PATH", "ed25519_public.pem"),
            ],
            Some(JwtAlgorithm::EdDSA),
        ),
    ];
    for (name, vars, algorithm) in cases {
        let paths: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), if k.ends_with("_PATH") { fixture(v) } else { (*v).to_owned() }))
            .collect();
        let mut vars: Vec<(&str, &str)> = paths.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        vars.push(("JWT_ISSUER", "https://auth.example.com"));
        if algorithm.is_none() {
            vars.pop(); // an issuer without a key is refused: see below
        }
        let config = torii::SessionConfig::from_lookup(lookup(&vars))?;
        match (&config.provider_type, algorithm) {
            (SessionProviderType::Opaque, None) => assert_eq!(config.expires_in, chrono::Duration::hours(12)),
            (SessionProviderType::Jwt(jwt), Some(algorithm)) => {
                assert_eq!(jwt.algorithm(), algorithm, "{name}");
                assert_eq!(jwt.issuer(), Some("https://auth.example.com"));
            }
            (other, _) => panic!("{name}: unexpected provider {other:?}"),
        }

        let torii = Torii::new(setup_test_repositories().await).with_session_config(config);
        let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
        let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
        assert_eq!(session.token.is_jwt(), algorithm.is_some(), "{name}");
        assert_eq!(torii.get_session(&session.token).await?.user_id, user.id, "{name}");
    }

    let err = torii::SessionConfig::from_lookup(lookup(&[("JWT_ISSUER", "me")])).unwrap_err();
    assert!(err.to_string().contains("JWT_ISSUER"), "{err}");
    let err = torii::SessionConfig::from_lookup(lookup(&[
        ("JWT_ALGORITHM", "RS256"),
        ("JWT_PRIVATE_KEY_PATH", &fixture("ec_private.pem")),
        ("JWT_PUBLIC_KEY_PATH", &fixture("rsa_public.pem")),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("JWT_PRIVATE_KEY_PATH"), "{err}");
    Ok(())
}
