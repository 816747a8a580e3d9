//! Application key/value session data (`torii_core::session_store::SessionStore`): a cart, a locale, the
//! step of a wizard, under an id the application chooses.
//!
//! No foreign key to `users`: the data may belong to a visitor who is not logged in.

use sea_orm::DbErr;
use sea_orm::sea_query::Table;
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, SHORT, create_table, drop_tables, index};

/// Creates `session_data`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000005_session_data"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());
        let mut data = Table::create();
        data.table("session_data")
            // The application's id for the data; it may be a bearer secret, so it is never logged.
            .col(c.varchar("id", SHORT).not_null().primary_key())
            // The keys and values, as a JSON object of strings (`MEDIUMTEXT` on MySQL: a cart can grow).
            .col(c.long_text("data").not_null())
            .col(c.timestamp("expires_at").not_null())
            .col(c.timestamp("updated_at").not_null());
        let indexes = vec![index("idx_session_data_expires_at", "session_data", &["expires_at"])];
        create_table(manager, data, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["session_data"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // As in the core migration: atomic where DDL is transactional, rerunnable on MySQL.
        Some(true)
    }
}
