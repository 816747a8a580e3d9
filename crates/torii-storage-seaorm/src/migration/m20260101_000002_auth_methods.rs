//! Tables for the other authentication methods: OAuth/OIDC accounts and flow state, passkeys and
//! ceremony challenges, and single-use email tokens (magic links, email verification, password reset).

use sea_orm::DbErr;
use sea_orm::sea_query::{Index, Table};
use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::schema::{CREDENTIAL_ID, Columns, HASH, NAME, SHORT, create_table, drop_tables, index, references_user};

/// Creates `oauth_accounts`, `oauth_states`, `passkeys`, `passkey_challenges` and `one_time_tokens`.
pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000002_auth_methods"
    }
}

#[async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let c = Columns::new(manager.get_database_backend());

        let mut oauth_accounts = Table::create();
        oauth_accounts
            .table("oauth_accounts")
            .col(c.varchar("provider", SHORT).not_null())
            .col(c.varchar("subject", SHORT).not_null())
            .col(c.varchar("user_id", SHORT).not_null())
            .col(c.text("email").null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("updated_at").not_null())
            .primary_key(Index::create().col("provider").col("subject"))
            .index(Index::create().name("uq_oauth_accounts_user_provider").col("user_id").col("provider").unique())
            .foreign_key(&mut references_user("oauth_accounts", "user_id"));
        create_table(manager, oauth_accounts, vec![]).await?;

        let mut oauth_states = Table::create();
        oauth_states
            .table("oauth_states")
            // SHA-256 (hex) of the OAuth `state` parameter.
            .col(c.varchar("state_hash", HASH).not_null().primary_key())
            .col(c.varchar("provider", SHORT).not_null())
            .col(c.text("pkce_verifier").not_null())
            .col(c.text("nonce").null())
            .col(c.text("redirect_to").null())
            .col(c.varchar("link_user_id", SHORT).null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("expires_at").not_null())
            .foreign_key(&mut references_user("oauth_states", "link_user_id"));
        let indexes = vec![index("idx_oauth_states_expires_at", "oauth_states", &["expires_at"])];
        create_table(manager, oauth_states, indexes).await?;

        let mut passkeys = Table::create();
        passkeys
            .table("passkeys")
            .col(c.varchar("credential_id", CREDENTIAL_ID).not_null().primary_key())
            .col(c.varchar("user_id", SHORT).not_null())
            .col(c.text("name").not_null())
            .col(c.long_text("data").not_null())
            .col(c.big_integer("sign_count").not_null())
            .col(c.boolean("backup_eligible").not_null())
            .col(c.boolean("backup_state").not_null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("last_used_at").null())
            .foreign_key(&mut references_user("passkeys", "user_id"));
        let indexes = vec![index("idx_passkeys_user_id", "passkeys", &["user_id"])];
        create_table(manager, passkeys, indexes).await?;

        let mut challenges = Table::create();
        challenges
            .table("passkey_challenges")
            .col(c.varchar("id", SHORT).not_null().primary_key())
            .col(c.varchar("kind", NAME).not_null())
            .col(c.varchar("user_id", SHORT).null())
            .col(c.text("email").null())
            .col(c.long_text("state").not_null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("expires_at").not_null())
            .foreign_key(&mut references_user("passkey_challenges", "user_id"));
        let indexes = vec![index("idx_passkey_challenges_expires_at", "passkey_challenges", &["expires_at"])];
        create_table(manager, challenges, indexes).await?;

        let mut tokens = Table::create();
        tokens
            .table("one_time_tokens")
            // SHA-256 (hex) of the token. The token itself is never stored.
            .col(c.varchar("token_hash", HASH).not_null().primary_key())
            .col(c.varchar("purpose", NAME).not_null())
            .col(c.varchar("email", SHORT).not_null())
            .col(c.varchar("email_normalized", SHORT).not_null())
            .col(c.varchar("user_id", SHORT).null())
            .col(c.timestamp("created_at").not_null())
            .col(c.timestamp("expires_at").not_null())
            .col(c.timestamp("used_at").null())
            .foreign_key(&mut references_user("one_time_tokens", "user_id"));
        let indexes = vec![
            index("idx_one_time_tokens_email", "one_time_tokens", &["email_normalized", "purpose"]),
            index("idx_one_time_tokens_expires_at", "one_time_tokens", &["expires_at"]),
        ];
        create_table(manager, tokens, indexes).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["one_time_tokens", "passkey_challenges", "passkeys", "oauth_states", "oauth_accounts"])
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        // As in the core migration: atomic where DDL is transactional, rerunnable on MySQL.
        Some(true)
    }
}
