//! The storage conformance suite (`torii-test-suite`) and PostgreSQL-specific tests, against a real
//! server: `TORII_TEST_POSTGRES_URL`, or `postgres://postgres@127.0.0.1:5432/postgres` when it is not
//! set. The role must be allowed to create databases.
//!
//! Every test gets its own fresh database (`torii_t_<seconds>_<random>`), migrated by
//! `PostgresRepositoryProvider::migrate` and dropped when the test is done, so tests run in parallel
//! without seeing each other. When the server cannot be reached, each test prints `SKIPPED` and passes,
//! unless `CI` is set, in which case it fails.
//!
//! Run with `cargo test -p torii-storage-postgres`.

// Test code: a database that cannot be set up should fail the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod database;
mod fault;
mod schema;
mod text;

use torii_storage_postgres::PostgresRepositoryProvider;

use crate::database::TestDatabase;

/// A fresh, migrated database, or `None` when the server is unavailable (see
/// [`torii_test_suite::skip_or_fail`]).
async fn backend() -> Option<PostgresRepositoryProvider> {
    let database = TestDatabase::create().await?;
    Some(database.migrated_provider().await)
}

// Tests named `conformance::<group>::<check>`.
torii_test_suite::all_storage_tests!(backend);

// The revocation of stateless (JWT) sessions and refresh tokens, which are not part of
// `all_storage_tests!`: tests named `revocation::<check>` and `refresh::<check>`.
torii_test_suite::revocation_storage_tests!(backend);
torii_test_suite::refresh_token_storage_tests!(backend);

// The application's key/value session data (`SessionStore`): tests named `session_data::<check>`.
torii_test_suite::session_data_store_tests!(backend);
