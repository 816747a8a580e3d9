//! The `rate_limits` table: hit counters per key and epoch-aligned window (decided as a sliding window)
//! (`torii_core::storage::RateLimitStorage`).

use sea_orm::entity::prelude::*;

/// A row of `rate_limits`: the hits of one key in one window. No foreign key to `users`: keys name
/// anything (an address, an IP).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rate_limits")]
pub struct Model {
    /// SHA-256 (hex) of the caller's key; the key itself is not stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    /// When the window started.
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_start: DateTimeUtc,
    /// Hits counted in the window, refused ones included.
    pub hits: i64,
    /// When the window ends; the row may be deleted after that.
    pub expires_at: DateTimeUtc,
}

/// `rate_limits` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
