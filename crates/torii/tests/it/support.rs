use std::sync::Arc;

use torii::SqliteRepositoryProvider;

/// Passwords the policy accepts. The documentation's examples use "password123", which is on the
/// common-password list and rightly refused, so tests use passphrases instead.
pub const PASSWORD: &str = "correct horse battery staple";
pub const OTHER_PASSWORD: &str = "tr0ub4dor & three";

/// A fresh, migrated in-memory SQLite database.
pub async fn setup_test_repositories() -> Arc<SqliteRepositoryProvider> {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("connect");
    repositories.migrate().await.expect("migrate");
    Arc::new(repositories)
}
