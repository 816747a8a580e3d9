//! The one place where Redis errors become [`StorageError`]s.
//!
//! Messages never contain keys or values: keys carry token hashes and user ids, values carry session
//! data, and errors end up in logs. The driver's error is kept as the source; Redis's own error
//! replies name commands and scripts, not the keys they touched.

use redis::{ErrorKind, RedisError, ServerErrorKind};
use torii_core::StorageError;

/// Maps a Redis error:
///
/// - the connection failed, was refused or dropped, or a command timed out; or the server is loading
///   its data, read-only (a replica after failover) or a cluster is down: [`StorageError::Unavailable`],
///   because retrying later may well succeed;
/// - a reply of an unexpected shape: [`StorageError::Corrupt`] (the driver's description of such a
///   reply can quote the value, so it is not kept);
/// - anything else: [`StorageError::Database`].
pub(crate) fn map_redis(err: RedisError) -> StorageError {
    if is_transient(&err) {
        return StorageError::Unavailable(Box::new(err));
    }
    match err.kind() {
        ErrorKind::UnexpectedReturnType | ErrorKind::Parse => {
            StorageError::Corrupt("Redis returned a reply of an unexpected type".to_owned())
        }
        _ => StorageError::Database(Box::new(err)),
    }
}

fn is_transient(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_timeout()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_cluster_error()
        || matches!(
            err.kind(),
            ErrorKind::Server(ServerErrorKind::BusyLoading | ServerErrorKind::MasterDown | ServerErrorKind::ReadOnly)
        )
}

/// A stored value that cannot be decoded. `what` names the field ("session created_at"), never the
/// value or the key.
pub(crate) fn corrupt(what: &str) -> StorageError {
    StorageError::Corrupt(format!("{what} in Redis cannot be decoded"))
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn io_failures_are_unavailable_and_keep_their_source() {
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let err = map_redis(refused);
        assert!(err.is_unavailable(), "{err:?}");
        assert!(err.source().is_some());
        let timed_out = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(map_redis(timed_out).is_unavailable());
    }

    #[test]
    fn type_errors_are_corrupt_and_other_errors_database() {
        let wrong_type = RedisError::from((ErrorKind::UnexpectedReturnType, "wrong type"));
        assert!(matches!(map_redis(wrong_type), StorageError::Corrupt(_)));
        let other = RedisError::from((ErrorKind::Client, "refused by the client"));
        let err = map_redis(other);
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(err.source().is_some());
    }
}
