//! The `passkey_challenges` table: WebAuthn ceremonies between their start and their completion.

use sea_orm::entity::prelude::*;

/// A row of `passkey_challenges`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkey_challenges")]
pub struct Model {
    /// Identifies the ceremony.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `registration` or `authentication` (`torii_core::storage::CeremonyKind::as_str`).
    pub kind: String,
    /// The user, when known at the start.
    pub user_id: Option<String>,
    /// The email the ceremony was started for.
    pub email: Option<String>,
    /// The WebAuthn library's serialized ceremony state.
    pub state: String,
    /// When it started.
    pub created_at: DateTimeUtc,
    /// When it stops being accepted.
    pub expires_at: DateTimeUtc,
}

/// Relations of `passkey_challenges`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user, if known (the ceremony is deleted with it).
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
