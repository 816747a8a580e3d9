//! The `passwords` table: at most one password hash (a PHC string) per user.

use sea_orm::entity::prelude::*;

/// A row of `passwords`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passwords")]
pub struct Model {
    /// The user the hash belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The Argon2id PHC string.
    pub password_hash: String,
    /// When the password was first set.
    pub created_at: DateTimeUtc,
    /// When it was last changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `passwords`.
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
