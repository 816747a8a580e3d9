//! Core tables: users, password hashes, sessions.

use sea_orm::DbErr;
use sea_orm::sea_query::{Index, Table};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, HASH, SHORT, create_table, drop_tables, index, references_user};

/// Creates `users`, `passwords` and `sessions`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000001_core"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());

        let mut users = Table::create();
        users
            .table("users")
            .col(c.varchar("id", SHORT).not_null().primary_key())
            .col(c.text("name").null())
            .col(c.varchar("email", SHORT).not_null())
            // Lower-cased email, computed by Torii; the uniqueness key, so emails are unique ignoring case.
            .col(c.varchar("email_normalized", SHORT).not_null())
            .col(c.timestamp("email_verified_at").null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("updated_at").not_null())
            .index(Index::create().name("uq_users_email_normalized").col("email_normalized").unique());
        create_table(manager, users, vec![]).await?;

        let mut passwords = Table::create();
        passwords
            .table("passwords")
            .col(c.varchar("user_id", SHORT).not_null().primary_key())
            .col(c.text("password_hash").not_null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("updated_at").not_null())
            .foreign_key(&mut references_user("passwords", "user_id"));
        create_table(manager, passwords, vec![]).await?;

        let mut sessions = Table::create();
        sessions
            .table("sessions")
            // SHA-256 (hex) of the session token. The token itself is never stored.
            .col(c.varchar("token_hash", HASH).not_null().primary_key())
            // Public id, shown in device lists; not a credential.
            .col(c.varchar("id", SHORT).not_null())
            .col(c.varchar("user_id", SHORT).not_null())
            .col(c.text("user_agent").null())
            .col(c.text("ip_address").null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("updated_at").not_null())
            .col(c.timestamp("expires_at").not_null())
            .index(Index::create().name("uq_sessions_id").col("id").unique())
            .foreign_key(&mut references_user("sessions", "user_id"));
        let indexes = vec![
            index("idx_sessions_user_id", "sessions", &["user_id"]),
            index("idx_sessions_expires_at", "sessions", &["expires_at"]),
        ];
        create_table(manager, sessions, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["sessions", "passwords", "users"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        // PostgreSQL and SQLite roll back a failed migration entirely. MySQL commits each DDL statement
        // on its own; there every statement is `IF NOT EXISTS`, so rerunning finishes the job.
        Some(true)
    }
}
