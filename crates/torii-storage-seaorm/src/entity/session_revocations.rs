//! The `session_revocations` table: per-user "not before" times ("log out everywhere" for stateless
//! sessions).

use sea_orm::entity::prelude::*;

/// A row of `session_revocations`. No foreign key to `users`, as for `revoked_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_revocations")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// Every token of the user issued before this time is revoked.
    pub not_before: DateTimeUtc,
}

/// `session_revocations` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
