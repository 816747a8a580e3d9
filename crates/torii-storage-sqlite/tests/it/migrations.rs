//! Torii's migrations and an application's own sqlx migrations in one database.

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use torii_core::storage::UserStorage as _;
use torii_storage_sqlite::{MIGRATIONS_TABLE, SqliteRepositoryProvider};
use torii_test_suite::fixtures::{new_user, unique_email};

/// An application's migrator with sqlx's defaults (table `_sqlx_migrations`). Its one version is the
/// same number as Torii's first migration, so sharing a table would make one of them fail on a checksum
/// mismatch, and sharing a table at all would make each fail on the other's versions as missing.
fn app_migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        20_260_101_000_001,
        "app tables".into(),
        MigrationType::Simple,
        "CREATE TABLE app_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)".into_sql_str(),
        false,
    )])
}

async fn versions(db: &SqliteRepositoryProvider, table: &str) -> Vec<i64> {
    let sql = format!("SELECT version FROM {table} ORDER BY version");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(db.pool()).await.expect("read the migrations table")
}

/// Each migrator keeps to its own table, whichever runs first, and both can run again.
#[tokio::test]
async fn an_applications_own_sqlx_migrations_do_not_interfere() {
    let db = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("open an in-memory database");
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

    // Both schemas are there and usable.
    sqlx::query("INSERT INTO app_notes (body) VALUES ('hello')").execute(db.pool()).await.expect("app table");
    db.create_user(&new_user(&unique_email("shared"))).await.expect("Torii's tables");
}
