//! Opening a pool with the settings Torii relies on.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use torii_core::StorageError;

use crate::SqliteRepositoryProvider;
use crate::error::map_sqlx;

/// How long a statement waits for another connection's write lock before giving up with "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a pool opened by [`SqliteRepositoryProvider::connect`] for a database file. SQLite
/// allows one writer at a time, so more connections only help concurrent readers; eight is plenty for
/// a 2–8 core server and keeps file handles modest.
pub const MAX_FILE_CONNECTIONS: u32 = 8;

/// True when the URL names an in-memory database (`sqlite::memory:`, `sqlite://:memory:`,
/// `sqlite://name?mode=memory`).
fn is_in_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|pair| pair == "mode=memory")
}

impl SqliteRepositoryProvider {
    /// The connection options [`SqliteRepositoryProvider::connect`] uses for `url`: the file is created if
    /// missing, foreign keys are enforced, a 5 s busy timeout, and for files WAL journaling with
    /// `synchronous = NORMAL` (durable across application crashes; the last transactions may be lost on
    /// power failure, which is the usual trade-off for WAL).
    ///
    /// Use this to build your own pool with different pool settings and pass it to
    /// [`SqliteRepositoryProvider::new`].
    ///
    /// # Errors
    /// [`StorageError::Database`] when the URL cannot be parsed.
    pub fn connect_options(url: &str) -> Result<SqliteConnectOptions, StorageError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| map_sqlx(err, "database"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        if is_in_memory(url) {
            // WAL needs a file; an in-memory database always uses its own "memory" journal.
            Ok(options)
        } else {
            Ok(options.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal))
        }
    }

    /// Opens a pool for `url` (for example `sqlite://torii.db` or `sqlite::memory:`) with the settings
    /// of [`SqliteRepositoryProvider::connect_options`]. It does not create the schema: call
    /// [`torii_core::RepositoryProvider::migrate`] once at startup.
    ///
    /// A database file gets a pool of up to [`MAX_FILE_CONNECTIONS`]. An in-memory database lives only as
    /// long as a connection to it is open and is private to the connections that share its name, so
    /// it gets exactly one connection that is never closed for idleness or age: every clone of the
    /// provider then sees the same data for as long as the pool lives.
    ///
    /// # Errors
    /// [`StorageError::Database`] when the URL is malformed or the file cannot be opened or created (for
    /// example because its directory does not exist).
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = Self::connect_options(url)?;
        let pool_options = if is_in_memory(url) {
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(MAX_FILE_CONNECTIONS)
        };
        let pool = pool_options.connect_with(options).await.map_err(|err| map_sqlx(err, "database"))?;
        tracing::debug!(in_memory = is_in_memory(url), "opened SQLite pool");
        Ok(Self::new(pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_in_memory_urls() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://shared?mode=memory&cache=shared"));
        assert!(!is_in_memory("sqlite://torii.db"));
        assert!(!is_in_memory("sqlite:///var/lib/memory.db?mode=rwc"));
    }

    #[test]
    fn bad_urls_are_errors_not_panics() {
        assert!(SqliteRepositoryProvider::connect_options("sqlite://x.db?mode=bogus").is_err());
    }
}
