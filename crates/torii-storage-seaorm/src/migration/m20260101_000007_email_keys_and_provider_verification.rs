//! Look-alike addresses and pre-account hijacking: the list of users whose email key `migrate()`
//! rewrites in Rust (keys are now NFKC-normalised, which SQL cannot compute), and whether a provider
//! vouched for the email of a link when it was made.

use sea_orm::sea_query::{Alias, Table};
use sea_orm::{ConnectionTrait as _, DbErr};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{Columns, SHORT, create_table, drop_tables, references_user};

/// Creates `email_key_backfill` (listing every existing user) and adds `oauth_accounts.email_verified`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000007_email_keys_and_provider_verification"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());

        // A user stays listed until `migrate()` has rewritten its key (see `crate::email_keys`).
        let mut backfill = Table::create();
        backfill
            .table("email_key_backfill")
            .col(c.varchar("user_id", SHORT).not_null().primary_key())
            .foreign_key(&mut references_user("email_key_backfill", "user_id"));
        create_table(manager, backfill, vec![]).await?;
        // Rerunnable (MySQL commits DDL as it goes): users already listed are not listed twice.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO email_key_backfill (user_id) SELECT id FROM users \
                 WHERE id NOT IN (SELECT user_id FROM email_key_backfill)",
            )
            .await?;

        // Whether the provider said the email was verified when the link was made (false for links
        // made before: unknown, so not counted as verified).
        if !manager.has_column("oauth_accounts", "email_verified").await? {
            let mut column = c.boolean("email_verified");
            column.not_null().default(false);
            manager
                .alter_table(Table::alter().table(Alias::new("oauth_accounts")).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Alias::new("oauth_accounts")).drop_column(Alias::new("email_verified")).to_owned(),
            )
            .await?;
        drop_tables(manager, &["email_key_backfill"]).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
