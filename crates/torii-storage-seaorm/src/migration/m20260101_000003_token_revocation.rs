//! Revocation of stateless (JWT) sessions: the token-id denylist and per-user "not before" times.
//!
//! No foreign keys to `users`: a token may outlive its user row, and revoking it must still work.

use sea_orm::DbErr;
use sea_orm::sea_query::Table;
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, SHORT, create_table, drop_tables, index};

/// Creates `revoked_tokens` and `session_revocations`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000003_token_revocation"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());

        // Token ids (the JWT `jti`) revoked before their expiry; an entry can go once the token expired.
        let mut revoked = Table::create();
        revoked
            .table("revoked_tokens")
            .col(c.varchar("token_id", SHORT).not_null().primary_key())
            .col(c.varchar("user_id", SHORT).not_null())
            .col(c.timestamp("expires_at").not_null());
        let indexes = vec![index("idx_revoked_tokens_expires_at", "revoked_tokens", &["expires_at"])];
        create_table(manager, revoked, indexes).await?;

        // "Log out everywhere": every token of the user issued before `not_before` is dead.
        let mut not_before = Table::create();
        not_before
            .table("session_revocations")
            .col(c.varchar("user_id", SHORT).not_null().primary_key())
            .col(c.timestamp("not_before").not_null());
        create_table(manager, not_before, vec![]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["session_revocations", "revoked_tokens"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // As in the core migration: atomic where DDL is transactional, rerunnable on MySQL.
        Some(true)
    }
}
