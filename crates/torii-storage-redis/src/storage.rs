//! [`RedisSessionStorage`]: connecting, the key prefix, and a health check.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use torii_core::StorageResult;

use crate::error::map_redis;
use crate::keys::Keys;

/// The prefix of every key unless [`RedisSessionStorage::with_key_prefix`] sets another.
pub const DEFAULT_KEY_PREFIX: &str = "torii:";

/// How long [`RedisSessionStorage::connect`] waits for one connection attempt.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a command sent by a storage from [`RedisSessionStorage::connect`] waits for its reply.
/// Every command is a single key lookup or a short script, so a reply that takes longer means Redis is
/// unreachable or stalled, and the request should fail fast with [`torii_core::StorageError::Unavailable`]
/// rather than hang.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a lost connection is retried (with a short exponential back-off) before the commands
/// waiting for it fail. Each later command starts a new attempt, so an outage costs each request at
/// most a few seconds, never an unbounded wait.
const RECONNECT_RETRIES: usize = 2;

/// Torii sessions and JWT revocation data in Redis.
///
/// Implements [`SessionStorage`](torii_core::storage::SessionStorage),
/// [`TokenRevocationStorage`](torii_core::storage::TokenRevocationStorage) and
/// [`RateLimitStorage`](torii_core::storage::RateLimitStorage), and
/// [`SessionStore`](torii_core::session_store::SessionStore) for the application's key/value session
/// data; users stay in a SQL storage, combined with this one by `Torii::with_storages` (see the
/// [crate docs](crate) for the data layout). Cloning is cheap: clones share one multiplexed
/// connection, which reconnects by itself after a failure.
#[derive(Clone)]
pub struct RedisSessionStorage {
    pub(crate) connection: ConnectionManager,
    pub(crate) keys: Keys,
}

impl fmt::Debug for RedisSessionStorage {
    // The connection manager prints the client's connection info; leave it (and any password in it) out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStorage").field("key_prefix", &self.keys.prefix()).finish_non_exhaustive()
    }
}

impl RedisSessionStorage {
    /// Connects to the Redis server at `url` (`redis://[:password@]host[:port][/db]`, or
    /// `redis+unix:///path`), with [`CONNECTION_TIMEOUT`] and [`RESPONSE_TIMEOUT`], and keys under
    /// [`DEFAULT_KEY_PREFIX`].
    ///
    /// # Errors
    /// [`torii_core::StorageError::Unavailable`] when the server cannot be reached;
    /// [`torii_core::StorageError::Database`] when the URL is invalid or the server refuses the
    /// connection (a wrong password, say).
    pub async fn connect(url: &str) -> StorageResult<Self> {
        let client = redis::Client::open(url).map_err(map_redis)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config).await.map_err(map_redis)?;
        Ok(Self::from_connection_manager(connection))
    }

    /// Uses a connection manager you configured yourself (other timeouts, retries, credentials).
    /// Set a response timeout on it: without one, a stalled server makes requests hang.
    pub fn from_connection_manager(connection: ConnectionManager) -> Self {
        Self { connection, keys: Keys::new(DEFAULT_KEY_PREFIX) }
    }

    /// Puts every key under `prefix` instead of [`DEFAULT_KEY_PREFIX`]: for several applications (or
    /// test runs) sharing one Redis database. Instances that must see each other's sessions need the
    /// same prefix. End it with a separator such as `:` to keep key names readable.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.keys = Keys::new(&prefix.into());
        self
    }

    /// The prefix of every key this storage writes.
    pub fn key_prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The connection, for your own commands against the same server.
    pub fn connection(&self) -> &ConnectionManager {
        &self.connection
    }

    /// Checks that Redis answers (`PING`), for health endpoints.
    ///
    /// # Errors
    /// [`torii_core::StorageError::Unavailable`] when it does not answer in time.
    pub async fn health_check(&self) -> StorageResult<()> {
        let mut connection = self.connection.clone();
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(map_redis)
    }
}
