//! The `one_time_tokens` table: single-use email tokens (magic links, email verification, password
//! reset), stored as their SHA-256.

use sea_orm::entity::prelude::*;

/// A row of `one_time_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the token. The token itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// `magic_link`, `email_verification` or `password_reset` (`TokenPurpose::as_str`).
    pub purpose: String,
    /// The address the token was sent to, as given.
    pub email: String,
    /// `torii_core::email::normalize_email` of `email`, for matching.
    pub email_normalized: String,
    /// The user it belongs to, when the account already existed.
    pub user_id: Option<String>,
    /// When it was issued.
    pub created_at: DateTimeUtc,
    /// When it stops being valid.
    pub expires_at: DateTimeUtc,
    /// When it was used or voided.
    pub used_at: Option<DateTimeUtc>,
}

/// Relations of `one_time_tokens`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user, if known (the token is deleted with it).
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
