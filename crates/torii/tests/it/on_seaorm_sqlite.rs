//! The email-flow and passkey tests again, on the SeaORM backend with SQLite (in memory).

mod backend {
    pub type Repo = torii_test_backends::SeaORM;

    pub async fn setup_test_repositories() -> Option<std::sync::Arc<Repo>> {
        Some(torii_test_backends::seaorm_sqlite().await)
    }
}

#[path = "audit_flows.rs"]
mod audit_flows;
#[path = "email_flows.rs"]
mod email_flows;
#[cfg(feature = "passkey")]
#[path = "passkey.rs"]
mod passkey;
