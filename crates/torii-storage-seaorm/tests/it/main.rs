//! The storage conformance suite (`torii-test-suite`) and this crate's own checks, against SQLite,
//! PostgreSQL and MySQL/MariaDB. Every test gets a fresh, migrated database of its own.
//!
//! - `sqlite`: a database file in a temporary directory.
//! - `postgres`: a new database `torii_so_<time>_<random>` on `postgres://postgres@127.0.0.1:5432/postgres`
//!   (set `TORII_TEST_POSTGRES_URL` to use another server).
//! - `mysql`: a new database `torii_so_<time>_<random>` on `mysql://root@127.0.0.1:3306` (set
//!   `TORII_TEST_MYSQL_URL`); MySQL 8 or MariaDB.
//!
//! Server databases are dropped when their test ends. When a server cannot be reached its tests print
//! `SKIPPED` and pass, unless `CI` is set, in which case they fail.
//!
//! Run with `cargo test -p torii-storage-seaorm` (the tests enable all three database features).

// Test code: a database that cannot be set up should fail the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod checks;
mod mysql;
mod postgres;
mod server;
mod sqlite;
mod sqlite_schema;
mod test_db;
