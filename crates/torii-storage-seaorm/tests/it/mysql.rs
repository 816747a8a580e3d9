//! MySQL/MariaDB: the conformance suite and this crate's checks, each test on a database of its own,
//! plus the MySQL-specific schema choices (binary collation, `DATETIME(6)`).

use torii_storage_seaorm::SeaORMStorage;
use torii_storage_seaorm::sea_orm::{ConnectionTrait as _, Statement};

use crate::checks::{Refuses, backend_checks};
use crate::server::{self, Server};
use crate::test_db::TestDb;

/// A fresh, migrated database on the MySQL/MariaDB server, or `None` when it cannot be reached.
async fn backend() -> Option<TestDb> {
    server::backend(Server::MySql).await
}

torii_test_suite::all_storage_tests!(backend);
torii_test_suite::revocation_storage_tests!(backend);
torii_test_suite::refresh_token_storage_tests!(backend);
torii_test_suite::session_data_store_tests!(backend);
backend_checks!(backend, Refuses::TooLong);

#[tokio::test]
async fn seed_snippet_runs() {
    let Some((url, _database)) = server::fresh_database(Server::MySql).await else { return };
    crate::checks::seed_snippet(&url).await.unwrap();
}

#[tokio::test]
async fn text_columns_compare_exactly_and_timestamps_keep_microseconds() {
    let Some(db) = backend().await else { return };
    let conn = db.provider.connection();
    let sql = "SELECT TABLE_NAME, COLUMN_NAME, COLLATION_NAME, DATA_TYPE, DATETIME_PRECISION \
               FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'torii_migrations'";
    let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    assert!(rows.len() > 50, "every column of every table: {}", rows.len());
    for row in rows {
        let column =
            format!("{}.{}", row.try_get_by_index::<String>(0).unwrap(), row.try_get_by_index::<String>(1).unwrap());
        let collation: Option<String> = row.try_get_by_index(2).unwrap();
        let data_type: String = row.try_get_by_index(3).unwrap();
        if let Some(collation) = collation {
            assert!(collation.starts_with("utf8mb4_") && collation.ends_with("_bin"), "{column}: {collation}");
        }
        if data_type == "datetime" {
            let precision: Option<u32> = row.try_get_by_index(4).unwrap();
            assert_eq!(precision, Some(6), "{column} keeps microseconds");
        }
    }
}

#[tokio::test]
async fn unreachable_server_is_unavailable_and_the_password_stays_out() {
    // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
    let err = SeaORMStorage::connect("mysql://torii:hunter2@127.0.0.1:1/torii").await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}
