//! Opening a pool with the settings Torii relies on.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use torii_core::StorageError;

use crate::PostgresRepositoryProvider;
use crate::error::map_sqlx;

/// Most connections a pool opened by [`PostgresRepositoryProvider::connect`] keeps open. Torii's
/// queries are short single statements, so ten connections serve many concurrent requests, and
/// several application instances still fit in PostgreSQL's default limit of 100 connections.
pub const MAX_CONNECTIONS: u32 = 10;

/// How long a call waits for a connection (a free one from the pool, or a new one from the server)
/// before failing with [`StorageError::Unavailable`]. Short, so that when the database is down a
/// request fails quickly with a clear error instead of hanging until the client gives up.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection may sit unused before the pool closes it, so a quiet application does not
/// hold server connections (each one a PostgreSQL process) it does not need.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long a connection lives at most before the pool replaces it, which spreads connections over
/// servers again after a failover and bounds per-connection memory growth on the server.
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

impl PostgresRepositoryProvider {
    /// The pool settings [`PostgresRepositoryProvider::connect`] uses: at most [`MAX_CONNECTIONS`]
    /// connections, [`ACQUIRE_TIMEOUT`], [`IDLE_TIMEOUT`] and [`MAX_LIFETIME`], and every idle
    /// connection checked before it is handed out, so connections the server has closed (a restart, an
    /// administrator terminating them) are replaced instead of failing a request.
    ///
    /// Use this to build a pool with different settings and pass it to
    /// [`PostgresRepositoryProvider::new`].
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .test_before_acquire(true)
    }

    /// Opens a pool for `url` (for example `postgres://torii:secret@localhost:5432/torii`; see sqlx's
    /// [`PgConnectOptions`](sqlx::postgres::PgConnectOptions) for every parameter, including TLS) with
    /// the settings of [`PostgresRepositoryProvider::pool_options`], and checks that one connection can
    /// be made. It does not create the schema: call [`PostgresRepositoryProvider::migrate`] once at
    /// startup.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the server cannot be reached within [`ACQUIRE_TIMEOUT`];
    /// [`StorageError::Database`] when the URL is malformed or the server refuses the connection (wrong
    /// password, unknown database).
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let pool = Self::pool_options().connect(url).await.map_err(|err| map_sqlx(err, "database"))?;
        tracing::debug!("opened PostgreSQL pool");
        Ok(Self::new(pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_options_carry_the_documented_settings() {
        let options = PostgresRepositoryProvider::pool_options();
        assert_eq!(options.get_max_connections(), MAX_CONNECTIONS);
        assert_eq!(options.get_min_connections(), 0);
        assert_eq!(options.get_acquire_timeout(), ACQUIRE_TIMEOUT);
        assert_eq!(options.get_idle_timeout(), Some(IDLE_TIMEOUT));
        assert_eq!(options.get_max_lifetime(), Some(MAX_LIFETIME));
        assert!(options.get_test_before_acquire());
    }

    #[tokio::test]
    async fn bad_urls_are_errors_not_panics() {
        for url in ["postgres://user@host:notaport/db", "postgres://[::1/db", "not a url"] {
            let err = PostgresRepositoryProvider::connect(url).await.err();
            assert!(matches!(err, Some(StorageError::Database(_))), "{url}: {err:?}");
        }
    }
}
