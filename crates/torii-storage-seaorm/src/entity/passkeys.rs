//! The `passkeys` table: registered WebAuthn credentials.

use sea_orm::entity::prelude::*;

/// A row of `passkeys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    /// The credential id (base64url), unique across all users.
    #[sea_orm(primary_key, auto_increment = false)]
    pub credential_id: String,
    /// Whose credential it is.
    pub user_id: String,
    /// A name the user chose.
    pub name: String,
    /// The serialized public-key credential.
    pub data: String,
    /// Signature counter last seen (a `u32`, stored as a 64-bit integer because PostgreSQL has no
    /// unsigned types).
    pub sign_count: i64,
    /// Whether the credential may be synced between devices.
    pub backup_eligible: bool,
    /// Whether it currently is backed up.
    pub backup_state: bool,
    /// When it was registered.
    pub created_at: DateTimeUtc,
    /// When it was last used to log in.
    pub last_used_at: Option<DateTimeUtc>,
}

/// Relations of `passkeys`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owning user (deleted with it).
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
