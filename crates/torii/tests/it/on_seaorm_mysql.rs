//! The email-flow and passkey tests again, on the SeaORM backend with MySQL/MariaDB. Each test gets a fresh
//! database of its own, dropped when the test is done; without a reachable server these tests print a
//! notice and pass, unless `CI` is set (then they fail).

mod backend {
    pub type Repo = torii_test_backends::SeaORM;

    pub async fn setup_test_repositories() -> Option<std::sync::Arc<Repo>> {
        torii_test_backends::seaorm(torii_test_backends::Server::MySql).await
    }
}

#[path = "audit_flows.rs"]
mod audit_flows;
#[path = "email_flows.rs"]
mod email_flows;
#[cfg(feature = "passkey")]
#[path = "passkey.rs"]
mod passkey;
