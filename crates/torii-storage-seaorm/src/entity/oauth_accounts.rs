//! The `oauth_accounts` table: links between users and identities at OAuth/OIDC providers.

use sea_orm::entity::prelude::*;

/// A row of `oauth_accounts`. The primary key is (provider, subject); (user_id, provider) is unique too.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_accounts")]
pub struct Model {
    /// Provider name, for example `google`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    /// The provider's stable subject identifier (compared exactly).
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// The linked user.
    pub user_id: String,
    /// The email the provider reported, for display.
    pub email: Option<String>,
    /// Whether the provider said that email was verified when the link was made.
    pub email_verified: bool,
    /// When the link was made.
    pub created_at: DateTimeUtc,
    /// When it was last used or changed.
    pub updated_at: DateTimeUtc,
}

/// Relations of `oauth_accounts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The linked user (the link is deleted with it).
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
