//! The names of the keys this crate writes, all under one prefix.
//!
//! The Lua scripts in `lua/` derive some of the same names from the prefix (for the index entries of a
//! session they only learn about while running), so a change here must be mirrored there; the
//! integration tests check that deleting sessions leaves no key behind, which catches a mismatch.
//!
//! Every variable part is the last component of its key or sits between two fixed components, and no
//! fixed part is a prefix of another (`session:` / `session_id:` / `sessions:`, `revoked:` /
//! `revoked_tokens:`, `rate_limit:` / `rate_limits:`), so distinct ids can never name the same key,
//! whatever characters they contain.

use std::sync::Arc;

use torii_core::{SessionId, TokenHash, UserId};

/// Builds key names under a prefix. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: Arc<str>,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self { prefix: Arc::from(prefix) }
    }

    /// The prefix, which the scripts need to derive keys themselves.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hash holding one session's fields.
    pub(crate) fn session(&self, token_hash: &TokenHash) -> String {
        format!("{}session:{}", self.prefix, token_hash.as_str())
    }

    /// The string mapping a public session id to its token hash.
    pub(crate) fn session_id(&self, id: &SessionId) -> String {
        format!("{}session_id:{}", self.prefix, id.as_str())
    }

    /// The sorted set of a user's token hashes, scored by creation time.
    pub(crate) fn user_sessions(&self, user_id: &UserId) -> String {
        format!("{}user:{}:sessions", self.prefix, user_id.as_str())
    }

    /// The sorted set of every session's token hash, scored by expiry time.
    pub(crate) fn sessions_by_expiry(&self) -> String {
        format!("{}sessions:by_expiry", self.prefix)
    }

    /// The denylist entry of a JWT id.
    pub(crate) fn revoked(&self, token_id: &str) -> String {
        format!("{}revoked:{token_id}", self.prefix)
    }

    /// The sorted set of denylisted JWT ids, scored by the expiry of their tokens.
    pub(crate) fn revoked_by_expiry(&self) -> String {
        format!("{}revoked_tokens:by_expiry", self.prefix)
    }

    /// A user's "not before" time.
    pub(crate) fn not_before(&self, user_id: &UserId) -> String {
        format!("{}not_before:{}", self.prefix, user_id.as_str())
    }

    /// The counter of a rate-limit key (by the key's hash): its current window and hits.
    pub(crate) fn rate_limit(&self, key_hash: &str) -> String {
        format!("{}rate_limit:{key_hash}", self.prefix)
    }

    /// The sorted set of rate-limit key hashes, scored by the end of their current window.
    pub(crate) fn rate_limits_by_expiry(&self) -> String {
        format!("{}rate_limits:by_expiry", self.prefix)
    }

    /// The application's key/value session data stored under `id`.
    pub(crate) fn data(&self, id: &str) -> String {
        format!("{}data:{id}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_layout() {
        let keys = Keys::new("torii:");
        let hash = TokenHash::from_stored("ab12");
        assert_eq!(keys.session(&hash), "torii:session:ab12");
        assert_eq!(keys.session_id(&SessionId::new("s1")), "torii:session_id:s1");
        assert_eq!(keys.user_sessions(&UserId::new("u1")), "torii:user:u1:sessions");
        assert_eq!(keys.sessions_by_expiry(), "torii:sessions:by_expiry");
        assert_eq!(keys.revoked("jti"), "torii:revoked:jti");
        assert_eq!(keys.revoked_by_expiry(), "torii:revoked_tokens:by_expiry");
        assert_eq!(keys.not_before(&UserId::new("u1")), "torii:not_before:u1");
        assert_eq!(keys.data("visitor-1"), "torii:data:visitor-1");
        assert_eq!(keys.rate_limit("ab12"), "torii:rate_limit:ab12");
        assert_eq!(keys.rate_limits_by_expiry(), "torii:rate_limits:by_expiry");
    }

    #[test]
    fn awkward_ids_cannot_reach_other_keys() {
        let keys = Keys::new("p:");
        // A token id that spells the index's suffix still names a denylist entry.
        assert_ne!(keys.revoked("tokens:by_expiry"), keys.revoked_by_expiry());
        assert_ne!(keys.revoked("_tokens:by_expiry"), keys.revoked_by_expiry());
        // A user id that contains the user-set suffix names a different user.
        assert_ne!(keys.user_sessions(&UserId::new("a:sessions")), keys.user_sessions(&UserId::new("a")));
    }
}
