//! The `audit_events` table: security events per account (`torii_core::storage::AuditLogStorage`).

use sea_orm::entity::prelude::*;

/// A row of `audit_events`. There is deliberately no foreign key to `users`: events stay when their user
/// is deleted. Events never contain secrets.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// The event's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The account concerned, if any.
    pub user_id: Option<String>,
    /// What happened: a short dotted name such as `login.failed`.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTimeUtc,
    /// The client's IP address, if known.
    pub ip_address: Option<String>,
    /// The client's user agent, if known.
    pub user_agent: Option<String>,
    /// Anything else, as JSON text.
    pub detail: String,
}

/// `audit_events` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
