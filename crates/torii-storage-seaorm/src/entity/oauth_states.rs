//! The `oauth_states` table: authorization-code flows between the redirect and the callback.

use sea_orm::entity::prelude::*;

/// A row of `oauth_states`.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    /// SHA-256 (hex) of the OAuth `state` parameter.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    /// The provider the flow was started with.
    pub provider: String,
    /// PKCE code verifier (a secret until the code is exchanged).
    pub pkce_verifier: String,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// Where to send the browser afterwards.
    pub redirect_to: Option<String>,
    /// The logged-in user starting a "link this provider" flow.
    pub link_user_id: Option<String>,
    /// When the flow started.
    pub created_at: DateTimeUtc,
    /// When the state stops being accepted.
    pub expires_at: DateTimeUtc,
}

// The verifier and nonce are secrets while the flow is in progress: keep them out of logs.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("provider", &self.provider)
            .field("redirect_to", &self.redirect_to)
            .field("link_user_id", &self.link_user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Relations of `oauth_states`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user linking a provider, if any (the flow is deleted with it).
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::LinkUserId",
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
