//! The [`Torii`] coordinator.

use std::sync::Arc;

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};

use crate::audit::{AuthMethod, method_detail};
use crate::clock::{Clock, SystemClock};
use crate::email::validate_email;
use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::jwt::{JwtConfig, JwtSessionManager};
use crate::managers::{ClientContext, DefaultUserManager, OpaqueSessionManager, SessionManager, UserManager};
use crate::password::{PasswordHasher, PasswordPolicy, normalize_password};
use crate::policy::SessionPolicy;
use crate::session::SessionProviderType;
use crate::session::{Session, SessionConfig, SessionRecord, SessionToken};
use crate::split::{NoStorage, SplitStorage};
use crate::storage::{
    AuditEventKind, AuditLogStorage, PasswordStorage, RateLimitStorage, SessionStorage, TokenRevocationStorage,
    UserStorage,
};
use crate::throttle::{DeviceKey, DeviceToken, PasswordLogin, Subject, ThrottlePolicy};
use crate::user::{NewUser, User};

/// Timestamps are kept to the microsecond, the finest precision every supported database stores, so a
/// value written and read back compares equal.
pub(crate) fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// The coordinator: registers users, logs them in, and issues, validates and revokes sessions.
///
/// `S` is the storage. `Torii<S>` puts no bound on `S`; each group of methods asks only for the storage
/// traits it uses, so a function can take `&Torii<impl RepositoryProvider>` or
/// `&Torii<impl UserStorage + MagicLinkStorage>` alike. Cloning is cheap (shared handles).
///
/// ```
/// # async fn demo<R>(repositories: std::sync::Arc<R>) -> Result<(), torii_core::ToriiError>
/// # where R: torii_core::RepositoryProvider + torii_core::storage::TokenRevocationStorage {
/// use torii_core::{SessionConfig, Torii};
///
/// let torii = Torii::new(repositories).with_session_config(SessionConfig::default().expires_in(chrono::Duration::days(7)));
/// let user = torii.register_user_with_password("ada@example.com", "analytical engine 1843").await?;
/// let (_, session) = torii.login_user_with_password("ada@example.com", "analytical engine 1843", None, None).await?;
/// assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
/// # Ok(()) }
/// ```
pub struct Torii<S> {
    storage: Arc<S>,
    user_manager: Arc<dyn UserManager>,
    /// The session manager: issues, validates and revokes sessions. Public so the documented
    /// `torii.session_service.cleanup_expired_sessions()` works.
    pub session_service: Arc<dyn SessionManager>,
    custom_session_manager: bool,
    session_config: SessionConfig,
    session_policy: SessionPolicy,
    password_hasher: PasswordHasher,
    password_policy: PasswordPolicy,
    require_verified_email: bool,
    clock: Arc<dyn Clock>,
    /// The guessing limits (see [`crate::throttle`]).
    pub(crate) throttle: Arc<ThrottlePolicy>,
    /// The key device cookies are signed with.
    pub(crate) device_key: DeviceKey,
    /// Identity providers and the linking policy (see [`crate::oauth`]).
    pub(crate) oauth: crate::oauth::OAuthSettings,
    /// The WebAuthn relying party, once configured with `with_passkeys` (see [`crate::passkey`]).
    #[cfg(feature = "passkey")]
    pub(crate) passkeys: Option<Arc<crate::passkey::PasskeyService>>,
    /// Where security events go (see [`crate::audit`]).
    pub(crate) auditor: crate::audit::Auditor,
    /// Settings of integrations (see [`Torii::extensions`]); shared by every clone.
    extensions: Arc<crate::extensions::Extensions>,
}

impl<S> Clone for Torii<S> {
    fn clone(&self) -> Self {
        Self {
            storage: Arc::clone(&self.storage),
            user_manager: Arc::clone(&self.user_manager),
            session_service: Arc::clone(&self.session_service),
            custom_session_manager: self.custom_session_manager,
            session_config: self.session_config.clone(),
            session_policy: self.session_policy.clone(),
            password_hasher: self.password_hasher.clone(),
            password_policy: self.password_policy.clone(),
            require_verified_email: self.require_verified_email,
            clock: Arc::clone(&self.clock),
            throttle: Arc::clone(&self.throttle),
            device_key: self.device_key.clone(),
            oauth: self.oauth.clone(),
            #[cfg(feature = "passkey")]
            passkeys: self.passkeys.clone(),
            auditor: self.auditor.clone(),
            extensions: Arc::clone(&self.extensions),
        }
    }
}

impl<S> std::fmt::Debug for Torii<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Torii")
            .field("session_config", &self.session_config)
            .field("password_policy", &self.password_policy)
            .finish_non_exhaustive()
    }
}

impl<S: UserStorage + SessionStorage + AuditLogStorage> Torii<S> {
    /// A coordinator over one storage for users and sessions, with opaque 30-day sessions, the default
    /// password policy and Argon2id at OWASP parameters. Security events are written to the same
    /// storage's audit log (see [`crate::audit`]).
    pub fn new(storage: Arc<S>) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let session_config = SessionConfig::default();
        Self {
            user_manager: Arc::new(DefaultUserManager::new(Arc::clone(&storage))),
            session_service: Arc::new(OpaqueSessionManager::new(
                Arc::clone(&storage),
                session_config.clone(),
                Arc::clone(&clock),
            )),
            auditor: crate::audit::Auditor::with_storage(Arc::clone(&storage)),
            storage,
            custom_session_manager: false,
            session_config,
            session_policy: SessionPolicy::default(),
            password_hasher: PasswordHasher::default(),
            password_policy: PasswordPolicy::default(),
            require_verified_email: false,
            clock,
            throttle: Arc::new(ThrottlePolicy::default()),
            device_key: DeviceKey::random(),
            oauth: crate::oauth::OAuthSettings::default(),
            #[cfg(feature = "passkey")]
            passkeys: None,
            extensions: Arc::default(),
        }
    }
}

impl<U: UserStorage + AuditLogStorage, T: SessionStorage> Torii<SplitStorage<U, T>> {
    /// A coordinator that keeps users in one storage and sessions in another (for example users in
    /// PostgreSQL and sessions in Redis). Security events go to the user storage's audit log.
    pub fn with_storages(user_storage: Arc<U>, session_storage: Arc<T>) -> Self {
        Torii::new(Arc::new(SplitStorage::new(user_storage, session_storage)))
    }

    /// Like [`Torii::with_storages`], with your own user and session managers in place of the built-in
    /// ones.
    pub fn with_managers(
        user_storage: Arc<U>,
        session_storage: Arc<T>,
        user_manager: Arc<dyn UserManager>,
        session_manager: Arc<dyn SessionManager>,
    ) -> Self {
        let mut torii = Self::with_storages(user_storage, session_storage);
        torii.user_manager = user_manager;
        torii.session_service = session_manager;
        torii.custom_session_manager = true;
        torii
    }
}

impl Torii<NoStorage> {
    /// A coordinator without storage of its own: every user and session operation goes to your
    /// managers. Password login is not available (it needs [`PasswordStorage`]).
    pub fn with_custom_managers(user_manager: Arc<dyn UserManager>, session_manager: Arc<dyn SessionManager>) -> Self {
        Self {
            storage: Arc::new(NoStorage),
            user_manager,
            session_service: session_manager,
            custom_session_manager: true,
            session_config: SessionConfig::default(),
            session_policy: SessionPolicy::default(),
            password_hasher: PasswordHasher::default(),
            password_policy: PasswordPolicy::default(),
            require_verified_email: false,
            clock: Arc::new(SystemClock),
            throttle: Arc::new(ThrottlePolicy::default()),
            device_key: DeviceKey::random(),
            oauth: crate::oauth::OAuthSettings::default(),
            #[cfg(feature = "passkey")]
            passkeys: None,
            auditor: crate::audit::Auditor::default(),
            extensions: Arc::default(),
        }
    }
}

impl<S: SessionStorage + TokenRevocationStorage> Torii<S> {
    /// Sets how sessions are issued. This installs the built-in session manager for the configured
    /// provider type (replacing a custom one). An unusable JWT key is logged here, at start-up; every
    /// session operation then fails with [`ToriiError::ConfigError`] until it is fixed.
    pub fn with_session_config(mut self, config: SessionConfig) -> Self {
        if let SessionProviderType::Jwt(jwt) = &config.provider_type
            && let Err(err) = jwt.validate()
        {
            tracing::error!(error = %err, "JWT session configuration is unusable: sessions cannot be created or verified");
        }
        self.session_config = config;
        self.custom_session_manager = false;
        self.rebuild_session_manager();
        self
    }

    /// Issues JWT sessions signed with this configuration (keeping the configured lifetime).
    pub fn with_jwt_sessions(self, config: JwtConfig) -> Self {
        let session_config = self.session_config.clone().with_jwt(config);
        self.with_session_config(session_config)
    }

    /// Sets the session policy (idle and absolute timeouts, client binding, per-user limits, freshness,
    /// cleanup batch size) and installs the built-in session manager with it.
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.session_policy = policy;
        self.custom_session_manager = false;
        self.rebuild_session_manager();
        self
    }

    /// Replaces the clock (for tests of expiry: see [`crate::ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self.rebuild_session_manager();
        self
    }

    fn rebuild_session_manager(&mut self) {
        if self.custom_session_manager {
            return;
        }
        self.session_service = match &self.session_config.provider_type {
            SessionProviderType::Jwt(jwt) => Arc::new(JwtSessionManager::new(
                Arc::clone(&self.storage),
                jwt.clone(),
                self.session_config.expires_in,
                Arc::clone(&self.clock),
            )),
            _ => Arc::new(OpaqueSessionManager::with_policy(
                Arc::clone(&self.storage),
                self.session_config.clone(),
                self.session_policy.clone(),
                Arc::clone(&self.clock),
            )),
        };
    }
}

impl<S> Torii<S> {
    /// Sets the policy new passwords must satisfy.
    pub fn with_password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.password_policy = policy;
        self
    }

    /// When on, password login is refused with [`ToriiError::EmailNotVerified`] until the account's
    /// address is verified (off by default). The refusal comes only after the password was checked, so
    /// a wrong password still gets [`ToriiError::InvalidCredentials`] and the answer reveals nothing
    /// about an account to someone who does not know its password. Following a magic link or a
    /// password reset link proves the address too, and marks it verified.
    pub fn require_verified_email(mut self, on: bool) -> Self {
        self.require_verified_email = on;
        self
    }

    /// Whether password login requires a verified address (see [`Torii::require_verified_email`]).
    pub fn requires_verified_email(&self) -> bool {
        self.require_verified_email
    }

    /// Sets the password hasher (for example with stronger Argon2id parameters; existing hashes are
    /// upgraded at each user's next login).
    pub fn with_password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.password_hasher = hasher;
        self
    }

    /// Settings an integration attached to this coordinator so all its parts read the same value (for
    /// example the session cookie configuration of `torii-axum`, which its routes and extractors share).
    /// Every clone of the coordinator shares them.
    pub fn extensions(&self) -> &crate::extensions::Extensions {
        &self.extensions
    }

    /// The storage this coordinator uses.
    pub fn storage(&self) -> &Arc<S> {
        &self.storage
    }

    /// The session configuration.
    pub fn session_config(&self) -> &SessionConfig {
        &self.session_config
    }

    /// The password policy.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }

    /// The current time by this coordinator's clock, to the microsecond.
    pub fn now(&self) -> DateTime<Utc> {
        truncate_to_micros(self.clock.now())
    }

    /// The user with this id, or `None`.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn get_user(&self, user_id: &UserId) -> Result<Option<User>, ToriiError> {
        self.user_manager.get_user(user_id).await
    }

    /// The user with this email address (ignoring case), or `None`.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn get_user_by_email(&self, email: &str) -> Result<Option<User>, ToriiError> {
        self.user_manager.get_user_by_email(email).await
    }

    /// Deletes a user with all their sessions and credentials. Returns false when there was no such user.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<bool, ToriiError> {
        // Revoke first: stateless (JWT) sessions are not rows that a cascade could remove, and a
        // deleted user's tokens must stop working at once.
        self.session_service.delete_sessions_for_user(user_id, None).await?;
        self.user_manager.delete_user(user_id).await
    }

    /// Issues a new session for the user.
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`] when the user does not exist; a storage failure.
    pub async fn create_session(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<Session, ToriiError> {
        self.session_service.create_session(user_id, user_agent, ip_address).await
    }

    /// Validates a session token and returns the session.
    ///
    /// # Errors
    /// [`ToriiError::SessionNotFound`] when the token is unknown, revoked, malformed or expired; a
    /// storage failure.
    pub async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        self.session_service.get_session(token).await
    }

    /// Validates a session token for a request from `client`, applying the policy's client binding (a
    /// session used from another IP address or user agent than the one that logged in is revoked when
    /// the policy binds it).
    ///
    /// # Errors
    /// As [`Torii::get_session`].
    pub async fn validate_session(&self, token: &SessionToken, client: &ClientContext) -> Result<Session, ToriiError> {
        self.session_service.validate_session(token, client).await
    }

    /// Replaces the session's token with a new one (same session for opaque sessions); the old token
    /// stops working at once. Call it on privilege changes to defeat session fixation.
    ///
    /// # Errors
    /// [`ToriiError::SessionNotFound`] for an invalid token; a storage failure.
    pub async fn rotate_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        self.session_service.rotate_session(token, false).await
    }

    /// Same as [`Torii::rotate_session`].
    ///
    /// # Errors
    /// As [`Torii::rotate_session`].
    pub async fn regenerate_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        self.rotate_session(token).await
    }

    /// True when the session was authenticated within the policy's freshness window (see
    /// [`SessionPolicy::fresh_for`]); use it to require recent authentication before sensitive actions.
    pub fn is_session_fresh(&self, session: &Session) -> bool {
        self.now() - session.created_at < self.session_policy.fresh_window()
    }

    /// The session policy.
    pub fn session_policy(&self) -> &SessionPolicy {
        &self.session_policy
    }

    /// Starts a background task that deletes expired sessions every `interval`, in batches of the
    /// policy's cleanup batch size. Dropping or stopping the returned handle ends the task.
    pub fn start_cleanup_task(&self, interval: std::time::Duration) -> crate::cleanup::CleanupTask {
        crate::cleanup::CleanupTask::start(
            Arc::clone(&self.session_service),
            interval,
            self.session_policy.batch_size(),
        )
    }

    /// The user's live sessions (devices), newest first. Records carry the public session id, never the
    /// token.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError> {
        self.session_service.list_sessions(user_id).await
    }

    /// Revokes a session (logout). Revoking an unknown token is not an error.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError> {
        // Looked up first only to say whose session ended in the audit log.
        let session = self.session_service.get_session(token).await.ok();
        self.session_service.delete_session(token).await?;
        if let Some(session) = session {
            let detail = serde_json::json!({ "reason": "logout", "session_id": session.id.as_str() });
            self.audit(AuditEventKind::SESSION_REVOKED, Some(&session.user_id), None, detail).await;
        }
        Ok(())
    }

    /// Revokes one of the user's sessions by its public id. Returns false when the user has no such
    /// session (including when the id belongs to someone else).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> Result<bool, ToriiError> {
        let deleted = self.session_service.delete_session_by_id(user_id, session_id).await?;
        if deleted {
            let detail = serde_json::json!({ "reason": "revoked", "session_id": session_id.as_str() });
            self.audit(AuditEventKind::SESSION_REVOKED, Some(user_id), None, detail).await;
        }
        Ok(deleted)
    }

    /// Revokes every session of the user ("log out everywhere").
    ///
    /// # Errors
    /// A storage failure.
    pub async fn delete_sessions_for_user(&self, user_id: &UserId) -> Result<u64, ToriiError> {
        let revoked = self.session_service.delete_sessions_for_user(user_id, None).await?;
        self.audit(AuditEventKind::SESSIONS_REVOKED_ALL, Some(user_id), None, serde_json::json!({ "count": revoked }))
            .await;
        Ok(revoked)
    }

    /// Revokes every session of the user except `keep` ("log out other devices").
    ///
    /// # Errors
    /// A storage failure.
    pub async fn delete_other_sessions(&self, user_id: &UserId, keep: &SessionId) -> Result<u64, ToriiError> {
        let revoked = self.session_service.delete_sessions_for_user(user_id, Some(keep)).await?;
        let detail = serde_json::json!({ "count": revoked, "kept_session_id": keep.as_str() });
        self.audit(AuditEventKind::SESSIONS_REVOKED_OTHERS, Some(user_id), None, detail).await;
        Ok(revoked)
    }

    /// Deletes expired sessions (in batches). Returns how many were deleted.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError> {
        self.session_service.cleanup_expired_sessions().await
    }
}

impl<S: PasswordStorage> Torii<S> {
    /// Registers a user with an email address and password.
    ///
    /// The email is trimmed and validated; the password must satisfy the password policy (see
    /// [`PasswordPolicy`]) and is stored only as an Argon2id hash of its NFKC-normalised form.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`], [`ToriiError::WeakPassword`], [`ToriiError::UserAlreadyExists`],
    /// or a storage failure.
    pub async fn register_user_with_password(&self, email: &str, password: &str) -> Result<User, ToriiError> {
        let email = validate_email(email)?;
        let normalized = self.password_policy.check(password, Some(&email))?;
        let hash = self.password_hasher.hash(normalized).await?;
        let new_user = NewUser::new(email, self.now());
        let user = self.storage.create_user_with_password(&new_user, &hash).await.map_err(|e| match e {
            StorageError::Conflict(_) => ToriiError::UserAlreadyExists,
            other => ToriiError::Storage(other),
        })?;
        tracing::info!(user_id = %user.id, "user registered");
        self.audit(AuditEventKind::USER_REGISTERED, Some(&user.id), None, method_detail(AuthMethod::Password)).await;
        Ok(user)
    }

    async fn upgrade_hash(&self, user_id: &UserId, password: &str) {
        let result = async {
            let hash = self.password_hasher.hash(normalize_password(password)).await?;
            self.storage.set_password_hash(user_id, &hash).await?;
            Ok::<_, ToriiError>(())
        }
        .await;
        match result {
            Ok(()) => tracing::info!(%user_id, "password hash upgraded to current parameters"),
            // The login itself succeeded; the upgrade is retried at the next login.
            Err(err) => tracing::warn!(%user_id, error = %err, "could not upgrade password hash"),
        }
    }

    /// Sets a user's password (administrative reset; the policy is enforced).
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`], [`ToriiError::WeakPassword`], or a storage failure.
    pub async fn set_user_password(&self, user_id: &UserId, password: &str) -> Result<(), ToriiError> {
        self.store_password(user_id, password).await?;
        self.audit(AuditEventKind::PASSWORD_CHANGED, Some(user_id), None, serde_json::json!({ "reason": "set" })).await;
        Ok(())
    }

    /// Checks the new password against the policy and stores its hash, recording nothing (the callers
    /// record what the change was: a reset, a change, an administrative set).
    pub(crate) async fn store_password(&self, user_id: &UserId, password: &str) -> Result<(), ToriiError> {
        let user = self.storage.get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        let hash = self.hash_new_password(password, &user.email).await?;
        self.storage.set_password_hash(user_id, &hash).await?;
        Ok(())
    }
}

impl<S: PasswordStorage + RateLimitStorage> Torii<S> {
    /// Checks an email and password and, when they match, issues a new session.
    ///
    /// An unknown email and a wrong password fail identically ([`ToriiError::InvalidCredentials`]) after
    /// the same amount of hashing work. When the stored hash uses weaker Argon2id parameters than
    /// configured, it is replaced after the successful check. Attempts are limited per address (see
    /// [`crate::throttle`]): past the limit the answer is [`ToriiError::TooManyAttempts`], for known and
    /// unknown addresses alike, until the wait is over, even with the right password.
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`]; [`ToriiError::TooManyAttempts`]; [`ToriiError::EmailNotVerified`]
    /// for the right password of an unverified account when [`Torii::require_verified_email`] is on; a
    /// storage failure.
    pub async fn login_user_with_password(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<(User, Session), ToriiError> {
        let login = self.login_user_with_password_on_device(email, password, user_agent, ip_address, None).await?;
        Ok((login.user, login.session))
    }

    /// [`Torii::login_user_with_password`] for a client that keeps device cookies: `device` is the token
    /// it presented (if any). A valid token issued to this account makes the attempt count against that
    /// device alone, so a lock caused by others does not apply to it. A successful login returns a
    /// (renewed) device token to give back to the client.
    ///
    /// # Errors
    /// As [`Torii::login_user_with_password`].
    pub async fn login_user_with_password_on_device(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
        device: Option<&DeviceToken>,
    ) -> Result<PasswordLogin, ToriiError> {
        let client = explicit_client(&user_agent, &ip_address);
        let (user, subject) = self.check_password(email, password, device, client.as_ref()).await?;
        // The right password was given: the counts are cleared even when the address still needs
        // verifying, since whoever typed it knows the password.
        let device = self.login_succeeded(&subject, &user).await;
        if self.require_verified_email && !user.is_email_verified() {
            tracing::info!(user_id = %user.id, "password login refused: the email address is not verified");
            let detail = serde_json::json!({ "method": "password", "reason": "email_not_verified" });
            self.audit(AuditEventKind::LOGIN_FAILED, Some(&user.id), client.as_ref(), detail).await;
            return Err(ToriiError::EmailNotVerified);
        }
        let session = self.session_service.create_session(&user.id, user_agent, ip_address).await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "password login succeeded");
        self.audit_login(&user.id, AuthMethod::Password, &session, client.as_ref()).await;
        Ok(PasswordLogin { user, session, device })
    }

    /// Checks an email and password without issuing a session (for re-authentication before a sensitive
    /// action). Counted like a login attempt.
    ///
    /// # Errors
    /// As [`Torii::login_user_with_password`].
    pub async fn verify_password_login(&self, email: &str, password: &str) -> Result<User, ToriiError> {
        let (user, subject) = self.check_password(email, password, None, None).await?;
        self.login_succeeded(&subject, &user).await;
        Ok(user)
    }

    /// The one password check every path goes through: the guessing limits first, then the hash.
    async fn check_password(
        &self,
        email: &str,
        password: &str,
        device: Option<&DeviceToken>,
        client: Option<&ClientContext>,
    ) -> Result<(User, Subject), ToriiError> {
        // Refuse absurd inputs before any work; this depends only on the input, so it reveals nothing
        // about which accounts exist.
        if password.len() > self.password_policy.max_len().saturating_mul(4) {
            self.audit_password_failure(None, "malformed", client).await;
            return Err(ToriiError::InvalidCredentials);
        }
        let Ok(email) = validate_email(email) else {
            self.audit_password_failure(None, "malformed", client).await;
            return Err(ToriiError::InvalidCredentials);
        };
        let user = self.storage.get_user_by_email(&email).await?;
        // Counted per address whether or not an account has it, before any hashing: a refusal costs
        // the same for both and says nothing about the account.
        let subject = self.login_gate(&email, user.as_ref(), device).await?;
        let stored = match &user {
            Some(user) => self.storage.get_password_hash(&user.id).await?,
            None => None,
        };
        let verification = self.password_hasher.verify(normalize_password(password), stored).await?;
        let known = user.as_ref().map(|u| u.id.clone());
        let (Some(user), true) = (user, verification.valid) else {
            tracing::info!("password login failed");
            crate::metrics::password_login(false);
            let reason = if known.is_some() { "wrong_password" } else { "unknown_account" };
            self.audit_password_failure(known.as_ref(), reason, client).await;
            return Err(ToriiError::InvalidCredentials);
        };
        crate::metrics::password_login(true);
        if verification.needs_rehash {
            self.upgrade_hash(&user.id, password).await;
        }
        Ok((user, subject))
    }

    /// Step-up authentication: checks the session user's password again and rotates the session so it
    /// counts as freshly authenticated (see [`Torii::is_session_fresh`]). The old token stops working.
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`] for a wrong password; [`ToriiError::TooManyAttempts`];
    /// [`ToriiError::SessionNotFound`] for an invalid session; a storage failure.
    pub async fn reauthenticate_with_password(
        &self,
        token: &SessionToken,
        password: &str,
    ) -> Result<Session, ToriiError> {
        let session = self.session_service.get_session(token).await?;
        let user = self.storage.get_user(&session.user_id).await?.ok_or(ToriiError::SessionNotFound)?;
        self.verify_password_login(&user.email, password).await?;
        let session = self.session_service.rotate_session(token, true).await?;
        let detail =
            serde_json::json!({ "method": "password", "reauthentication": true, "session_id": session.id.as_str() });
        self.audit(AuditEventKind::LOGIN_SUCCEEDED, Some(&user.id), None, detail).await;
        Ok(session)
    }

    async fn audit_password_failure(&self, user_id: Option<&UserId>, reason: &str, client: Option<&ClientContext>) {
        let detail = serde_json::json!({ "method": "password", "reason": reason });
        self.audit(AuditEventKind::LOGIN_FAILED, user_id, client, detail).await;
    }
}

/// The client a method was given explicitly, if any (else the task's client applies, see
/// [`crate::audit::with_client_context`]).
pub(crate) fn explicit_client(user_agent: &Option<String>, ip_address: &Option<String>) -> Option<ClientContext> {
    (user_agent.is_some() || ip_address.is_some())
        .then(|| ClientContext { ip_address: ip_address.clone(), user_agent: user_agent.clone() })
}

impl<S> Torii<S> {
    /// Records a successful login (`login.succeeded` with the method and the new session's id).
    pub(crate) async fn audit_login(
        &self,
        user_id: &UserId,
        method: AuthMethod,
        session: &Session,
        client: Option<&ClientContext>,
    ) {
        let detail = serde_json::json!({ "method": method.as_str(), "session_id": session.id.as_str() });
        self.audit(AuditEventKind::LOGIN_SUCCEEDED, Some(user_id), client, detail).await;
    }
}

impl<S> Torii<S> {
    /// Checks a new password against the policy (for the account with address `email`) and hashes it,
    /// writing nothing: callers store the hash once everything else that must happen can happen.
    pub(crate) async fn hash_new_password(&self, password: &str, email: &str) -> Result<String, ToriiError> {
        let normalized = self.password_policy.check(password, Some(email))?;
        self.password_hasher.hash(normalized).await
    }
}
