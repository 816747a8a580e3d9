//! The schema `migrate` creates, and `migrate` itself: under concurrency, after a failure, and next to an
//! application's own sqlx migrations.

use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Executor as _, SqlSafeStr as _};
use tokio::task::JoinSet;
use torii_core::StorageError;
use torii_core::storage::UserStorage as _;
use torii_storage_postgres::{MIGRATIONS_TABLE, PostgresRepositoryProvider};
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
    let applied: Vec<(i64, bool)> = sqlx::query_as("SELECT version, success FROM _torii_migrations ORDER BY version")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(
        applied,
        [
            (20_260_101_000_001, true),
            (20_260_101_000_002, true),
            (20_260_101_000_003, true),
            (20_260_101_000_004, true),
            (20_260_101_000_005, true),
            (20_260_101_000_006, true),
            (20_260_101_000_007, true)
        ]
    );
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

/// The documented column types: times are `timestamptz`, counters (the passkey signature counter,
/// rate-limit hits) `bigint`, flags (passkey backup flags, a provider link's `email_verified`)
/// `boolean`, everything else `text`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_have_postgres_types() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.migrated_provider().await;
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> '_torii_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(columns.len(), 86, "{columns:?}");
    for (table, column, data_type) in columns {
        let expected = if column.ends_with("_at") || column == "not_before" || column == "window_start" {
            "timestamp with time zone"
        } else if column == "sign_count" || column == "hits" {
            "bigint"
        } else if column.starts_with("backup_") || column == "email_verified" {
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
    assert_eq!(keys.len(), 9, "{keys:?}");
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

/// An application's migrator with sqlx's defaults (table `_sqlx_migrations`). Its one version is the
/// same number as Torii's first migration, so sharing a table would make one of them fail on a checksum
/// mismatch, and sharing a table at all would make each fail on the other's versions as missing.
fn app_migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        20_260_101_000_001,
        "app tables".into(),
        MigrationType::Simple,
        "CREATE TABLE app_notes (id bigserial PRIMARY KEY, body text NOT NULL)".into_sql_str(),
        false,
    )])
}

async fn versions(db: &PostgresRepositoryProvider, table: &str) -> Vec<i64> {
    let sql = format!("SELECT version FROM {table} ORDER BY version");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(db.pool()).await.unwrap()
}

/// Torii records its migrations in `_torii_migrations`, so an application's own sqlx migrations (in
/// `_sqlx_migrations`) in the same database do not interfere, whichever runs first, and both can run
/// again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applications_own_sqlx_migrations_do_not_interfere() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.provider().await;
    let app = app_migrator();
    app.run(db.pool()).await.expect("the application's migrations before Torii's");
    db.migrate().await.expect("Torii's migrations next to the application's");
    app.run(db.pool()).await.expect("the application's migrations again");
    db.migrate().await.expect("Torii's migrations again");

    assert_eq!(MIGRATIONS_TABLE, "_torii_migrations");
    assert_eq!(versions(&db, "_sqlx_migrations").await, [20_260_101_000_001]);
    let torii = versions(&db, MIGRATIONS_TABLE).await;
    assert_eq!(torii.first(), Some(&20_260_101_000_001));
    assert!(torii.len() >= 4, "{torii:?}");

    db.pool().execute("INSERT INTO app_notes (body) VALUES ('hello')").await.unwrap();
    db.create_user(&new_user(&unique_email("shared"))).await.unwrap();
}

/// Users a release before migration 000007 left behind (keys only lower-cased, listed for the
/// backfill) get NFKC keys from `migrate`; two accounts whose addresses are now one both stay, the
/// second with its old key and still listed; a second `migrate` changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_rewrites_old_email_keys_and_keeps_colliding_accounts() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.provider().await;
    db.migrate().await.unwrap();
    for (id, email) in
        [("a-plain", "fw@example.com"), ("b-wide", "ｆｗ@example.com"), ("c-kelvin", "\u{212A}ate@example.com")]
    {
        sqlx::query(
            "INSERT INTO users (id, email, email_normalized, created_at, updated_at) VALUES ($1, $2, $3, now(), now())",
        )
        .bind(id)
        .bind(email)
        .bind(email.to_lowercase())
        .execute(db.pool())
        .await
        .unwrap();
        sqlx::query("INSERT INTO email_key_backfill (user_id) VALUES ($1)").bind(id).execute(db.pool()).await.unwrap();
    }
    for _ in 0..2 {
        db.migrate().await.unwrap();
        let kate = db.get_user_by_email("kate@example.com").await.unwrap().unwrap();
        assert_eq!(kate.id.as_str(), "c-kelvin");
        assert_eq!(db.get_user_by_email("ｆｗ@example.com").await.unwrap().unwrap().id.as_str(), "a-plain");
        let listed: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM email_key_backfill").fetch_all(db.pool()).await.unwrap();
        assert_eq!(listed, ["b-wide"]);
    }
}
