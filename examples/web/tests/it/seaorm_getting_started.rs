//! The getting-started code of the SeaORM backend (connect, migrate, `into_repository_provider`,
//! `Torii::new`, register, log in, validate the session), as the documentation writes it, on SQLite,
//! PostgreSQL and MySQL/MariaDB. Each run gets a fresh database, dropped afterwards; the server runs are
//! skipped with a notice when their server is unreachable (and fail under `CI`), as the smoke tests are.
//!
//! The code lives in this test binary because the example app's tests enable the facade's
//! `seaorm-sqlite`, `seaorm-postgres` and `seaorm-mysql` features: it is compiled and run by every
//! `cargo test --workspace`.

use std::sync::Arc;

use torii::Torii;
use torii_storage_seaorm::SeaORMStorage;

/// What the getting-started code produced, for the checks.
struct Outcome {
    registered: torii::UserId,
    logged_in: torii::UserId,
    validated: torii::UserId,
    wrong_password_refused: bool,
}

/// The documentation's complete example, with the database URL as a parameter; the printed lines are the
/// documentation's too. Only the wrong-password check at the end is added.
async fn getting_started(url: &str) -> Result<Outcome, Box<dyn std::error::Error>> {
    // Set up database
    let storage = SeaORMStorage::connect(url).await?;
    storage.migrate().await?;

    // Create repository provider and Torii instance
    let repositories = Arc::new(storage.into_repository_provider());
    let torii = Arc::new(Torii::new(repositories));

    // Register a user
    let user = torii.register_user_with_password("user@example.com", "secure_password").await?;
    println!("User registered: {}", user.id);

    // Login and create session
    let (logged_in, session) = torii
        .login_user_with_password(
            "user@example.com",
            "secure_password",
            Some("Mozilla/5.0 (compatible browser)".to_string()),
            Some("192.168.1.100".to_string()),
        )
        .await?;

    println!("Login successful!");
    println!("User: {}", logged_in.id);

    // Validate session
    let validated_session = torii.get_session(&session.token).await?;
    println!("Session valid for user: {}", validated_session.user_id);

    let wrong_password_refused =
        torii.login_user_with_password("user@example.com", "insecure_password", None, None).await.is_err();
    Ok(Outcome {
        registered: user.id,
        logged_in: logged_in.id,
        validated: validated_session.user_id,
        wrong_password_refused,
    })
}

/// Runs the getting-started code on `url` in a runtime of its own (the test databases' guards block on
/// their own runtimes, so the test itself is synchronous) and checks what it did.
fn run_and_check(url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let outcome = runtime.block_on(getting_started(url)).unwrap_or_else(|err| panic!("the example failed: {err}"));
    assert_eq!(outcome.logged_in, outcome.registered);
    assert_eq!(outcome.validated, outcome.registered);
    assert!(outcome.wrong_password_refused, "a wrong password must not log in");
}

/// The facade's `torii::SeaORMStorage` is the backend crate's type, so the code works with either path
/// (checked when this file compiles).
const _: fn(torii::SeaORMStorage) -> torii_storage_seaorm::SeaORMStorage = |storage| storage;

#[test]
fn getting_started_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.db");
    run_and_check(&format!("sqlite://{}?mode=rwc", path.display()));
    assert!(path.exists(), "the database file was created");
}

#[test]
fn getting_started_runs_on_postgres() {
    let Some(database) = crate::postgres::TestDatabase::create() else { return };
    run_and_check(&database.url());
    assert_eq!(database.count("SELECT count(*) FROM users WHERE email = $1", "user@example.com"), 1);
}

#[test]
fn getting_started_runs_on_mysql() {
    let Some(database) = crate::mysql::TestDatabase::create() else { return };
    run_and_check(&database.url());
    assert_eq!(database.count("SELECT count(*) FROM users WHERE email = ?", "user@example.com"), 1);
}
