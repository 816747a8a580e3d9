//! The `sessions` table: server-side sessions, keyed by the SHA-256 of their token.

use sea_orm::entity::prelude::*;

/// A row of `sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 (hex) of the session token. The token itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// Public id, shown in device lists; not a credential.
    #[sea_orm(unique)]
    pub id: String,
    /// Whose session it is.
    pub user_id: String,
    /// User agent of the client that created the session.
    pub user_agent: Option<String>,
    /// IP address of the client that created the session.
    pub ip_address: Option<String>,
    /// When the session was created.
    pub created_at: DateTimeUtc,
    /// Last recorded activity.
    pub updated_at: DateTimeUtc,
    /// When the session stops being valid (`expires_at <= now` is expired).
    pub expires_at: DateTimeUtc,
}

/// Relations of `sessions`.
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
