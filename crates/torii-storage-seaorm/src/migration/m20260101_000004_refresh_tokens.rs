//! Refresh tokens for access + refresh pairs (API and mobile clients).

use sea_orm::DbErr;
use sea_orm::sea_query::Table;
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, HASH, SHORT, create_table, drop_tables, index, references_user};

/// Creates `refresh_tokens`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000004_refresh_tokens"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());
        let mut tokens = Table::create();
        tokens
            .table("refresh_tokens")
            // SHA-256 (hex) of the refresh token. The token itself is never stored.
            .col(c.varchar("token_hash", HASH).not_null().primary_key())
            // Every token descending from one login; reuse of any of them revokes them all.
            .col(c.varchar("family_id", SHORT).not_null())
            .col(c.varchar("user_id", SHORT).not_null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("expires_at").not_null())
            .col(c.timestamp("used_at").null())
            .col(c.timestamp("revoked_at").null())
            .foreign_key(&mut references_user("refresh_tokens", "user_id"));
        let indexes = vec![
            index("idx_refresh_tokens_family_id", "refresh_tokens", &["family_id"]),
            index("idx_refresh_tokens_user_id", "refresh_tokens", &["user_id"]),
            index("idx_refresh_tokens_expires_at", "refresh_tokens", &["expires_at"]),
        ];
        create_table(manager, tokens, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["refresh_tokens"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // As in the core migration: atomic where DDL is transactional, rerunnable on MySQL.
        Some(true)
    }
}
