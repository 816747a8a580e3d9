//! SeaORM entities for Torii's tables, for applications that want to query them directly (for example to
//! join `users` with their own tables).
//!
//! Column names and meanings are those of the canonical schema (`migrations/sqlite` in the workspace);
//! [`crate::migration`] creates the tables. Timestamps are [`DateTimeUtc`](sea_orm::prelude::DateTimeUtc)
//! values kept to the microsecond: `timestamptz` on PostgreSQL, `DATETIME(6)` on MySQL, and on SQLite
//! fixed-width UTC text (`2026-01-01T00:00:00.000000Z`) so that text order is time order. Reading the
//! entities works as usual everywhere. Statements built outside this crate that compare or write
//! timestamps must bind them in that text form on SQLite, and on MySQL as `DATETIME` values
//! (`chrono::NaiveDateTime` in UTC), because sqlx sends a UTC time typed as `TIMESTAMP`, which ends in
//! 2038.
//!
//! Writes should go through the storage traits: they compute derived columns such as
//! `users.email_normalized` and keep tokens hashed.

pub mod audit_events;
pub mod oauth_accounts;
pub mod oauth_states;
pub mod one_time_tokens;
pub mod passkey_challenges;
pub mod passkeys;
pub mod passwords;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod revoked_tokens;
pub mod session_data;
pub mod session_revocations;
pub mod sessions;
pub mod users;
