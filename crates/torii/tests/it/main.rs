//! Integration tests of the facade against real SQLite storage. One test binary (faster to link) with a
//! module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]
// The `on_*` modules include the same test files once per storage backend, on purpose.
#![allow(clippy::duplicate_mod)]

mod at_rest;
mod audit_flows;
mod email_flows;
mod initialization;
mod interop;
mod jwt;
mod metrics;
mod on_postgres;
mod on_seaorm_mysql;
mod on_seaorm_postgres;
mod on_seaorm_sqlite;
#[cfg(feature = "passkey")]
mod passkey;
mod password_flows;
mod policies;
mod refresh;
mod seed_opaque_sessions;
mod seed_signatures;
mod session_store;
mod session_store_conformance;
mod sessions;
mod support;
mod throttle;

/// The backend `email_flows` and `passkey` run on here: in-memory SQLite. The `on_*` modules run the same
/// files again on the other backends, each with a `backend` module of its own.
mod backend {
    use std::sync::Arc;

    pub type Repo = torii::SqliteRepositoryProvider;

    pub async fn setup_test_repositories() -> Option<Arc<Repo>> {
        Some(crate::support::setup_test_repositories().await)
    }
}
