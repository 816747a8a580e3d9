//! The schema `migrate` creates, and `migrate` itself under concurrency and failure.

use std::time::Duration;

use sqlx::Executor as _;
use tokio::task::JoinSet;
use torii_core::StorageError;
use torii_core::storage::UserStorage as _;
use torii_test_suite::fixtures::{new_user, unique_email};

use crate::database::TestDatabase;

/// Several instances starting at once against a fresh database (each with its own pool, like separate
/// processes) all succeed, and each migration is applied exactly once: sqlx's advisory lock makes them
/// take turns. Running it again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_from_several_instances_all_succeed() {
    let Some(database) = TestDatabase::create().await else { return };
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(database.provider().await);
    }
    let mut migrations = JoinSet::new();
    for instance in instances.clone() {
        migrations.spawn(async move { instance.migrate().await });
    }
    while let Some(joined) = migrations.join_next().await {
        joined.unwrap().unwrap();
    }

    let db = &instances[0];
    let applied: Vec<(i64, bool)> = sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(applied, [(20_260_101_000_001, true), (20_260_101_000_002, true), (20_260_101_000_003, true)]);
    db.migrate().await.unwrap();
    let user = db.create_user(&new_user(&unique_email("after-migrate"))).await.unwrap();
    assert_eq!(instances[3].get_user(&user.id).await.unwrap(), Some(user));
}

/// A failed migration is `StorageError::Migration`, and does not leave sqlx's advisory lock held by a
/// pooled connection: once the cause is removed, the next `migrate` succeeds instead of waiting for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_migration_is_reported_and_releases_its_lock() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.provider().await;
    // A table in the way makes the first migration fail.
    db.pool().execute("CREATE TABLE users (unrelated integer)").await.unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(matches!(err, StorageError::Migration(_)), "{err:?}");

    db.pool().execute("DROP TABLE users").await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), db.migrate())
        .await
        .expect("migrate must not wait for a lock left by the failed run")
        .unwrap();
    db.create_user(&new_user(&unique_email("recovered"))).await.unwrap();
}

/// The documented column types: times are `timestamptz`, the signature counter `bigint`, flags
/// `boolean`, everything else `text`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_have_postgres_types() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.migrated_provider().await;
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(columns.len(), 62, "{columns:?}");
    for (table, column, data_type) in columns {
        let expected = if column.ends_with("_at") || column == "not_before" {
            "timestamp with time zone"
        } else if column == "sign_count" {
            "bigint"
        } else if column.starts_with("backup_") {
            "boolean"
        } else {
            "text"
        };
        assert_eq!(data_type, expected, "{table}.{column}");
    }
}

/// Every foreign key points at `users` and cascades, and every referencing column is indexed, so
/// deleting a user never scans a whole table. (The revocation tables have no foreign key on purpose:
/// their rows outlive the user.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_cascade_and_are_indexed() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.migrated_provider().await;
    let keys: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, \
                c.confdeltype = 'c' \
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f' ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(keys.len(), 7, "{keys:?}");
    for (table, column, target, cascades) in keys {
        assert_eq!(target, "users", "{table}.{column}");
        assert!(cascades, "{table}.{column} must be ON DELETE CASCADE");
        // An index whose first column is the referencing column.
        let indexed: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a \
               ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = $1::regclass AND a.attname = $2)",
        )
        .bind(&table)
        .bind(&column)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert!(indexed, "{table}.{column} must be indexed");
    }
}
