//! The end-to-end tests against `oidc-provider` again, with Torii on the SeaORM backend on in-memory SQLite.

mod backend {
    use std::sync::Arc;

    pub type Repo = torii_test_backends::SeaORM;

    pub fn available() -> bool {
        true
    }

    pub async fn repositories() -> Arc<Repo> {
        torii_test_backends::seaorm_sqlite().await
    }
}

#[path = "e2e.rs"]
mod e2e;
#[path = "peer.rs"]
mod peer;
