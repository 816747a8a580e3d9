//! The storage conformance suite: one set of checks that every Torii storage backend (SQLite,
//! PostgreSQL, SeaORM, Redis, in-memory, ...) must pass unchanged.
//!
//! Each storage trait in [`torii_core::storage`] documents a contract ("an expired session is never
//! returned", "of many concurrent consumes exactly one wins", ...). This crate turns every statement
//! into a check, an `async fn` generic over the backend, grouped by trait:
//!
//! | module           | needs                                   | macro                         |
//! |------------------|-----------------------------------------|-------------------------------|
//! | [`users`]        | `UserStorage`                           | [`user_storage_tests!`]       |
//! | [`sessions`]     | `UserStorage + SessionStorage`          | [`session_storage_tests!`]    |
//! | [`passwords`]    | `PasswordStorage`                       | [`password_storage_tests!`]   |
//! | [`oauth`]        | `UserStorage + OAuthStorage`            | [`oauth_storage_tests!`]      |
//! | [`passkeys`]     | `UserStorage + PasskeyStorage`          | [`passkey_storage_tests!`]    |
//! | [`magic_links`]  | `UserStorage + MagicLinkStorage`        | [`magic_link_storage_tests!`] |
//! | [`proof`]        | `PasswordStorage + OAuthStorage + PasskeyStorage` | [`proof_storage_tests!`] |
//! | [`rate_limits`]  | `RateLimitStorage`                      | [`rate_limit_storage_tests!`] |
//! | [`audit`]        | `AuditLogStorage`                       | [`audit_log_storage_tests!`]  |
//! | [`session_data`] | `SessionStore` (application session data) | [`session_data_store_tests!`] |
//!
//! [`all_storage_tests!`] stamps out the first nine groups inside a module named `conformance`.
//!
//! # Using it from a backend
//!
//! A backend crate adds `torii-test-suite` and `tokio` (with the `rt-multi-thread` and `macros`
//! features) as dev-dependencies; the generated tests are `#[tokio::test]`s, which name `tokio` from the
//! calling crate. It then writes one integration-test file with a *factory*: an `async fn` returning
//! `Option<Backend>`, which builds a fresh, migrated, empty backend each time it is called.
//!
//! ```text
//! // crates/torii-storage-postgres/tests/it/main.rs
//! async fn backend() -> Option<PostgresRepositoryProvider> {
//!     let Ok(url) = std::env::var("DATABASE_URL") else {
//!         return torii_test_suite::skip_or_fail("PostgreSQL", "DATABASE_URL is not set");
//!     };
//!     let provider = PostgresRepositoryProvider::connect(&fresh_database(&url).await).await.unwrap();
//!     provider.migrate().await.unwrap();
//!     Some(provider)
//! }
//!
//! torii_test_suite::all_storage_tests!(backend);
//! ```
//!
//! That expands to one test per check, named like
//! `conformance::sessions::expired_session_is_never_returned`, each calling the factory once (so each
//! test gets its own database) and then the check. A backend that implements only some traits invokes
//! only the matching group macros (for example [`session_storage_tests!`] for a session-only store).
//!
//! When the factory returns `None` (the database server is not reachable here), each test prints
//! `SKIPPED <test>: ...` to stderr and passes. Factories decide that through [`skip_or_fail`], which
//! panics instead when the `CI` environment variable is set, so a misconfigured CI job fails loudly
//! rather than skipping the suite.
//!
//! # What the checks assume
//!
//! Each check creates the rows it uses, with random ids and emails, so most checks also pass on a
//! shared database. The cleanup checks count deleted rows and therefore need a database where no other
//! test is cleaning up at the same moment; they use timestamps around the year 2000 so that other tests'
//! rows (dated around the present) are never counted as expired.
//!
//! The helpers in [`fixtures`] (fresh users, sessions, tokens, awkward strings) are public so backends
//! can use them in their own tests too.

// This is a test-support crate: its checks report failures by panicking, exactly like `assert!`, so the
// workspace's "no unwrap/expect/panic in library code" rule does not apply here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod audit;
pub mod fixtures;
mod macros;
pub mod magic_links;
pub mod oauth;
pub mod passkeys;
pub mod passwords;
pub mod proof;
pub mod rate_limits;
pub mod refresh;
pub mod revocation;
pub mod session_data;
pub mod sessions;
mod support;
pub mod users;

pub use fixtures::{at_micros, new_user, now, session_for, unique_email};

/// Decides what a factory does when its backend's server is unavailable: returns `None` (so the
/// generated tests print a `SKIPPED` line and pass) on a developer machine, but panics when the `CI`
/// environment variable is set to anything non-empty, so CI can never silently skip a backend.
///
/// `backend` names the backend ("PostgreSQL"), `reason` says what is missing ("DATABASE_URL is not
/// set", or the connection error).
///
/// # Panics
/// When `CI` is set and non-empty.
pub fn skip_or_fail<T>(backend: &str, reason: &str) -> Option<T> {
    if std::env::var_os("CI").is_some_and(|value| !value.is_empty()) {
        panic!("{backend} is unavailable ({reason}), and CI is set, so its conformance tests must not be skipped");
    }
    eprintln!("torii-test-suite: {backend} unavailable ({reason}); skipping its tests (set CI=1 to fail instead)");
    None
}

/// Prints the line a generated test prints when its factory returned `None`. Used by the macros.
#[doc(hidden)]
pub fn report_skipped(test: &str, factory: &str) {
    eprintln!("SKIPPED {test}: backend unavailable (`{factory}` returned None)");
}
