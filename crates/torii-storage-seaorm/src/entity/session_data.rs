//! The `session_data` table: the application's key/value session data
//! (`torii_core::session_store::SessionStore`), one row per id.

use sea_orm::entity::prelude::*;

/// A row of `session_data`. There is no foreign key to `users`: the data may belong to a visitor who is
/// not logged in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_data")]
pub struct Model {
    /// The application's id for the data. It may be a bearer secret (a cookie value): never log it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The keys and values, as a JSON object of strings.
    pub data: String,
    /// When the data stops being valid (`expires_at <= now` is expired).
    pub expires_at: DateTimeUtc,
    /// When the data was last saved.
    pub updated_at: DateTimeUtc,
}

/// `session_data` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
