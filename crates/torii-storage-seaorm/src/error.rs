//! The one place where SeaORM (and, beneath it, sqlx) errors become [`StorageError`]s, the same way the
//! SQLite backend maps them.
//!
//! Messages name the kind of row involved ("user", "session"), never SQL text or bound values: those may
//! contain emails, hashes or tokens, and errors end up in logs. The driver error is kept as the source
//! wherever the variant has one.

use sea_orm::sqlx::error::DatabaseError;
use sea_orm::{DbErr, RuntimeErr, SqlErr, sqlx};
use torii_core::StorageError;

/// Why [`crate::SeaORMStorage::connect`] refused a database URL. The URL itself is never repeated: it may
/// carry a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not of the form `scheme:rest`, or the driver could not parse it.
    #[error("the database URL cannot be parsed")]
    InvalidUrl,
    /// The scheme is none of `sqlite:`, `postgres:`, `postgresql:` and `mysql:`.
    #[error("unsupported database URL scheme (expected sqlite:, postgres:, postgresql: or mysql:)")]
    UnsupportedScheme,
    /// The URL names a database whose Cargo feature of `torii-storage-seaorm` is not enabled.
    #[error("the `{feature}` feature of torii-storage-seaorm is not enabled")]
    FeatureDisabled {
        /// The feature to enable: `sqlite`, `postgres` or `mysql`.
        feature: &'static str,
    },
}

/// How an error should be reported, before it is wrapped.
enum Class {
    /// The database is down, overloaded, or a transaction lost a lock race: retrying may succeed.
    Unavailable,
    /// The database refused a value (too long, out of range, a NUL byte PostgreSQL cannot store).
    InvalidData(&'static str),
    /// A stored value could not be decoded.
    Corrupt,
    /// Anything else.
    Other,
}

/// Classifies an error reported by the database server by its SQLSTATE (PostgreSQL, MySQL) or, for
/// SQLite and a few MySQL errors without a specific SQLSTATE, by the driver's own code.
fn classify_database(err: &dyn DatabaseError) -> Class {
    #[cfg(feature = "sqlite")]
    if err.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // Primary result codes (extended codes share the low byte): SQLITE_BUSY (another connection
        // holds the lock past the busy timeout) and SQLITE_LOCKED are transient; SQLITE_TOOBIG is a value.
        let code = err.code().and_then(|code| code.parse::<i64>().ok()).unwrap_or_default() & 0xff;
        return match code {
            5 | 6 => Class::Unavailable,
            18 => Class::InvalidData("a value is too large for the database"),
            _ => Class::Other,
        };
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = err.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        match mysql.number() {
            // Lock wait timeout, too many connections, server shutting down.
            1205 | 1040 | 1053 => return Class::Unavailable,
            // Incorrect string value (a character the column's character set cannot hold).
            1366 => return Class::InvalidData("text contains a character the database cannot store"),
            _ => {}
        }
    }
    let code = err.code();
    let code = code.as_deref().unwrap_or_default();
    match code {
        // Serialization failure (and MySQL's deadlock, 1213), deadlock detected: the transaction was
        // rolled back and may simply be retried.
        "40001" | "40P01" => Class::Unavailable,
        "22001" => Class::InvalidData("a value is too long for its column"),
        "22003" | "22007" | "22008" => Class::InvalidData("a value is out of range for its column"),
        // PostgreSQL refuses NUL bytes in text ("invalid byte sequence for encoding UTF8: 0x00").
        "22021" | "22P05" => Class::InvalidData("text contains a NUL byte or a character the database cannot store"),
        // Connection exceptions, insufficient resources, operator intervention (shutdown, restart).
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") => Class::Unavailable,
        _ => Class::Other,
    }
}

/// Classifies a sqlx error.
fn classify_sqlx(err: &sqlx::Error) -> Class {
    match err {
        sqlx::Error::Database(db) => classify_database(db.as_ref()),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Class::Unavailable,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => Class::Corrupt,
        _ => Class::Other,
    }
}

/// Classifies a SeaORM error.
fn classify(err: &DbErr) -> Class {
    match err {
        DbErr::ConnectionAcquire(_) => Class::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(sqlx)) | DbErr::Exec(RuntimeErr::SqlxError(sqlx)) => classify_sqlx(sqlx),
        DbErr::Query(RuntimeErr::SqlxError(sqlx)) => classify_sqlx(sqlx),
        // SeaORM's own connection errors ("Disconnected", a closed pool).
        DbErr::Conn(_) => Class::Unavailable,
        DbErr::Type(_) | DbErr::TryIntoErr { .. } => Class::Corrupt,
        _ => Class::Other,
    }
}

/// Maps an error from a statement on `entity` rows (for example `"user"`):
///
/// - unique or primary-key violation: [`StorageError::Conflict`]`(entity)`;
/// - foreign-key violation: [`StorageError::NotFound`]`("user")` (every foreign key in the schema points
///   at `users`);
/// - no connection, pool timeout or closed pool, I/O failure, lock timeout, deadlock or serialization
///   failure, SQLite busy: [`StorageError::Unavailable`], because retrying later may well succeed;
/// - a value the database refuses (too long, out of range, a NUL byte on PostgreSQL):
///   [`StorageError::InvalidData`];
/// - a stored value that cannot be decoded: [`StorageError::Corrupt`];
/// - anything else: [`StorageError::Database`].
pub(crate) fn map_db(err: DbErr, entity: &'static str) -> StorageError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => return StorageError::Conflict(entity),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => return StorageError::NotFound("user"),
        _ => {}
    }
    match classify(&err) {
        Class::Unavailable => StorageError::Unavailable(Box::new(err)),
        Class::InvalidData(reason) => StorageError::InvalidData(reason.to_owned()),
        Class::Corrupt => StorageError::Corrupt(format!("a {entity} row cannot be decoded")),
        Class::Other => StorageError::Database(Box::new(err)),
    }
}

/// A closure for `map_err` that maps with [`map_db`] for `entity` rows.
pub(crate) fn on(entity: &'static str) -> impl Fn(DbErr) -> StorageError {
    move |err| map_db(err, entity)
}

/// Maps a migration failure: always [`StorageError::Migration`], keeping the source.
pub(crate) fn map_migration(err: DbErr) -> StorageError {
    StorageError::Migration(Box::new(err))
}

/// Maps a failure to open a connection pool.
///
/// SeaORM reports URLs it cannot parse with the URL in the message, and a URL may carry a password, so
/// those become [`ConnectError::InvalidUrl`] without that source. Driver errors keep their source: a
/// server that cannot be reached is [`StorageError::Unavailable`]; a refused login, a missing database or
/// a file that cannot be opened is [`StorageError::Database`].
pub(crate) fn map_connect(err: DbErr) -> StorageError {
    match &err {
        DbErr::Conn(RuntimeErr::Internal(_)) => StorageError::Database(Box::new(ConnectError::InvalidUrl)),
        _ => match classify(&err) {
            Class::Unavailable => StorageError::Unavailable(Box::new(err)),
            _ => StorageError::Database(Box::new(err)),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sqlx_err(err: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn transient_errors_are_unavailable() {
        assert!(map_db(sqlx_err(sqlx::Error::PoolTimedOut), "user").is_unavailable());
        assert!(map_db(sqlx_err(sqlx::Error::Io(std::io::Error::other("down"))), "user").is_unavailable());
        assert!(map_db(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout), "user").is_unavailable());
    }

    #[test]
    fn other_errors_keep_their_source_and_hide_details() {
        let err = map_db(sqlx_err(sqlx::Error::Protocol("odd 'secret@example.com'".into())), "user");
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.to_string(), "database error");
    }

    #[test]
    fn decode_errors_are_corrupt_without_values() {
        let err = map_db(DbErr::Type("value 'secret' is not a bool".into()), "passkey");
        assert!(matches!(err, StorageError::Corrupt(ref m) if !m.contains("secret")), "{err:?}");
    }

    #[test]
    fn unparsable_urls_do_not_leak_into_errors() {
        let err = map_connect(DbErr::Conn(RuntimeErr::Internal(
            "The connection string 'postgres://u:hunter2@h' cannot be parsed.".into(),
        )));
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
    }
}
