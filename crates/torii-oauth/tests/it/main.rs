//! Integration tests: the flow and linking rules with a scripted provider (`flow.rs`), and the real
//! thing end to end against `oidc-provider` through the HTTP routes (`e2e.rs`), on SQLite and again on
//! every other storage backend (`on_*.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]
// The `on_*` modules include the same test files once per storage backend, on purpose.
#![allow(clippy::duplicate_mod)]

mod e2e;
mod flow;
mod github;
mod on_postgres;
mod on_seaorm_mysql;
mod on_seaorm_postgres;
mod on_seaorm_sqlite;
mod peer;

/// The storage `peer` and `e2e` run on here: in-memory SQLite. The `on_*` modules run the same files
/// again on the other backends, each with a `backend` module of its own.
mod backend {
    use std::sync::Arc;

    pub type Repo = torii_test_backends::Sqlite;

    pub fn available() -> bool {
        true
    }

    pub async fn repositories() -> Arc<Repo> {
        torii_test_backends::sqlite().await
    }
}
