//! SQLite: the conformance suite and this crate's checks on a database file per test, with the pool
//! `connect` builds for files (several connections, WAL, busy timeout), which really exercises
//! concurrent writers. Plus the connection settings and URL handling.

use torii_core::StorageError;
use torii_core::storage::UserStorage as _;
use torii_storage_seaorm::SeaORMStorage;
use torii_storage_seaorm::sea_orm::{ConnectionTrait as _, Statement};

use crate::checks::{Refuses, backend_checks};
use crate::test_db::{Cleanup, TestDb};

/// `sqlite://<dir>/<file>` for a file in `dir`.
fn file_url(dir: &tempfile::TempDir, file: &str) -> String {
    format!("sqlite://{}", dir.path().join(file).display())
}

/// A fresh, migrated database file in its own temporary directory.
async fn backend() -> Option<TestDb> {
    let dir = tempfile::Builder::new().prefix("torii-seaorm-").tempdir().expect("create a temporary directory");
    let storage = SeaORMStorage::connect(&file_url(&dir, "torii.db")).await.expect("open the SQLite database file");
    storage.migrate().await.expect("migrate the SQLite database");
    Some(TestDb::new(storage.into_repository_provider(), Cleanup::Directory(dir)))
}

torii_test_suite::all_storage_tests!(backend);
torii_test_suite::revocation_storage_tests!(backend);
torii_test_suite::refresh_token_storage_tests!(backend);
torii_test_suite::session_data_store_tests!(backend);
backend_checks!(backend, Refuses::Nothing);

/// The value of a pragma on one of the pool's connections.
async fn pragma(storage: &SeaORMStorage, name: &str) -> String {
    let db = storage.connection();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0).or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string())).unwrap()
}

#[tokio::test]
async fn seed_snippet_runs() {
    let dir = tempfile::tempdir().unwrap();
    crate::checks::seed_snippet(&format!("{}?mode=rwc", file_url(&dir, "auth.db"))).await.unwrap();
    crate::checks::seed_snippet("sqlite::memory:").await.unwrap();
}

#[tokio::test]
async fn files_get_wal_foreign_keys_and_a_busy_timeout_and_are_created() {
    let dir = tempfile::tempdir().unwrap();
    // No `mode` in the URL: the file is created, as torii-storage-sqlite does.
    let storage = SeaORMStorage::connect(&file_url(&dir, "new.db")).await.unwrap();
    storage.migrate().await.unwrap();
    assert!(dir.path().join("new.db").exists());
    assert_eq!(pragma(&storage, "journal_mode").await, "wal");
    assert_eq!(pragma(&storage, "foreign_keys").await, "1");
    assert_eq!(pragma(&storage, "synchronous").await, "1", "NORMAL");
    assert_eq!(pragma(&storage, "busy_timeout").await, "5000");

    // A read-only URL is honoured rather than overridden.
    let missing = SeaORMStorage::connect(&format!("{}?mode=ro", file_url(&dir, "missing.db"))).await;
    assert!(matches!(missing, Err(StorageError::Database(_))), "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_database_is_shared_by_clones_and_private() {
    let storage = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    storage.migrate().await.unwrap();
    let provider = storage.into_repository_provider();
    let clone = provider.clone();
    let user = provider.create_user(&torii_test_suite::new_user("mem@example.com")).await.unwrap();
    assert_eq!(clone.get_user(&user.id).await.unwrap(), Some(user.clone()));

    let other = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    other.migrate().await.unwrap();
    assert_eq!(other.into_repository_provider().get_user(&user.id).await.unwrap(), None);
}

#[tokio::test]
async fn timestamps_are_stored_as_fixed_width_text() {
    let storage = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    storage.migrate().await.unwrap();
    let mut user = torii_test_suite::new_user("time@example.com");
    user.created_at = torii_test_suite::at_micros(1_700_000_000_000_000);
    storage.clone().into_repository_provider().create_user(&user).await.unwrap();
    let db = storage.connection();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT created_at FROM users"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "2023-11-14T22:13:20.000000Z");
}

#[tokio::test]
async fn bad_urls_are_errors_that_name_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let unopenable = SeaORMStorage::connect(&file_url(&dir, "missing-dir/torii.db")).await.unwrap_err();
    assert!(matches!(unopenable, StorageError::Database(_)), "{unopenable:?}");

    for url in ["redis://user:hunter2@localhost", "hunter2", "sqlite"] {
        let err = SeaORMStorage::connect(url).await.unwrap_err();
        assert!(matches!(err, StorageError::Database(_)), "{url}: {err:?}");
        assert!(!format!("{err:?}").contains("hunter2"), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn closed_pool_is_unavailable() {
    let storage = SeaORMStorage::connect("sqlite::memory:").await.unwrap();
    let provider = storage.into_repository_provider();
    provider.connection().close_by_ref().await.unwrap();
    let err = provider.health_check().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = provider.get_user(&torii_core::UserId::new("x")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}
