//! PostgreSQL: the conformance suite and this crate's checks, each test on a database of its own.

use torii_storage_seaorm::SeaORMStorage;

use crate::checks::{Refuses, backend_checks};
use crate::server::{self, Server};
use crate::test_db::TestDb;

/// A fresh, migrated database on the PostgreSQL server, or `None` when it cannot be reached.
async fn backend() -> Option<TestDb> {
    server::backend(Server::Postgres).await
}

torii_test_suite::all_storage_tests!(backend);
torii_test_suite::revocation_storage_tests!(backend);
torii_test_suite::refresh_token_storage_tests!(backend);
torii_test_suite::session_data_store_tests!(backend);
backend_checks!(backend, Refuses::TooLongAndNul);

#[tokio::test]
async fn seed_snippet_runs() {
    let Some((url, _database)) = server::fresh_database(Server::Postgres).await else { return };
    crate::checks::seed_snippet(&url).await.unwrap();
}

#[tokio::test]
async fn unreachable_server_is_unavailable_and_the_password_stays_out() {
    // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
    let err = SeaORMStorage::connect("postgres://torii:hunter2@127.0.0.1:1/torii").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}
