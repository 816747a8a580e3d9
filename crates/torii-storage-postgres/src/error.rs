//! The one place where sqlx errors become [`StorageError`]s.
//!
//! Messages name the kind of row involved ("user", "session"), never SQL text or bound values: those may
//! contain emails, hashes or tokens, and errors end up in logs. Database errors are told apart by their
//! SQLSTATE code (<https://www.postgresql.org/docs/current/errcodes-appendix.html>), which is stable
//! across PostgreSQL versions and locales, unlike the message.

use torii_core::StorageError;

/// What a SQLSTATE code means for a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// A uniqueness constraint refused the write.
    Conflict,
    /// A foreign key points at a row that does not exist.
    MissingReference,
    /// The value cannot be stored; the message says why.
    Unstorable(&'static str),
    /// The server is unreachable, shutting down, starting up or out of connections: retrying later may
    /// well succeed.
    Transient,
    /// Anything else.
    Other,
}

/// Classifies a SQLSTATE code.
fn meaning(code: &str) -> Meaning {
    match code {
        // unique_violation
        "23505" => Meaning::Conflict,
        // foreign_key_violation
        "23503" => Meaning::MissingReference,
        // character_not_in_repertoire: for text sent by Rust (always valid UTF-8) this is the NUL
        // character, which PostgreSQL's text type cannot hold.
        "22021" => Meaning::Unstorable("contains a NUL character, which PostgreSQL text cannot hold"),
        // untranslatable_character: only on a database whose encoding is not UTF-8.
        "22P05" => Meaning::Unstorable("contains a character the database's encoding cannot represent"),
        // datetime_field_overflow: a time outside PostgreSQL's range (4713 BC to 294276 AD).
        "22008" => Meaning::Unstorable("has a time outside PostgreSQL's range"),
        // program_limit_exceeded: for Torii's tables, a value in an indexed column (an email, an OAuth
        // subject) longer than a B-tree index entry can be (about 2.7 KB after compression).
        "54000" => Meaning::Unstorable("is too long for an indexed column"),
        // admin_shutdown (a server shutdown or pg_terminate_backend), crash_shutdown, cannot_connect_now
        // (starting up or in recovery), too_many_connections.
        "57P01" | "57P02" | "57P03" | "53300" => Meaning::Transient,
        // Class 08: connection exceptions.
        _ if code.starts_with("08") => Meaning::Transient,
        _ => Meaning::Other,
    }
}

/// Maps a sqlx error from a statement on `entity` rows (for example `"user"`).
///
/// - unique violation (`23505`): [`StorageError::Conflict`]`(entity)`;
/// - foreign-key violation (`23503`): [`StorageError::NotFound`]`("user")` (every foreign key in the
///   schema points at `users`);
/// - a value PostgreSQL cannot store (a NUL character, `22021`; a time out of range, `22008`; a key too
///   long to index, `54000`; a value sqlx cannot encode): [`StorageError::InvalidData`], naming the kind
///   of row but never the value;
/// - the pool timed out or is closed, I/O failed, the connection was terminated (`57P01`), the server is
///   starting or shutting down (`57P02`, `57P03`), has no connection slots left (`53300`), or another
///   connection exception (class `08`): [`StorageError::Unavailable`], because retrying later may well
///   succeed;
/// - a column that cannot be decoded: [`StorageError::Corrupt`];
/// - anything else: [`StorageError::Database`].
///
/// Every variant that can keep the driver's error keeps it as its source.
pub(crate) fn map_sqlx(err: sqlx::Error, entity: &'static str) -> StorageError {
    match &err {
        sqlx::Error::Database(db) => match db.code().as_deref().map_or(Meaning::Other, meaning) {
            Meaning::Conflict => StorageError::Conflict(entity),
            Meaning::MissingReference => StorageError::NotFound("user"),
            Meaning::Unstorable(why) => StorageError::InvalidData(format!("a {entity} value {why}")),
            Meaning::Transient => StorageError::Unavailable(Box::new(err)),
            Meaning::Other => StorageError::Database(Box::new(err)),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            StorageError::Unavailable(Box::new(err))
        }
        // sqlx's own message may quote the value (a timestamp, for instance): keep it out.
        sqlx::Error::Encode(_) => {
            StorageError::InvalidData(format!("a {entity} value cannot be encoded for PostgreSQL"))
        }
        // `index` is the column name: safe to show, unlike the value.
        sqlx::Error::ColumnDecode { index, .. } => {
            StorageError::Corrupt(format!("{entity} column {index} cannot be decoded"))
        }
        sqlx::Error::Decode(_) => StorageError::Corrupt(format!("a {entity} value cannot be decoded")),
        _ => StorageError::Database(Box::new(err)),
    }
}

/// A closure for `map_err` that maps with [`map_sqlx`] for `entity` rows.
pub(crate) fn on(entity: &'static str) -> impl Fn(sqlx::Error) -> StorageError {
    move |err| map_sqlx(err, entity)
}

/// Maps a migration failure: always [`StorageError::Migration`], keeping the source.
pub(crate) fn map_migrate(err: sqlx::migrate::MigrateError) -> StorageError {
    StorageError::Migration(Box::new(err))
}

/// True when every key can exist in the database. PostgreSQL text cannot hold a NUL character, so no
/// stored key contains one: a lookup by such a key has nothing to find, and answering "absent" without
/// asking the server keeps a malformed id from a request from turning into an error.
pub(crate) fn storable(keys: &[&str]) -> bool {
    keys.iter().all(|key| !key.contains('\0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert_eq!(meaning("23505"), Meaning::Conflict);
        assert_eq!(meaning("23503"), Meaning::MissingReference);
        assert!(matches!(meaning("22021"), Meaning::Unstorable(why) if why.contains("NUL")));
        assert!(matches!(meaning("22008"), Meaning::Unstorable(_)));
        assert!(matches!(meaning("54000"), Meaning::Unstorable(_)));
        for transient in ["57P01", "57P02", "57P03", "53300", "08006", "08001", "08000"] {
            assert_eq!(meaning(transient), Meaning::Transient, "{transient}");
        }
        for other in ["42P01", "40001", "40P01", "23514", "3D000", "28P01", "XX000"] {
            assert_eq!(meaning(other), Meaning::Other, "{other}");
        }
    }

    #[test]
    fn transient_errors_are_unavailable() {
        assert!(map_sqlx(sqlx::Error::PoolTimedOut, "user").is_unavailable());
        assert!(map_sqlx(sqlx::Error::PoolClosed, "user").is_unavailable());
        assert!(map_sqlx(sqlx::Error::Io(std::io::Error::other("down")), "user").is_unavailable());
    }

    #[test]
    fn encode_errors_are_invalid_data_without_the_value() {
        let err = map_sqlx(sqlx::Error::Encode("secret value 1234".into()), "session");
        assert!(matches!(err, StorageError::InvalidData(ref m) if m.contains("session") && !m.contains("1234")));
    }

    #[test]
    fn other_errors_keep_their_source() {
        let err = map_sqlx(sqlx::Error::Protocol("odd".into()), "user");
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
        assert_eq!(err.to_string(), "database error");
    }

    #[test]
    fn keys_with_nul_are_not_storable() {
        assert!(storable(&["a", "", "é🦀"]));
        assert!(!storable(&["a", "b\0c"]));
    }
}
