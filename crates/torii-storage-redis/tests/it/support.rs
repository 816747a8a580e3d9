//! Connecting to the test Redis server, a fresh key prefix per test, and deleting each test's keys.
//!
//! Tests share one Redis server (and other test suites share it too), so no test ever flushes a
//! database: each works under its own random prefix and deletes exactly the keys under it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use redis::Commands as _;
use torii_core::session_store::{self, SessionData, SessionStore};
use torii_core::storage::{RateLimitDecision, RateLimitStorage, SessionStorage, TokenRevocationStorage};
use torii_core::{SessionId, SessionRecord, SplitStorage, StorageResult, TokenHash, UserId};
use torii_storage_redis::RedisSessionStorage;
use torii_storage_sqlite::SqliteRepositoryProvider;

/// The server the tests use: `REDIS_URL`, or the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The URL without any credentials in it, for messages.
pub fn shown_url(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{host}"),
        _ => url.to_owned(),
    }
}

/// A prefix no other test (or test run) uses.
pub fn fresh_prefix() -> String {
    format!("torii-test:{}:", torii_test_suite::fixtures::random_suffix())
}

/// Deletes every key under its prefix when dropped, so a test cleans up even when it fails.
///
/// The deletion is synchronous (its own short-lived blocking connection): `Drop` cannot await, and the
/// test's runtime may already be shutting down.
pub struct KeyCleanup {
    url: String,
    prefix: String,
}

impl KeyCleanup {
    pub fn new(url: &str, prefix: &str) -> Self {
        Self { url: url.to_owned(), prefix: prefix.to_owned() }
    }
}

impl Drop for KeyCleanup {
    fn drop(&mut self) {
        if let Err(err) = delete_keys(&self.url, &self.prefix) {
            eprintln!("could not delete the test keys under {}: {err}", self.prefix);
        }
    }
}

/// Escapes the glob characters of `MATCH` patterns.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Every key under `prefix` (SCAN, never KEYS, which blocks the server).
pub fn keys_under(url: &str, prefix: &str) -> redis::RedisResult<Vec<String>> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
    let pattern = format!("{}*", glob_escape(prefix));
    let keys: Vec<String> = connection.scan_match::<_, String>(&pattern)?.collect::<Result<_, _>>()?;
    Ok(keys)
}

fn delete_keys(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let keys = keys_under(url, prefix)?;
    if keys.is_empty() {
        return Ok(());
    }
    let client = redis::Client::open(url)?;
    let mut connection = client.get_connection_with_timeout(Duration::from_secs(2))?;
    for chunk in keys.chunks(500) {
        let _: u64 = connection.del(chunk)?;
    }
    Ok(())
}

/// A connected storage under a fresh prefix, with the guard that deletes its keys; `None` (or a panic
/// under `CI`) when Redis cannot be reached.
pub async fn redis() -> Option<(RedisSessionStorage, KeyCleanup)> {
    let url = redis_url();
    match RedisSessionStorage::connect(&url).await {
        Ok(storage) => {
            let prefix = fresh_prefix();
            let cleanup = KeyCleanup::new(&url, &prefix);
            Some((storage.with_key_prefix(prefix), cleanup))
        }
        Err(err) => {
            let cause = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
            let url = shown_url(&url);
            torii_test_suite::skip_or_fail("Redis", &format!("cannot connect to {url}: {err}: {cause}"))
        }
    }
}

/// A fresh, migrated in-memory SQLite database for users.
pub async fn sqlite() -> SqliteRepositoryProvider {
    let users = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("open an in-memory database");
    users.migrate().await.expect("migrate the in-memory database");
    users
}

/// The Redis storage of one test: delegates every call and deletes its keys when dropped.
pub struct TestRedis {
    pub storage: RedisSessionStorage,
    _cleanup: KeyCleanup,
}

/// The conformance factory for sessions: users in SQLite, sessions in Redis, as `Torii::with_storages`
/// combines them.
pub async fn sessions_backend() -> Option<SplitStorage<SqliteRepositoryProvider, TestRedis>> {
    let (storage, cleanup) = redis().await?;
    let sessions = TestRedis { storage, _cleanup: cleanup };
    Some(SplitStorage::new(Arc::new(sqlite().await), Arc::new(sessions)))
}

/// The conformance factory for revocation: the Redis storage alone.
pub async fn revocation_backend() -> Option<TestRedis> {
    let (storage, cleanup) = redis().await?;
    Some(TestRedis { storage, _cleanup: cleanup })
}

/// The conformance factory for the application's session data: the Redis storage alone, under the
/// test's own prefix.
pub async fn session_data_backend() -> Option<TestRedis> {
    revocation_backend().await
}

/// The conformance factory for rate-limit counters: the Redis storage alone, under the test's own prefix.
pub async fn rate_limit_backend() -> Option<TestRedis> {
    revocation_backend().await
}

/// The application's key/value session data: a trait object trait, so delegated with `async_trait`.
#[torii_core::async_trait]
impl SessionStore for TestRedis {
    async fn load(&self, session_id: &str) -> session_store::Result<Option<SessionData>> {
        self.storage.load(session_id).await
    }

    async fn save(&self, session_id: &str, data: SessionData) -> session_store::Result<()> {
        self.storage.save(session_id, data).await
    }

    async fn delete(&self, session_id: &str) -> session_store::Result<()> {
        self.storage.delete(session_id).await
    }

    async fn cleanup_expired(&self) -> session_store::Result<usize> {
        self.storage.cleanup_expired().await
    }

    fn is_healthy(&self) -> bool {
        self.storage.is_healthy()
    }
}

impl SessionStorage for TestRedis {
    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        self.storage.create_session(session).await
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        self.storage.get_session(token_hash, now).await
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        self.storage.touch_session(token_hash, updated_at).await
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        self.storage.list_sessions_for_user(user_id, now).await
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        self.storage.delete_session(token_hash).await
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        self.storage.delete_session_by_id(user_id, session_id).await
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        self.storage.delete_sessions_for_user(user_id, keep).await
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.storage.cleanup_expired_sessions(now, batch_size).await
    }
}

impl TokenRevocationStorage for TestRedis {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        self.storage.revoke_token_id(token_id, user_id, expires_at).await
    }

    async fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        self.storage.is_token_revoked(token_id, user_id, issued_at).await
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        self.storage.revoke_all_before(user_id, not_before).await
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        self.storage.revoked_before(user_id).await
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.storage.cleanup_revoked_tokens(now, batch_size).await
    }
}

impl RateLimitStorage for TestRedis {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        self.storage.hit_rate_limit(key, now, window, max).await
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        self.storage.reset_rate_limit(key).await
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.storage.cleanup_expired_rate_limits(now, batch_size).await
    }
}
