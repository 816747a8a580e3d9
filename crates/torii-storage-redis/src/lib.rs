//! Redis storage for Torii's sessions and JWT revocation data, built on the
//! [`redis`](https://docs.rs/redis) crate.
//!
//! [`RedisSessionStorage`] implements [`SessionStorage`](torii_core::storage::SessionStorage),
//! [`TokenRevocationStorage`](torii_core::storage::TokenRevocationStorage) and
//! [`RateLimitStorage`](torii_core::storage::RateLimitStorage) (counters every instance shares), and is a
//! [`SessionStore`](torii_core::session_store::SessionStore) for the application's key/value session
//! data. Users and their credentials stay in a SQL storage; `Torii::with_storages` combines the two, so
//! every instance of an application sees the same sessions and a logout on one instance is seen by all
//! of them at once.
//!
//! The example needs a running Redis server, so it is compiled but not run by the doctests
//! (`no_run`); the crate's integration tests run the same set-up against a real server.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use torii_core::Torii;
//! use torii_storage_redis::RedisSessionStorage;
//! use torii_storage_sqlite::SqliteRepositoryProvider;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let users = SqliteRepositoryProvider::connect("sqlite://torii.db").await?;
//! users.migrate().await?;
//! let sessions = RedisSessionStorage::connect("redis://127.0.0.1:6379").await?.with_key_prefix("myapp:");
//!
//! let torii = Torii::with_storages(Arc::new(users), Arc::new(sessions));
//! torii.register_user_with_password("ada@example.com", "analytical engine 1843").await?;
//! let (_, session) = torii.login_user_with_password("ada@example.com", "analytical engine 1843", None, None).await?;
//! assert_eq!(torii.get_session(&session.token).await?.id, session.id);
//!
//! // Expired sessions and denylist entries are also dropped by Redis itself, but their index entries
//! // are not: run the cleanup periodically, as with any backend.
//! torii.cleanup_expired_sessions().await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Data layout
//! Every key starts with the prefix (default [`DEFAULT_KEY_PREFIX`], `torii:`; set another with
//! [`RedisSessionStorage::with_key_prefix`]). Timestamps are decimal integer microseconds since the
//! Unix epoch, so they round-trip to the microsecond like the SQL backends'.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{prefix}session:{token_hash}` | hash | the session: `id`, `user_id`, `user_agent`, `ip_address`, `created_at`, `updated_at`, `expires_at` (absent optional fields are absent, so `""` and "none" differ) |
//! | `{prefix}session_id:{id}` | string | the token hash of the session with this public id, for revoking a device by id |
//! | `{prefix}user:{user_id}:sessions` | sorted set | the user's token hashes scored by `created_at`: listing newest first, "log out everywhere", "log out other devices" |
//! | `{prefix}sessions:by_expiry` | sorted set | every session's token hash scored by `expires_at`: batched cleanup |
//! | `{prefix}revoked:{token_id}` | string | a denylisted JWT id, valued by its token's `expires_at` |
//! | `{prefix}revoked_tokens:by_expiry` | sorted set | denylisted JWT ids scored by `expires_at`: batched cleanup |
//! | `{prefix}not_before:{user_id}` | string | the user's "not before" time; only ever moves forward |
//! | `{prefix}data:{id}` | string | the application's key/value session data under `id` (JSON), expiring at the data's expiry |
//! | `{prefix}rate_limit:{key_hash}` | hash | a rate-limit key's current window: `start`, `resets_at` (µs) and `hits`; keyed by the SHA-256 of the key |
//! | `{prefix}rate_limits:by_expiry` | sorted set | rate-limit key hashes scored by the end of their window: batched cleanup |
//!
//! Sessions are keyed by the SHA-256 of their token ([`torii_core::TokenHash`]): the token itself never
//! reaches Redis. Token hashes are still lookup keys of live sessions, so this crate never logs them and
//! its errors never quote a key or a value.
//!
//! # Expiry: Torii's clock decides
//! Every read compares `expires_at` with the `now` Torii passes in, exactly like the SQL backends, so
//! the coordinator's injectable clock decides what has expired. Redis's own expiry is only a safety net
//! that frees memory:
//! - a session's keys expire its lifetime (`expires_at - created_at`) plus five minutes after they are
//!   written. The time-to-live is relative rather than `PEXPIREAT expires_at` so that a session created
//!   by a clock behind Redis's (a test clock, imported sessions) is never dropped while Torii still
//!   considers it live; for sessions created now the two are the same. A user's set lives as long as
//!   their longest-lived session.
//! - a denylist entry expires five minutes after its token does (by Redis's clock; the margin absorbs
//!   clock skew between the application servers and Redis). Torii passes the token's expiry plus the
//!   verification leeway, so a revoked token is never accepted again while it could still verify.
//! - "not before" times do not expire (one small key per user who logged out everywhere), like the SQL
//!   backends' rows.
//! - a rate-limit counter expires five minutes after the end of its window (counted from Torii's `now`,
//!   like sessions). A key keeps one counter, for its latest window: a hit whose `now` falls in an
//!   earlier window than the stored one (a clock behind another instance's) counts in the stored one.
//! - application session data ([`SessionStore`](torii_core::session_store::SessionStore), which reads
//!   the system clock rather than taking a `now`) expires in Redis at the data's own expiry
//!   (`PXAT`), and loads also compare that expiry with the current time. Redis removes expired data by
//!   itself, so its `cleanup_expired` is the trait's default, which removes nothing and returns 0.
//!
//! Index entries of sessions and denylist entries that Redis dropped are removed by
//! [`cleanup_expired_sessions`](torii_core::storage::SessionStorage::cleanup_expired_sessions) and
//! [`cleanup_revoked_tokens`](torii_core::storage::TokenRevocationStorage::cleanup_revoked_tokens),
//! which take at most one batch from the `by_expiry` sets per call and count the entries they removed.
//!
//! # Atomicity
//! Each write that touches several keys (creating or deleting sessions, revoking, cleanup, moving
//! "not before") is one small Lua script, which Redis runs without interleaving other commands: a
//! duplicate token hash or id is refused with [`StorageError::Conflict`](torii_core::StorageError)
//! without writing anything, and a session and its index entries appear and disappear together.
//! Validating a session is one `HMGET`, and the JWT revocation check is one pipelined round trip.
//!
//! The scripts derive the names of a session's index entries from the prefix and the session's fields,
//! as BullMQ's do, so they need every key in one place: a single Redis server or a replicated primary.
//! On Redis Cluster, use a prefix with a hash tag, such as `{torii}:`, so that every key lives in one
//! slot.
//!
//! # Failures
//! A connection refused, dropped or timed out is
//! [`StorageError::Unavailable`](torii_core::StorageError) (HTTP 503 through `torii-axum`); other Redis
//! errors are `StorageError::Database`, values that cannot be decoded `StorageError::Corrupt`. The
//! driver's error is kept as the source. [`RedisSessionStorage::connect`] sets a
//! [`CONNECTION_TIMEOUT`] and a [`RESPONSE_TIMEOUT`] so an outage is a quick, clear error rather than a
//! hung request; the connection reconnects by itself once Redis is back.
//!
//! `Torii::with_storages` checks that a user exists (in the user storage) before storing a session
//! here, and deleting a user deletes their sessions here first.

mod codec;
mod error;
mod keys;
mod rate_limit;
mod revocation;
mod scripts;
mod session;
mod session_data;
mod storage;

pub use storage::{CONNECTION_TIMEOUT, DEFAULT_KEY_PREFIX, RESPONSE_TIMEOUT, RedisSessionStorage};
