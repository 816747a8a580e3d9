//! The `users` table: one row per account.

use sea_orm::entity::prelude::*;

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// The user id (opaque text chosen by Torii or the application).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Email address as the user typed it (trimmed).
    pub email: String,
    /// `torii_core::email::normalize_email` of `email`: the case-insensitive uniqueness key.
    #[sea_orm(unique)]
    pub email_normalized: String,
    /// When the email address was verified.
    pub email_verified_at: Option<DateTimeUtc>,
    /// When the account was created.
    pub created_at: DateTimeUtc,
    /// When the account was last changed.
    pub updated_at: DateTimeUtc,
}

/// `users` is the parent of every other table; the children name it in their own relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
