//! Starting and completing the authorization-code flow.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::email::validate_email;
use crate::error::{StorageError, ToriiError};
use crate::id::UserId;
use crate::managers::ClientContext;
use crate::oauth::{CodeExchange, OAUTH_STATE_LIFETIME, OAuthError, OAuthLinkPolicy, OAuthSecret, ProviderIdentity};
use crate::session::Session;
use crate::storage::{AuditEventKind, OAuthAccount, OAuthState, OAuthStorage, UserStorage};
use crate::token::{TokenHash, generate_secret_token};
use crate::torii::Torii;
use crate::user::{NewUser, User};

/// Where to send the browser to start a flow.
#[derive(Clone)]
pub struct OAuthAuthorizationUrl {
    /// The provider's authorization URL.
    pub url: String,
    /// The `state` in `url`. Bind it to the browser (for example in a short-lived `HttpOnly` cookie)
    /// and check it against the callback's `state`; the server-side copy is only its hash.
    pub csrf_state: String,
    /// When the state stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for OAuthAuthorizationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthAuthorizationUrl").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// Options for starting a flow.
#[derive(Debug, Clone, Default)]
pub struct OAuthStartOptions {
    /// Where the application should send the browser after the callback (already validated by the
    /// caller: Torii stores it and hands it back, nothing more).
    pub redirect_to: Option<String>,
    /// Set when a logged-in user links this provider to their account; the flow then links instead
    /// of logging in, and completes only in a session of this user.
    pub link_user_id: Option<UserId>,
}

/// What the provider sent back to the callback.
#[derive(Debug, Clone)]
pub struct OAuthCallback {
    /// The authorization code.
    pub code: OAuthSecret,
    /// The `state` parameter.
    pub state: OAuthSecret,
    /// The `iss` parameter (RFC 9207), when present.
    pub iss: Option<String>,
    /// The user logged in on the browser completing the flow, if any. Needed for link flows, and lets
    /// a logged-in user's own verified email link under [`OAuthLinkPolicy::RequireLogin`].
    pub session_user_id: Option<UserId>,
}

impl OAuthCallback {
    /// A callback with a code and a state only.
    pub fn new(code: &str, state: &str) -> Self {
        Self { code: OAuthSecret::new(code), state: OAuthSecret::new(state), iss: None, session_user_id: None }
    }
}

/// How a completed flow related the identity to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthOutcome {
    /// The identity was already linked: an ordinary login.
    LoggedIn,
    /// A new user was created for the identity.
    Registered,
    /// The identity was linked to an existing user (a link flow, or a verified email the policy
    /// allowed).
    Linked,
}

/// A completed flow: the user, a new session, and where to go next.
#[derive(Debug, Clone)]
pub struct OAuthLogin {
    /// The user the identity belongs to.
    pub user: User,
    /// A new session for that user.
    pub session: Session,
    /// The `redirect_to` the flow was started with.
    pub redirect_to: Option<String>,
    /// What happened.
    pub outcome: OAuthOutcome,
}

impl<S: UserStorage + OAuthStorage> Torii<S> {
    /// Starts a login flow with `provider`: stores the flow's state and returns the URL to send the
    /// browser to, with the `state` to bind to the browser.
    ///
    /// # Errors
    /// [`ToriiError::ServiceNotFound`] for an unknown provider; a provider or storage failure.
    pub async fn get_oauth_authorization_url(&self, provider: &str) -> Result<OAuthAuthorizationUrl, ToriiError> {
        self.start_oauth_flow(provider, OAuthStartOptions::default()).await
    }

    /// Starts a login or link flow (see [`OAuthStartOptions`]).
    ///
    /// # Errors
    /// As [`Torii::get_oauth_authorization_url`]; [`ToriiError::UserNotFound`] when the user to link
    /// does not exist.
    pub async fn start_oauth_flow(
        &self,
        provider: &str,
        options: OAuthStartOptions,
    ) -> Result<OAuthAuthorizationUrl, ToriiError> {
        let oauth = self.oauth.provider(provider)?;
        if let Some(user_id) = &options.link_user_id
            && self.storage().get_user(user_id).await?.is_none()
        {
            return Err(ToriiError::UserNotFound);
        }
        let state = generate_secret_token();
        let start = oauth.authorization_url(&state)?;
        let now = self.now();
        let expires_at = now + OAUTH_STATE_LIFETIME;
        self.storage()
            .store_oauth_state(&OAuthState {
                state_hash: TokenHash::of(&state),
                provider: provider.to_owned(),
                pkce_verifier: start.pkce_verifier.expose().to_owned(),
                nonce: start.nonce,
                redirect_to: options.redirect_to,
                link_user_id: options.link_user_id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(OAuthAuthorizationUrl { url: start.url, csrf_state: state, expires_at })
    }

    /// Completes a login flow: checks the state, exchanges the code, and logs the identity's user in
    /// (creating the user on first login). Returns the user and a new session.
    ///
    /// # Errors
    /// As [`Torii::complete_oauth_flow`].
    pub async fn exchange_oauth_code(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<(User, Session), ToriiError> {
        let login = self.complete_oauth_flow(provider, OAuthCallback::new(code, state), user_agent, ip_address).await?;
        Ok((login.user, login.session))
    }

    /// Completes a flow from its callback.
    ///
    /// The state is consumed first (it works once, for ten minutes, and only for the provider it was
    /// started with), then the `iss` parameter is checked, then the code is exchanged with the PKCE
    /// verifier and the identity verified by the provider.
    ///
    /// # Errors
    /// [`ToriiError::OAuth`] with [`OAuthError::InvalidState`], [`OAuthError::ProviderMismatch`],
    /// [`OAuthError::IssuerMismatch`], a provider failure, or a linking refusal
    /// ([`OAuthError::EmailInUse`], [`OAuthError::IdentityInUse`], [`OAuthError::ProviderAlreadyLinked`],
    /// [`OAuthError::LinkRequiresLogin`], [`OAuthError::MissingEmail`]);
    /// [`ToriiError::ServiceNotFound`] for an unknown provider; a storage failure.
    pub async fn complete_oauth_flow(
        &self,
        provider: &str,
        callback: OAuthCallback,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<OAuthLogin, ToriiError> {
        let client = crate::torii::explicit_client(&user_agent, &ip_address);
        let result = self.complete_oauth_callback(provider, callback, user_agent, ip_address).await;
        if let Err(err) = &result {
            // What went wrong, by name only: the provider's own text never reaches the log.
            let reason = match err {
                ToriiError::OAuth(OAuthError::InvalidState) => "invalid_state",
                ToriiError::OAuth(OAuthError::ProviderMismatch) => "provider_mismatch",
                ToriiError::OAuth(OAuthError::IssuerMismatch) => "issuer_mismatch",
                ToriiError::OAuth(OAuthError::Denied) => "denied",
                ToriiError::OAuth(OAuthError::CodeExchange(_)) => "code_exchange",
                ToriiError::OAuth(OAuthError::InvalidIdToken(_)) => "invalid_id_token",
                ToriiError::OAuth(OAuthError::MissingEmail) => "missing_email",
                ToriiError::OAuth(OAuthError::EmailInUse) => "email_in_use",
                ToriiError::OAuth(OAuthError::IdentityInUse) => "identity_in_use",
                ToriiError::OAuth(OAuthError::LinkRequiresLogin) => "link_requires_login",
                _ => "refused",
            };
            let detail = serde_json::json!({ "method": "oauth", "provider": provider, "reason": reason });
            self.audit(crate::storage::AuditEventKind::LOGIN_FAILED, None, client.as_ref(), detail).await;
        }
        result
    }

    /// [`Torii::complete_oauth_flow`] without recording a failure.
    async fn complete_oauth_callback(
        &self,
        provider: &str,
        callback: OAuthCallback,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<OAuthLogin, ToriiError> {
        let oauth = self.oauth.provider(provider)?;
        let state_hash = TokenHash::of(callback.state.expose());
        let state =
            self.storage().consume_oauth_state(&state_hash, self.now()).await?.ok_or(OAuthError::InvalidState)?;
        if state.provider != provider {
            return Err(OAuthError::ProviderMismatch.into());
        }
        match (&callback.iss, oauth.issuer()) {
            (Some(iss), Some(expected)) if iss != expected => return Err(OAuthError::IssuerMismatch.into()),
            (None, Some(_)) if oauth.requires_issuer_parameter() => return Err(OAuthError::IssuerMismatch.into()),
            _ => {}
        }
        if let Some(link_user) = &state.link_user_id
            && callback.session_user_id.as_ref() != Some(link_user)
        {
            return Err(OAuthError::LinkRequiresLogin.into());
        }

        let identity = oauth
            .exchange_code(CodeExchange {
                code: callback.code,
                pkce_verifier: OAuthSecret::new(state.pkce_verifier),
                nonce: state.nonce,
            })
            .await?;
        let (user, outcome) = match &state.link_user_id {
            Some(user_id) => (self.link_identity(provider, user_id, &identity).await?, OAuthOutcome::Linked),
            None => self.login_identity(provider, &identity, callback.session_user_id.as_ref()).await?,
        };
        let client = crate::torii::explicit_client(&user_agent, &ip_address);
        let session = self.create_session(&user.id, user_agent, ip_address).await?;
        tracing::info!(user_id = %user.id, provider, ?outcome, "OAuth login succeeded");
        self.audit_oauth(&user.id, provider, outcome, &session, client.as_ref()).await;
        Ok(OAuthLogin { user, session, redirect_to: state.redirect_to, outcome })
    }

    /// Links `identity` to `user_id` (a link flow).
    async fn link_identity(
        &self,
        provider: &str,
        user_id: &UserId,
        identity: &ProviderIdentity,
    ) -> Result<User, ToriiError> {
        let user = self.storage().get_user(user_id).await?.ok_or(OAuthError::LinkRequiresLogin)?;
        if let Some(existing) = self.storage().get_oauth_account(provider, &identity.subject).await? {
            return if existing.user_id == user.id { Ok(user) } else { Err(OAuthError::IdentityInUse.into()) };
        }
        self.create_link(provider, &user, identity).await?;
        Ok(user)
    }

    /// Finds or creates the user for `identity` (a login flow).
    async fn login_identity(
        &self,
        provider: &str,
        identity: &ProviderIdentity,
        session_user: Option<&UserId>,
    ) -> Result<(User, OAuthOutcome), ToriiError> {
        if let Some(account) = self.storage().get_oauth_account(provider, &identity.subject).await? {
            let user = self.storage().get_user(&account.user_id).await?.ok_or(ToriiError::UserNotFound)?;
            return Ok((user, OAuthOutcome::LoggedIn));
        }
        let email = identity.email.as_deref().ok_or(OAuthError::MissingEmail)?;
        let email = validate_email(email).map_err(|_| OAuthError::MissingEmail)?;
        if let Some(existing) = self.storage().get_user_by_email(&email).await? {
            // Never link on email alone: the provider must vouch for the address, and by default the
            // owner of the existing account must be the one logged in.
            let allowed = identity.email_verified
                && (self.oauth.link_policy == OAuthLinkPolicy::LinkVerifiedEmail || session_user == Some(&existing.id));
            if !allowed {
                tracing::info!(provider, "OAuth identity refused: its email belongs to an existing account");
                return Err(OAuthError::EmailInUse.into());
            }
            // The provider vouches for the address, which proves it: an account whose address was never
            // proven loses what was added before (unless this very user is signed in), then gets the link.
            let existing = self.prove_address(existing, session_user).await?.user;
            self.create_link(provider, &existing, identity).await?;
            return Ok((existing, OAuthOutcome::Linked));
        }

        let now = self.now();
        let mut new_user = NewUser::new(email, now);
        new_user.name = identity.name.clone();
        new_user.email_verified_at = identity.email_verified.then_some(now);
        let user = self.storage().create_user(&new_user).await.map_err(|err| match err {
            // Another request created this email in the meantime: treat it like an existing account.
            StorageError::Conflict(_) => ToriiError::OAuth(OAuthError::EmailInUse),
            other => other.into(),
        })?;
        if let Err(err) = self.create_link(provider, &user, identity).await {
            // The same identity logged in twice at once and the other request won: drop our user.
            let _ = self.storage().delete_user(&user.id).await;
            return Err(err);
        }
        tracing::info!(user_id = %user.id, provider, "user registered through OAuth");
        Ok((user, OAuthOutcome::Registered))
    }

    /// Records what an OAuth callback did: an account created, a provider linked, a login.
    async fn audit_oauth(
        &self,
        user_id: &UserId,
        provider: &str,
        outcome: OAuthOutcome,
        session: &Session,
        client: Option<&ClientContext>,
    ) {
        if outcome == OAuthOutcome::Registered {
            let detail = serde_json::json!({ "method": "oauth", "provider": provider });
            self.audit(AuditEventKind::USER_REGISTERED, Some(user_id), client, detail).await;
        }
        if matches!(outcome, OAuthOutcome::Registered | OAuthOutcome::Linked) {
            let detail = serde_json::json!({ "provider": provider });
            self.audit(AuditEventKind::OAUTH_LINKED, Some(user_id), client, detail).await;
        }
        let detail = serde_json::json!({ "method": "oauth", "provider": provider, "session_id": session.id.as_str() });
        self.audit(AuditEventKind::LOGIN_SUCCEEDED, Some(user_id), client, detail).await;
    }

    async fn create_link(&self, provider: &str, user: &User, identity: &ProviderIdentity) -> Result<(), ToriiError> {
        if self.storage().list_oauth_accounts(&user.id).await?.iter().any(|a| a.provider == provider) {
            return Err(OAuthError::ProviderAlreadyLinked.into());
        }
        let now = self.now();
        let account = OAuthAccount {
            user_id: user.id.clone(),
            provider: provider.to_owned(),
            subject: identity.subject.clone(),
            email: identity.email.clone(),
            email_verified: identity.email_verified,
            created_at: now,
            updated_at: now,
        };
        self.storage().create_oauth_account(&account).await.map_err(|err| match err {
            // (provider, subject) or (user, provider) was taken by a concurrent request.
            StorageError::Conflict(_) => ToriiError::OAuth(OAuthError::IdentityInUse),
            other => other.into(),
        })
    }
}
