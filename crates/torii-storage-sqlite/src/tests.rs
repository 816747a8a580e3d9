//! Tests of this backend's own promises (connection settings, migrations, atomicity under real
//! concurrency), plus helpers for the per-file tests. The cross-backend contract is checked by the
//! conformance suite in `tests/it`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::sqlite::SqlitePoolOptions;
use torii_core::storage::{
    CeremonyKind, MagicLinkStorage as _, OAuthState, OAuthStorage as _, OneTimeToken, PasskeyChallenge,
    PasskeyStorage as _, PasswordStorage as _, SessionStorage as _, TokenPurpose, UserStorage as _,
};
use torii_core::{ChallengeId, NewUser, SessionId, SessionRecord, SessionToken, StorageError, TokenHash};

use crate::SqliteRepositoryProvider;

/// A fixed instant plus `secs` seconds, so tests never depend on the wall clock.
pub(crate) fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default() + Duration::seconds(secs)
}

/// A new user with a random id, created at `t(0)`.
pub(crate) fn new_user(email: &str) -> NewUser {
    NewUser::new(email, t(0))
}

/// A migrated in-memory database.
pub(crate) async fn memory() -> SqliteRepositoryProvider {
    let db = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// A migrated database file in a fresh temporary directory (kept alive by the returned guard).
async fn file_db() -> (tempfile::TempDir, SqliteRepositoryProvider) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("torii.db").display());
    let db = SqliteRepositoryProvider::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (dir, db)
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

#[test]
fn embedded_migrations_are_a_copy_of_the_canonical_ones() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = read_dir(&manifest.join("migrations"));
    let canonical = read_dir(&manifest.join("../../migrations/sqlite"));
    assert!(!canonical.is_empty());
    assert_eq!(ours.keys().collect::<Vec<_>>(), canonical.keys().collect::<Vec<_>>(), "file names differ");
    for (name, bytes) in &ours {
        assert!(canonical.get(name) == Some(bytes), "{name} differs from migrations/sqlite/{name}");
    }
    // And what was compiled in is what is on disk now (build.rs reruns on change).
    assert_eq!(crate::provider::MIGRATOR.iter().count(), ours.len());
}

#[tokio::test]
async fn connect_and_migrate_are_idempotent_and_settings_apply() {
    let (dir, db) = file_db().await;
    db.migrate().await.unwrap();
    db.health_check().await.unwrap();
    let user = db.create_user(&new_user("keep@example.com")).await.unwrap();
    db.pool().close().await;

    let url = format!("sqlite://{}", dir.path().join("torii.db").display());
    let again = SqliteRepositoryProvider::connect(&url).await.unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.get_user(&user.id).await.unwrap(), Some(user));

    let journal: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(again.pool()).await.unwrap();
    assert_eq!(journal, "wal");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(again.pool()).await.unwrap();
    assert_eq!(foreign_keys, 1);
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(again.pool()).await.unwrap();
    assert_eq!(synchronous, 1, "NORMAL");
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(again.pool()).await.unwrap();
    assert_eq!(busy, 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_database_is_shared_by_clones_and_private() {
    let db = memory().await;
    let clone = db.clone();
    let user = db.create_user(&new_user("mem@example.com")).await.unwrap();
    assert_eq!(clone.get_user(&user.id).await.unwrap(), Some(user.clone()));
    // Two in-memory providers are separate databases.
    let other = memory().await;
    assert_eq!(other.get_user(&user.id).await.unwrap(), None);
    // Concurrent use of the single connection queues rather than failing.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move { db.create_user(&new_user(&format!("u{i}@example.com"))).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn closed_pool_is_unavailable() {
    let db = memory().await;
    db.pool().close().await;
    let err = db.health_check().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn unopenable_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("missing-dir/torii.db").display());
    let err = SqliteRepositoryProvider::connect(&url).await.unwrap_err();
    assert!(matches!(err, StorageError::Database(_)), "{err:?}");
    assert!(!format!("{err:?}").contains("missing-dir"), "no paths or values in errors: {err:?}");
}

#[tokio::test]
async fn the_database_file_never_contains_a_token() {
    let (dir, db) = file_db().await;
    let user = db.create_user(&new_user("f@example.com")).await.unwrap();
    let token = SessionToken::new_random();
    let record = SessionRecord {
        id: SessionId::new_random(),
        token_hash: token.hash(),
        user_id: user.id.clone(),
        user_agent: None,
        ip_address: None,
        created_at: t(0),
        updated_at: t(0),
        expires_at: t(100),
    };
    db.create_session(&record).await.unwrap();
    db.pool().close().await;
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    assert!(contains(token.hash().as_str().as_bytes()), "sanity: the hash is stored");
    assert!(!contains(token.as_str().as_bytes()));
}

/// Runs `n` copies of `f` at once on a file database and counts how many returned `Some`.
async fn successes<F, Fut, T>(db: &SqliteRepositoryProvider, n: usize, f: F) -> usize
where
    F: Fn(SqliteRepositoryProvider) -> Fut,
    Fut: Future<Output = Result<Option<T>, StorageError>> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(f(db.clone()))).collect();
    let mut wins = 0;
    for task in tasks {
        if task.await.unwrap().unwrap().is_some() {
            wins += 1;
        }
    }
    wins
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_use_values_are_won_exactly_once_under_concurrency() {
    let (_dir, db) = file_db().await;

    let hash = TokenHash::of("magic");
    let token = OneTimeToken {
        token_hash: hash.clone(),
        purpose: TokenPurpose::MagicLink,
        email: "race@example.com".into(),
        user_id: None,
        created_at: t(0),
        expires_at: t(100),
        used_at: None,
    };
    db.create_token(&token).await.unwrap();
    let hash = Arc::new(hash);
    let wins = successes(&db, 50, |db| {
        let hash = Arc::clone(&hash);
        async move { db.consume_token(&hash, TokenPurpose::MagicLink, t(1)).await }
    })
    .await;
    assert_eq!(wins, 1);

    let state_hash = TokenHash::of("state");
    let state = OAuthState {
        state_hash: state_hash.clone(),
        provider: "github".into(),
        pkce_verifier: "v".into(),
        nonce: None,
        redirect_to: None,
        link_user_id: None,
        created_at: t(0),
        expires_at: t(100),
    };
    db.store_oauth_state(&state).await.unwrap();
    let state_hash = Arc::new(state_hash);
    let wins = successes(&db, 50, |db| {
        let hash = Arc::clone(&state_hash);
        async move { db.consume_oauth_state(&hash, t(1)).await }
    })
    .await;
    assert_eq!(wins, 1);

    let challenge = PasskeyChallenge {
        id: ChallengeId::new("ceremony"),
        kind: CeremonyKind::Authentication,
        user_id: None,
        email: None,
        state: "{}".into(),
        created_at: t(0),
        expires_at: t(100),
    };
    db.store_challenge(&challenge).await.unwrap();
    let wins = successes(&db, 50, |db| async move {
        db.consume_challenge(&ChallengeId::new("ceremony"), CeremonyKind::Authentication, t(1)).await
    })
    .await;
    assert_eq!(wins, 1);

    let wins = successes(&db, 50, |db| async move {
        match db.create_user_with_password(&new_user("Same@Example.com"), "hash").await {
            Ok(user) => Ok(Some(user)),
            Err(StorageError::Conflict("user")) => Ok(None),
            Err(err) => Err(err),
        }
    })
    .await;
    assert_eq!(wins, 1);
}

/// Rows in every table that belong to nobody once a user is deleted.
async fn rows_left(db: &SqliteRepositoryProvider) -> i64 {
    let tables = [
        "users",
        "passwords",
        "sessions",
        "oauth_accounts",
        "oauth_states",
        "passkeys",
        "passkey_challenges",
        "one_time_tokens",
    ];
    let mut total = 0;
    for table in tables {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(db.pool()).await.unwrap();
        total += count;
    }
    total
}

async fn delete_user_removes_everything(db: &SqliteRepositoryProvider) {
    use torii_core::storage::{OAuthAccount, PasskeyCredential};

    let user = db.create_user_with_password(&new_user("gone@example.com"), "h").await.unwrap();
    let token = SessionToken::new_random();
    let session = SessionRecord {
        id: SessionId::new_random(),
        token_hash: token.hash(),
        user_id: user.id.clone(),
        user_agent: None,
        ip_address: None,
        created_at: t(0),
        updated_at: t(0),
        expires_at: t(100),
    };
    db.create_session(&session).await.unwrap();
    let account = OAuthAccount {
        user_id: user.id.clone(),
        provider: "github".into(),
        subject: "1".into(),
        email: None,
        email_verified: false,
        created_at: t(0),
        updated_at: t(0),
    };
    db.create_oauth_account(&account).await.unwrap();
    let state = OAuthState {
        state_hash: TokenHash::of("s"),
        provider: "github".into(),
        pkce_verifier: "v".into(),
        nonce: None,
        redirect_to: None,
        link_user_id: Some(user.id.clone()),
        created_at: t(0),
        expires_at: t(100),
    };
    db.store_oauth_state(&state).await.unwrap();
    let credential = PasskeyCredential {
        credential_id: "c".into(),
        user_id: user.id.clone(),
        name: "k".into(),
        data: "{}".into(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_at: t(0),
        last_used_at: None,
    };
    db.create_passkey(&credential).await.unwrap();
    let challenge = PasskeyChallenge {
        id: ChallengeId::new("ch"),
        kind: CeremonyKind::Registration,
        user_id: Some(user.id.clone()),
        email: None,
        state: "{}".into(),
        created_at: t(0),
        expires_at: t(100),
    };
    db.store_challenge(&challenge).await.unwrap();
    for (hash, user_id) in [("with-id", Some(user.id.clone())), ("by-email", None)] {
        let token = OneTimeToken {
            token_hash: TokenHash::of(hash),
            purpose: TokenPurpose::EmailVerification,
            email: "GONE@example.com".into(),
            user_id,
            created_at: t(0),
            expires_at: t(100),
            used_at: None,
        };
        db.create_token(&token).await.unwrap();
    }

    assert!(db.delete_user(&user.id).await.unwrap());
    assert!(!db.delete_user(&user.id).await.unwrap());
    assert_eq!(db.get_session(&token.hash(), t(1)).await.unwrap(), None);
    assert_eq!(rows_left(db).await, 0);
}

#[tokio::test]
async fn deleting_a_user_deletes_everything_it_owns() {
    delete_user_removes_everything(&memory().await).await;
}

#[tokio::test]
async fn user_built_pool_without_foreign_keys_still_deletes_everything() {
    let options = SqliteRepositoryProvider::connect_options("sqlite::memory:").unwrap().foreign_keys(false);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let db = SqliteRepositoryProvider::new(pool);
    db.migrate().await.unwrap();
    delete_user_removes_everything(&db).await;
}
