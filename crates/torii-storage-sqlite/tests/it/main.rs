//! The storage conformance suite (`torii-test-suite`) against SQLite, twice: on a database file with
//! the pool `connect` builds for files (several connections, WAL, busy timeout), which is what servers
//! run and what really exercises concurrent writers; and on an in-memory database (one connection).
//!
//! Every test gets its own fresh, migrated database. `migrations` checks that an application's own sqlx
//! migrations can share the database; `email_rate_limit` that two instances on one database share the
//! email flows' mail limit. Run with `cargo test -p torii-storage-sqlite`.

// Test code: a database that cannot be opened should fail the test loudly, which is what `expect` does.
#![allow(clippy::expect_used)]

mod email_rate_limit;
mod migrations;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use torii_storage_sqlite::SqliteRepositoryProvider;

/// Where the database files go: Cargo's scratch directory for integration tests (under `target/`, so
/// `cargo clean` removes it).
fn database_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite-conformance")
}

/// Removes databases left by earlier runs. A test's directory must outlive the test (the provider has
/// no hook to delete it when dropped), so directories are kept and swept here instead; anything older
/// than an hour belongs to a finished run, even when several runs share the target directory.
fn sweep_old_databases(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    let cutoff = SystemTime::now() - Duration::from_secs(3600);
    for entry in entries.flatten() {
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|modified| modified < cutoff);
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh, migrated database file in its own directory.
async fn file_backend() -> Option<SqliteRepositoryProvider> {
    static SWEPT: OnceLock<()> = OnceLock::new();
    let root = database_root();
    SWEPT.get_or_init(|| sweep_old_databases(&root));
    std::fs::create_dir_all(&root).expect("create the test database directory");
    let dir = tempfile::Builder::new().prefix("db-").tempdir_in(&root).expect("create a temporary directory").keep();
    let url = format!("sqlite://{}", dir.join("torii.db").display());
    let provider = SqliteRepositoryProvider::connect(&url).await.expect("open the SQLite database file");
    provider.migrate().await.expect("migrate the SQLite database");
    Some(provider)
}

/// A fresh, migrated in-memory database.
async fn memory_backend() -> Option<SqliteRepositoryProvider> {
    let provider = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("open an in-memory database");
    provider.migrate().await.expect("migrate the in-memory database");
    Some(provider)
}

/// The suite on database files: tests are named `file::conformance::<group>::<check>`.
mod file {
    use super::file_backend;

    torii_test_suite::all_storage_tests!(file_backend);
    torii_test_suite::revocation_storage_tests!(file_backend);
    torii_test_suite::refresh_token_storage_tests!(file_backend);
    torii_test_suite::session_data_store_tests!(file_backend);
}

/// The suite on in-memory databases: tests are named `memory::conformance::<group>::<check>`.
mod memory {
    use super::memory_backend;

    torii_test_suite::all_storage_tests!(memory_backend);
    torii_test_suite::revocation_storage_tests!(memory_backend);
    torii_test_suite::refresh_token_storage_tests!(memory_backend);
    torii_test_suite::session_data_store_tests!(memory_backend);
}
