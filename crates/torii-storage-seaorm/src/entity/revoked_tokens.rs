//! The `revoked_tokens` table: ids of stateless (JWT) session tokens revoked before their expiry.

use sea_orm::entity::prelude::*;

/// A row of `revoked_tokens`. There is deliberately no foreign key to `users`: a revoked token must stay
/// dead after its user is deleted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_tokens")]
pub struct Model {
    /// The token id (the JWT `jti`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_id: String,
    /// Whose token it was.
    pub user_id: String,
    /// When the token expires anyway; the entry may be deleted after that.
    pub expires_at: DateTimeUtc,
}

/// `revoked_tokens` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
