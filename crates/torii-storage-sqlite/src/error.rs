//! The one place where sqlx errors become [`StorageError`]s.
//!
//! Messages name the kind of row involved ("user", "session"), never SQL text or bound values: those may
//! contain emails, hashes or tokens, and errors end up in logs.

use sqlx::error::ErrorKind;
use torii_core::StorageError;

/// SQLite's primary result code for "another connection holds the lock" (`SQLITE_BUSY`). Extended codes
/// (`SQLITE_BUSY_SNAPSHOT`, ...) share its low byte.
const SQLITE_BUSY: i64 = 5;

/// Maps a sqlx error from a statement on `entity` rows (for example `"user"`).
///
/// - unique or primary-key violation: [`StorageError::Conflict`]`(entity)`;
/// - foreign-key violation: [`StorageError::NotFound`]`("user")` (every foreign key in the schema points
///   at `users`);
/// - the pool timed out or is closed, I/O failed, the worker thread died, or the database stayed locked
///   past the busy timeout: [`StorageError::Unavailable`], because retrying later may well succeed;
/// - a column that cannot be decoded: [`StorageError::Corrupt`];
/// - anything else: [`StorageError::Database`].
pub(crate) fn map_sqlx(err: sqlx::Error, entity: &'static str) -> StorageError {
    match &err {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => return StorageError::Conflict(entity),
            ErrorKind::ForeignKeyViolation => return StorageError::NotFound("user"),
            _ => {
                let busy =
                    db.code().and_then(|code| code.parse::<i64>().ok()).is_some_and(|code| code & 0xff == SQLITE_BUSY);
                if busy {
                    return StorageError::Unavailable(Box::new(err));
                }
            }
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            return StorageError::Unavailable(Box::new(err));
        }
        // `index` is the column name: safe to show, unlike the value.
        sqlx::Error::ColumnDecode { index, .. } => {
            return StorageError::Corrupt(format!("{entity} column {index} cannot be decoded"));
        }
        sqlx::Error::Decode(_) => return StorageError::Corrupt(format!("a {entity} value cannot be decoded")),
        _ => {}
    }
    StorageError::Database(Box::new(err))
}

/// A closure for `map_err` that maps with [`map_sqlx`] for `entity` rows.
pub(crate) fn on(entity: &'static str) -> impl Fn(sqlx::Error) -> StorageError {
    move |err| map_sqlx(err, entity)
}

/// Maps a migration failure: always [`StorageError::Migration`], keeping the source.
pub(crate) fn map_migrate(err: sqlx::migrate::MigrateError) -> StorageError {
    StorageError::Migration(Box::new(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_unavailable() {
        assert!(map_sqlx(sqlx::Error::PoolTimedOut, "user").is_unavailable());
        assert!(map_sqlx(sqlx::Error::PoolClosed, "user").is_unavailable());
        assert!(map_sqlx(sqlx::Error::Io(std::io::Error::other("down")), "user").is_unavailable());
    }

    #[test]
    fn other_errors_keep_their_source() {
        let err = map_sqlx(sqlx::Error::Protocol("odd".into()), "user");
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.to_string(), "database error");
    }
}
