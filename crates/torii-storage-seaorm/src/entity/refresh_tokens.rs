//! The `refresh_tokens` table: refresh tokens of access + refresh pairs, stored as their SHA-256, with
//! rotation and reuse detection by family.

use sea_orm::entity::prelude::*;

/// A row of `refresh_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the refresh token. The token itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// Every token descending from one login; reuse of any of them revokes them all.
    pub family_id: String,
    /// Whose token it is.
    pub user_id: String,
    /// When it was issued.
    pub created_at: DateTimeUtc,
    /// When it stops being valid.
    pub expires_at: DateTimeUtc,
    /// When it was exchanged for a new pair.
    pub used_at: Option<DateTimeUtc>,
    /// When its family was revoked.
    pub revoked_at: Option<DateTimeUtc>,
}

/// Relations of `refresh_tokens`.
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
