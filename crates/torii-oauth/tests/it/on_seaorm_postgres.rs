//! The end-to-end tests against `oidc-provider` again, with Torii on the SeaORM backend on PostgreSQL. Each test gets a fresh
//! database of its own, dropped when the test is done; without a reachable server these tests print a
//! notice and pass, unless `CI` is set (then they fail).

mod backend {
    use std::sync::Arc;

    pub type Repo = torii_test_backends::SeaORM;

    pub fn available() -> bool {
        torii_test_backends::Server::Postgres.reachable_or_skip()
    }

    pub async fn repositories() -> Arc<Repo> {
        torii_test_backends::seaorm(torii_test_backends::Server::Postgres)
            .await
            .expect("PostgreSQL answered a moment ago")
    }
}

#[path = "e2e.rs"]
mod e2e;
#[path = "peer.rs"]
mod peer;
