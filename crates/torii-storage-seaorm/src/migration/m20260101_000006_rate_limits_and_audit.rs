//! Rate-limit counters and the audit log of security events.
//!
//! No foreign keys to `users`: counters are keyed by anything (an address, an IP), and audit events stay
//! when their user is deleted.

use sea_orm::DbErr;
use sea_orm::sea_query::{Index, Table};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, HASH, SHORT, create_table, drop_tables, index};

/// The longest audit event kind (`torii_core::storage::MAX_AUDIT_KIND_LEN`).
const KIND: u32 = 64;

/// Creates `rate_limits` and `audit_events`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000006_rate_limits_and_audit"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());

        // One counter per key hash and fixed window.
        let mut limits = Table::create();
        limits
            .table("rate_limits")
            .col(c.varchar("key_hash", HASH).not_null())
            .col(c.timestamp("window_start").not_null())
            .col(c.big_integer("hits").not_null())
            .col(c.timestamp("expires_at").not_null())
            .primary_key(Index::create().col("key_hash").col("window_start"));
        let indexes = vec![index("idx_rate_limits_expires_at", "rate_limits", &["expires_at"])];
        create_table(manager, limits, indexes).await?;

        // Security events; `detail` is JSON text (`MEDIUMTEXT` on MySQL).
        let mut events = Table::create();
        events
            .table("audit_events")
            .col(c.varchar("id", SHORT).not_null().primary_key())
            .col(c.varchar("user_id", SHORT).null())
            .col(c.varchar("kind", KIND).not_null())
            .col(c.timestamp("occurred_at").not_null())
            .col(c.text("ip_address").null())
            .col(c.text("user_agent").null())
            .col(c.long_text("detail").not_null());
        let indexes = vec![
            index("idx_audit_events_user_id", "audit_events", &["user_id", "occurred_at"]),
            index("idx_audit_events_occurred_at", "audit_events", &["occurred_at"]),
        ];
        create_table(manager, events, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["audit_events", "rate_limits"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // As in the core migration: atomic where DDL is transactional, rerunnable on MySQL.
        Some(true)
    }
}
