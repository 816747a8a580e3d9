//! Checks of this crate's own promises, beyond the conformance suite, run on every database: exact
//! text keys (the MySQL collation), values a database refuses, idempotent migrations, refresh-token
//! rotation, complete user deletion, and the documented set-up snippet.

use std::error::Error;
use std::sync::Arc;

use torii_core::storage::{
    CeremonyKind, MagicLinkStorage as _, OAuthState, OAuthStorage as _, OneTimeToken, PasskeyChallenge,
    PasskeyStorage as _, PasswordStorage as _, RefreshTokenRecord, RefreshTokenStorage as _, RefreshTokenUse,
    SessionStorage as _, TokenPurpose, TokenRevocationStorage as _, UserStorage as _,
};
use torii_core::{NewUser, StorageError, TokenHash, Torii, UserId};
use torii_storage_seaorm::SeaORMStorage;
use torii_storage_seaorm::entity::{
    oauth_accounts, oauth_states, one_time_tokens, passkey_challenges, passkeys, passwords, refresh_tokens, sessions,
    users,
};
use torii_storage_seaorm::sea_orm::{EntityTrait, PaginatorTrait as _};
use torii_test_suite::fixtures::{
    NUL_STRING, new_user, now, oauth_account, oauth_state, one_time_token, passkey_for, random_suffix, session_for,
};

use crate::test_db::TestDb;

/// What a database does with a value it cannot store as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refuses {
    /// Stores it (SQLite: no length limits; NUL bytes are fine).
    Nothing,
    /// Refuses values longer than their column, stores NUL bytes (MySQL).
    TooLong,
    /// Refuses values longer than their column and NUL bytes in text (PostgreSQL).
    TooLongAndNul,
}

/// Emails that differ only by an accent are different addresses on every database (MySQL's default
/// collation would make them collide in the unique index), while case variants still conflict.
pub(crate) async fn accent_distinct_emails_do_not_conflict(db: TestDb) {
    let db = &db.provider;
    let suffix = random_suffix();
    let accented = new_user(&format!("ärger.{suffix}@example.com"));
    let plain = new_user(&format!("arger.{suffix}@example.com"));
    let other_accent = new_user(&format!("àrger.{suffix}@example.com"));
    for user in [&accented, &plain, &other_accent] {
        db.create_user(user).await.unwrap_or_else(|err| panic!("{} must not conflict: {err:?}", user.email));
    }
    let upper = new_user(&format!("ÄRGER.{suffix}@EXAMPLE.com"));
    assert!(matches!(db.create_user(&upper).await, Err(StorageError::Conflict(_))), "a case variant conflicts");
    for user in [&accented, &plain, &other_accent] {
        let found = db.get_user_by_email(&user.email.to_uppercase()).await.unwrap().map(|u| u.id);
        assert_eq!(found, Some(user.id.clone()), "{} must find exactly its own user", user.email);
    }
}

/// Keys compare exactly: OAuth subjects that differ only by case, accents or trailing spaces are
/// different identities (they are opaque), and a token hash is only found exactly.
pub(crate) async fn text_keys_compare_exactly(db: TestDb) {
    let db = &db.provider;
    let base = format!("Subject-{}", random_suffix());
    let variants = [base.clone(), base.to_lowercase(), format!("{base} "), format!("{base}é"), format!("{base}e")];
    for subject in &variants {
        // A user links one account per provider, so each identity gets a user of its own.
        let user = db.create_user(&new_user(&torii_test_suite::unique_email("exact"))).await.unwrap();
        let account = oauth_account(&user.id, "github", subject);
        db.create_oauth_account(&account).await.unwrap_or_else(|err| panic!("{subject:?} is distinct: {err:?}"));
    }
    for subject in &variants {
        let found = db.get_oauth_account("github", subject).await.unwrap().map(|a| a.subject);
        assert_eq!(found.as_ref(), Some(subject), "{subject:?} must find exactly itself");
    }
}

/// NUL bytes and values longer than their column: stored exactly, or refused with `InvalidData` and
/// nothing stored, as the database allows.
pub(crate) async fn refused_values_are_invalid_data(db: TestDb, refuses: Refuses) {
    let db = &db.provider;

    let mut user = new_user(&torii_test_suite::unique_email("nul"));
    user.name = Some(NUL_STRING.to_owned());
    match (db.create_user(&user).await, refuses) {
        (Ok(_), Refuses::Nothing | Refuses::TooLong) => {
            let stored = db.get_user(&user.id).await.unwrap().and_then(|u| u.name);
            assert_eq!(stored.as_deref(), Some(NUL_STRING), "a stored NUL byte reads back exactly");
        }
        (Err(StorageError::InvalidData(reason)), Refuses::TooLongAndNul) => {
            assert!(!reason.contains("before"), "no values in messages: {reason}");
            assert_eq!(db.get_user(&user.id).await.unwrap(), None, "nothing is stored");
        }
        (result, _) => panic!("unexpected result for a NUL byte on {refuses:?}: {result:?}"),
    }

    let long_id = NewUser { id: UserId::new("u".repeat(300)), ..new_user(&torii_test_suite::unique_email("long")) };
    match (db.create_user(&long_id).await, refuses) {
        (Ok(_), Refuses::Nothing) => {}
        (Err(StorageError::InvalidData(_)), Refuses::TooLong | Refuses::TooLongAndNul) => {
            assert_eq!(db.get_user_by_email(&long_id.email).await.unwrap(), None, "nothing is stored");
        }
        (result, _) => panic!("unexpected result for a 300-character id on {refuses:?}: {result:?}"),
    }
}

/// Migrating again changes nothing and keeps the data; the health check passes.
pub(crate) async fn migrate_is_idempotent(db: TestDb) {
    let db = &db.provider;
    let user = db.create_user(&new_user(&torii_test_suite::unique_email("keep"))).await.unwrap();
    db.migrate().await.unwrap();
    torii_core::RepositoryProvider::migrate(db).await.unwrap();
    db.health_check().await.unwrap();
    assert_eq!(db.get_user(&user.id).await.unwrap(), Some(user));
}

/// Users a release before migration 000007 left behind (keys only lower-cased, listed for the
/// backfill) get NFKC keys from `migrate`; two accounts whose addresses are now one both stay, the second
/// with its old key and still listed; a second `migrate` changes nothing.
pub(crate) async fn migrate_rewrites_old_email_keys(db: TestDb) {
    use torii_storage_seaorm::sea_orm::ConnectionTrait as _;

    let db = &db.provider;
    let suffix = random_suffix();
    let plain = db.create_user(&new_user(&format!("fw{suffix}@example.com"))).await.unwrap();
    let wide = db.create_user(&new_user(&format!("placeholder{suffix}@example.com"))).await.unwrap();
    let kelvin = db.create_user(&new_user(&format!("placeholder-k{suffix}@example.com"))).await.unwrap();
    for (user, email) in
        [(&wide, format!("ｆｗ{suffix}@example.com")), (&kelvin, format!("\u{212A}ate{suffix}@example.com"))]
    {
        let old_key = email.to_lowercase();
        let id = user.id.as_str();
        let sql = format!("UPDATE users SET email = '{email}', email_normalized = '{old_key}' WHERE id = '{id}'");
        db.connection().execute_unprepared(&sql).await.unwrap();
        let sql = format!("INSERT INTO email_key_backfill (user_id) VALUES ('{id}')");
        db.connection().execute_unprepared(&sql).await.unwrap();
    }
    for _ in 0..2 {
        db.migrate().await.unwrap();
        let kate = db.get_user_by_email(&format!("kate{suffix}@example.com")).await.unwrap().unwrap();
        assert_eq!(kate.id, kelvin.id);
        let fw = db.get_user_by_email(&format!("ｆｗ{suffix}@example.com")).await.unwrap().unwrap();
        assert_eq!(fw.id, plain.id, "the account that held the key keeps it");
        assert!(db.get_user(&wide.id).await.unwrap().is_some(), "the colliding account is kept");
    }
}

/// Rows in every table, counted through the public entities.
async fn rows_left(db: &TestDb) -> u64 {
    let conn = db.provider.connection();
    let counts = [
        users::Entity::find().count(conn).await,
        passwords::Entity::find().count(conn).await,
        sessions::Entity::find().count(conn).await,
        oauth_accounts::Entity::find().count(conn).await,
        oauth_states::Entity::find().count(conn).await,
        passkeys::Entity::find().count(conn).await,
        passkey_challenges::Entity::find().count(conn).await,
        one_time_tokens::Entity::find().count(conn).await,
        refresh_tokens::Entity::find().count(conn).await,
    ];
    counts.into_iter().map(|count| count.unwrap()).sum()
}

/// Deleting a user leaves no row of it anywhere, including email tokens sent before the account
/// existed (which carry no user id), except its revocations. Read through the public entities.
pub(crate) async fn deleting_a_user_deletes_everything(db: TestDb) {
    let p = &db.provider;
    let later = now() + chrono::TimeDelta::hours(1);
    let user =
        p.create_user_with_password(&new_user(&torii_test_suite::unique_email("Gone")), "$argon2id$h").await.unwrap();
    p.create_session(&session_for(&user.id, later)).await.unwrap();
    p.create_oauth_account(&oauth_account(&user.id, "github", "1")).await.unwrap();
    p.store_oauth_state(&OAuthState { link_user_id: Some(user.id.clone()), ..oauth_state(later) }).await.unwrap();
    p.create_passkey(&passkey_for(&user.id)).await.unwrap();
    let challenge = torii_test_suite::fixtures::challenge(CeremonyKind::Registration, later);
    p.store_challenge(&PasskeyChallenge { user_id: Some(user.id.clone()), ..challenge }).await.unwrap();
    let with_id = OneTimeToken {
        user_id: Some(user.id.clone()),
        ..one_time_token(&user.email, TokenPurpose::PasswordReset, later)
    };
    p.create_token(&with_id).await.unwrap();
    p.create_token(&one_time_token(&user.email.to_uppercase(), TokenPurpose::EmailVerification, later)).await.unwrap();
    p.create_refresh_token(&refresh_token(&user.id, "family", later)).await.unwrap();
    assert_eq!(rows_left(&db).await, 10, "a row in every table, two email tokens");

    // Revocations are the exception: a deleted user's stateless sessions must stay dead.
    p.revoke_token_id("jti-gone", &user.id, later).await.unwrap();
    p.revoke_all_before(&user.id, now()).await.unwrap();

    assert!(p.delete_user(&user.id).await.unwrap());
    assert_eq!(rows_left(&db).await, 0, "nothing of the user is left");
    assert!(!p.delete_user(&user.id).await.unwrap());
    let issued = now() - chrono::TimeDelta::hours(1);
    assert!(p.is_token_revoked("jti-gone", &user.id, now()).await.unwrap(), "the revoked id stays revoked");
    assert!(p.is_token_revoked("jti-other", &user.id, issued).await.unwrap(), "older tokens stay revoked");
}

/// A live, unused refresh token of `user_id` in `family`.
fn refresh_token(user_id: &UserId, family: &str, expires_at: chrono::DateTime<chrono::Utc>) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: TokenHash::of(&torii_core::token::generate_secret_token()),
        family_id: format!("{family}-{}", random_suffix()),
        user_id: user_id.clone(),
        created_at: now(),
        expires_at,
        used_at: None,
        revoked_at: None,
    }
}

/// Refresh tokens rotate once: of 20 concurrent uses exactly one is `Valid` and the others see the
/// reuse; revoking the family (or the user's tokens) and expiry make a token `Invalid`.
pub(crate) async fn refresh_tokens_rotate_once(db: TestDb) {
    let db = Arc::new(db);
    let user = db.provider.create_user(&new_user(&torii_test_suite::unique_email("refresh"))).await.unwrap();
    let now = now();
    let token = refresh_token(&user.id, "race", now + chrono::TimeDelta::days(1));
    db.provider.create_refresh_token(&token).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (db, hash) = (Arc::clone(&db), token.token_hash.clone());
            tokio::spawn(async move { db.provider.use_refresh_token(&hash, now).await })
        })
        .collect();
    let (mut valid, mut reused) = (0, 0);
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RefreshTokenUse::Valid(record) => {
                assert_eq!(record, RefreshTokenRecord { used_at: Some(now), ..token.clone() });
                valid += 1;
            }
            RefreshTokenUse::Reused(record) => {
                assert_eq!(record.used_at, Some(now));
                reused += 1;
            }
            other => panic!("a concurrent use must be Valid or Reused, got {other:?}"),
        }
    }
    assert_eq!((valid, reused), (1, 19));

    assert_eq!(db.provider.revoke_refresh_family(&token.family_id, now).await.unwrap(), 1);
    assert_eq!(db.provider.use_refresh_token(&token.token_hash, now).await.unwrap(), RefreshTokenUse::Invalid);
    let other = refresh_token(&user.id, "other", now + chrono::TimeDelta::microseconds(1));
    db.provider.create_refresh_token(&other).await.unwrap();
    let expired = db.provider.use_refresh_token(&other.token_hash, other.expires_at).await.unwrap();
    assert_eq!(expired, RefreshTokenUse::Invalid, "expired at expires_at");
    assert_eq!(db.provider.revoke_refresh_tokens_for_user(&user.id, now).await.unwrap(), 1);
    assert_eq!(db.provider.use_refresh_token(&other.token_hash, now).await.unwrap(), RefreshTokenUse::Invalid);
    assert_eq!(db.provider.cleanup_expired_refresh_tokens(other.expires_at, 10).await.unwrap(), 1);
    let unknown = TokenHash::of("unknown");
    assert_eq!(db.provider.use_refresh_token(&unknown, now).await.unwrap(), RefreshTokenUse::Invalid);
}

/// The set-up snippet of the documentation, as written, then a registration, a login and a session
/// validation through `Torii`.
pub(crate) async fn seed_snippet(url: &str) -> Result<(), Box<dyn Error>> {
    let storage = SeaORMStorage::connect(url).await?;
    storage.migrate().await?;
    let repositories = Arc::new(storage.into_repository_provider());
    let torii = Arc::new(Torii::new(repositories));

    let email = torii_test_suite::unique_email("Seed");
    let passphrase = "correct horse battery staple 1843";
    let user = torii.register_user_with_password(&email, passphrase).await?;
    let (logged_in, session) = torii
        .login_user_with_password(
            &email.to_uppercase(),
            passphrase,
            Some("Mozilla/5.0".into()),
            Some("192.0.2.1".into()),
        )
        .await?;
    assert_eq!(logged_in.id, user.id);
    let validated = torii.get_session(&session.token).await?;
    assert_eq!(validated.user_id, user.id);
    assert!(torii.login_user_with_password(&email, "wrong horse battery staple", None, None).await.is_err());
    Ok(())
}

/// Stamps out one test per check above for a factory, in a module `checks`. `$refuses` is the
/// database's [`Refuses`].
macro_rules! backend_checks {
    ($factory:path, $refuses:expr) => {
        mod checks {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn accent_distinct_emails_do_not_conflict() {
                let Some(db) = $factory().await else { return };
                crate::checks::accent_distinct_emails_do_not_conflict(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn text_keys_compare_exactly() {
                let Some(db) = $factory().await else { return };
                crate::checks::text_keys_compare_exactly(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn refused_values_are_invalid_data() {
                let Some(db) = $factory().await else { return };
                crate::checks::refused_values_are_invalid_data(db, $refuses).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn migrate_is_idempotent() {
                let Some(db) = $factory().await else { return };
                crate::checks::migrate_is_idempotent(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn migrate_rewrites_old_email_keys() {
                let Some(db) = $factory().await else { return };
                crate::checks::migrate_rewrites_old_email_keys(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn refresh_tokens_rotate_once() {
                let Some(db) = $factory().await else { return };
                crate::checks::refresh_tokens_rotate_once(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn deleting_a_user_deletes_everything() {
                let Some(db) = $factory().await else { return };
                crate::checks::deleting_a_user_deletes_everything(db).await;
            }
        }
    };
}

pub(crate) use backend_checks;
