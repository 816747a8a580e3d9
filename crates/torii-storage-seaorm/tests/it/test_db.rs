//! The backend the tests run against: a provider plus whatever must be cleaned up after it (a temporary
//! directory, or a server database that is dropped).

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::session_store::{self, SessionData, SessionStore};
use torii_core::storage::{
    AuditEvent, AuditLogStorage, CeremonyKind, DroppedCredentials, MagicLinkStorage, OAuthAccount, OAuthState,
    OAuthStorage, OneTimeToken, PasskeyChallenge, PasskeyCredential, PasskeyStorage, PasswordStorage,
    RateLimitDecision, RateLimitStorage, RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse, SessionStorage,
    TokenPurpose, TokenRevocationStorage, UserStorage,
};
use torii_core::{ChallengeId, NewUser, SessionId, SessionRecord, StorageResult, TokenHash, User, UserId};
use torii_storage_seaorm::SeaORMRepositoryProvider;

use crate::server::ServerDatabase;

/// What a test database leaves behind until it is dropped.
pub(crate) enum Cleanup {
    /// A SQLite file's directory, removed on drop.
    Directory(#[allow(dead_code)] tempfile::TempDir),
    /// A database on a server, dropped on drop.
    Server(#[allow(dead_code)] ServerDatabase),
}

/// A fresh, migrated database for one test. Fields drop in order: the provider's pool first, then the
/// database itself.
pub(crate) struct TestDb {
    pub(crate) provider: SeaORMRepositoryProvider,
    _cleanup: Cleanup,
}

impl TestDb {
    pub(crate) fn new(provider: SeaORMRepositoryProvider, cleanup: Cleanup) -> Self {
        Self { provider, _cleanup: cleanup }
    }
}

/// Implements a storage trait for [`TestDb`] by calling the provider's implementation.
macro_rules! delegate {
    ($trait:ident { $(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)* }) => {
        impl $trait for TestDb {
            $(
                fn $name(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send {
                    self.provider.$name($($arg),*)
                }
            )*
        }
    };
}

delegate!(UserStorage {
    fn create_user(&self, user: &NewUser) -> StorageResult<User>;
    fn get_user(&self, id: &UserId) -> StorageResult<Option<User>>;
    fn get_user_by_email(&self, email: &str) -> StorageResult<Option<User>>;
    fn update_user(&self, user: &User) -> StorageResult<User>;
    fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<bool>;
    fn prove_email(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<Option<DroppedCredentials>>;
    fn delete_user(&self, id: &UserId) -> StorageResult<bool>;
});

delegate!(PasswordStorage {
    fn create_user_with_password(&self, user: &NewUser, password_hash: &str) -> StorageResult<User>;
    fn set_password_hash(&self, user_id: &UserId, hash: &str) -> StorageResult<()>;
    fn get_password_hash(&self, user_id: &UserId) -> StorageResult<Option<String>>;
    fn remove_password_hash(&self, user_id: &UserId) -> StorageResult<bool>;
});

delegate!(SessionStorage {
    fn create_session(&self, session: &SessionRecord) -> StorageResult<()>;
    fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>>;
    fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool>;
    fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>>;
    fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool>;
    fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool>;
    fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64>;
    fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

delegate!(OAuthStorage {
    fn create_oauth_account(&self, account: &OAuthAccount) -> StorageResult<()>;
    fn get_oauth_account(&self, provider: &str, subject: &str) -> StorageResult<Option<OAuthAccount>>;
    fn list_oauth_accounts(&self, user_id: &UserId) -> StorageResult<Vec<OAuthAccount>>;
    fn delete_oauth_account(&self, user_id: &UserId, provider: &str) -> StorageResult<bool>;
    fn store_oauth_state(&self, state: &OAuthState) -> StorageResult<()>;
    fn consume_oauth_state(&self, state_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<OAuthState>>;
});

delegate!(PasskeyStorage {
    fn create_passkey(&self, credential: &PasskeyCredential) -> StorageResult<()>;
    fn get_passkey(&self, credential_id: &str) -> StorageResult<Option<PasskeyCredential>>;
    fn list_passkeys(&self, user_id: &UserId) -> StorageResult<Vec<PasskeyCredential>>;
    fn update_passkey_usage(
        &self,
        credential_id: &str,
        data: &str,
        sign_count: u32,
        backup_state: bool,
        used_at: DateTime<Utc>
    ) -> StorageResult<bool>;
    fn rename_passkey(&self, user_id: &UserId, credential_id: &str, name: &str) -> StorageResult<bool>;
    fn delete_passkey(&self, user_id: &UserId, credential_id: &str) -> StorageResult<bool>;
    fn store_challenge(&self, challenge: &PasskeyChallenge) -> StorageResult<()>;
    fn consume_challenge(
        &self,
        id: &ChallengeId,
        kind: CeremonyKind,
        now: DateTime<Utc>
    ) -> StorageResult<Option<PasskeyChallenge>>;
});

delegate!(MagicLinkStorage {
    fn create_token(&self, token: &OneTimeToken) -> StorageResult<()>;
    fn consume_token(
        &self,
        token_hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>
    ) -> StorageResult<Option<OneTimeToken>>;
    fn invalidate_tokens(&self, email: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> StorageResult<u64>;
    fn cleanup_expired_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

delegate!(TokenRevocationStorage {
    fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()>;
    fn is_token_revoked(&self, token_id: &str, user_id: &UserId, issued_at: DateTime<Utc>) -> StorageResult<bool>;
    fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()>;
    fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>>;
    fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

delegate!(RefreshTokenStorage {
    fn create_refresh_token(&self, token: &RefreshTokenRecord) -> StorageResult<()>;
    fn use_refresh_token(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<RefreshTokenUse>;
    fn revoke_refresh_family(&self, family_id: &str, now: DateTime<Utc>) -> StorageResult<u64>;
    fn revoke_refresh_tokens_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<u64>;
    fn cleanup_expired_refresh_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

delegate!(RateLimitStorage {
    fn hit_rate_limit(&self, key: &str, now: DateTime<Utc>, window: TimeDelta, max: u32) -> StorageResult<RateLimitDecision>;
    fn reset_rate_limit(&self, key: &str) -> StorageResult<()>;
    fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

delegate!(AuditLogStorage {
    fn record_audit_event(&self, event: &AuditEvent) -> StorageResult<()>;
    fn list_audit_events_for_user(&self, user_id: &UserId, limit: u32) -> StorageResult<Vec<AuditEvent>>;
    fn delete_audit_events_before(&self, cutoff: DateTime<Utc>, batch_size: u32) -> StorageResult<u64>;
});

/// The application's key/value session data: a trait object trait, so delegated by hand.
#[torii_core::async_trait]
impl SessionStore for TestDb {
    async fn load(&self, session_id: &str) -> session_store::Result<Option<SessionData>> {
        self.provider.load(session_id).await
    }

    async fn save(&self, session_id: &str, data: SessionData) -> session_store::Result<()> {
        self.provider.save(session_id, data).await
    }

    async fn delete(&self, session_id: &str) -> session_store::Result<()> {
        self.provider.delete(session_id).await
    }

    async fn cleanup_expired(&self) -> session_store::Result<usize> {
        self.provider.cleanup_expired().await
    }

    fn is_healthy(&self) -> bool {
        self.provider.is_healthy()
    }
}
