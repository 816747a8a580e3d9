//! Opening a connection pool with the settings Torii relies on.

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use torii_core::StorageError;

use crate::error::{ConnectError, map_connect};

/// How long a SQLite statement waits for another connection's write lock before giving up with
/// "database is locked" ([`StorageError::Unavailable`]).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a pool opened by [`crate::SeaORMStorage::connect`] for a SQLite database file. SQLite
/// allows one writer at a time, so more connections only help concurrent readers.
pub const SQLITE_MAX_FILE_CONNECTIONS: u32 = 8;

/// The databases a URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

/// Which database `url` names, checking that its feature is enabled. The scheme decides, compared
/// without regard to case, as the drivers do.
fn kind_of(url: &str) -> Result<Kind, ConnectError> {
    let (scheme, _) = url.split_once(':').ok_or(ConnectError::InvalidUrl)?;
    let (kind, enabled, feature) = match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => (Kind::Sqlite, cfg!(feature = "sqlite"), "sqlite"),
        "postgres" | "postgresql" => (Kind::Postgres, cfg!(feature = "postgres"), "postgres"),
        "mysql" => (Kind::MySql, cfg!(feature = "mysql"), "mysql"),
        _ => return Err(ConnectError::UnsupportedScheme),
    };
    if enabled { Ok(kind) } else { Err(ConnectError::FeatureDisabled { feature }) }
}

/// True when a SQLite URL names an in-memory database (`sqlite::memory:`, `sqlite://:memory:`,
/// `sqlite://name?mode=memory`).
fn is_in_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|pair| pair == "mode=memory")
}

/// True when a SQLite URL chooses its open mode itself (`?mode=ro`, `?mode=rwc`, ...).
fn has_mode(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, params)| params.split('&').any(|pair| pair.starts_with("mode=")))
}

/// SQLite settings: foreign keys enforced (so `ON DELETE CASCADE` works), a busy timeout, the file
/// created when the URL does not say otherwise (as `torii-storage-sqlite` does), and for files WAL
/// journaling with `synchronous = NORMAL` (durable across application crashes; the last transactions may
/// be lost on power failure, the usual trade-off for WAL).
///
/// An in-memory database lives only as long as a connection to it is open and is private to that
/// connection, so it gets exactly one connection that is never closed for idleness or age: every clone
/// of the provider then sees the same data for as long as the pool lives.
#[cfg(feature = "sqlite")]
fn configure_sqlite(options: &mut ConnectOptions, url: &str) {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

    let in_memory = is_in_memory(url);
    let create = !has_mode(url);
    options.map_sqlx_sqlite_opts(move |sqlite| {
        let sqlite = sqlite.foreign_keys(true).busy_timeout(SQLITE_BUSY_TIMEOUT);
        // Only when the URL has no `mode`: setting it either way would override that mode.
        let sqlite = if create { sqlite.create_if_missing(true) } else { sqlite };
        if in_memory {
            // WAL needs a file; an in-memory database always uses its own "memory" journal.
            sqlite
        } else {
            sqlite.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal)
        }
    });
    if in_memory {
        options.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
    } else {
        options.max_connections(SQLITE_MAX_FILE_CONNECTIONS);
    }
}

/// Opens a pool for `url`.
pub(crate) async fn open(url: &str) -> Result<DatabaseConnection, StorageError> {
    let kind = kind_of(url).map_err(|err| StorageError::Database(Box::new(err)))?;
    let mut options = ConnectOptions::new(url);
    // sqlx would log every statement at INFO. Statements carry no values, but the noise belongs to the
    // application's choice: it can build its own connection and use `from_connection`.
    options.sqlx_logging(false);
    #[cfg(feature = "sqlite")]
    if kind == Kind::Sqlite {
        configure_sqlite(&mut options, url);
    }
    let db = Database::connect(options).await.map_err(map_connect)?;
    tracing::debug!(database = ?kind, "opened database pool");
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_schemes_without_repeating_them() {
        assert_eq!(kind_of("sqlite::memory:").ok(), Some(Kind::Sqlite));
        assert_eq!(kind_of("SQLite://x.db").ok(), Some(Kind::Sqlite));
        assert!(matches!(kind_of("redis://secret@h"), Err(ConnectError::UnsupportedScheme)));
        assert!(matches!(kind_of("no scheme"), Err(ConnectError::InvalidUrl)));
        #[cfg(feature = "postgres")]
        assert_eq!(kind_of("postgresql://u:p@h/db").ok(), Some(Kind::Postgres));
        #[cfg(feature = "mysql")]
        assert_eq!(kind_of("mysql://root@127.0.0.1").ok(), Some(Kind::MySql));
    }

    #[test]
    fn recognises_in_memory_urls_and_modes() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://shared?mode=memory&cache=shared"));
        assert!(!is_in_memory("sqlite://auth.db?mode=rwc"));
        assert!(has_mode("sqlite://auth.db?mode=rwc"));
        assert!(has_mode("sqlite://auth.db?cache=private&mode=ro"));
        assert!(!has_mode("sqlite://auth.db"));
    }
}
