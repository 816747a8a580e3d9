//! What the extractors need from the application state, without knowing its storage type.

use std::sync::{Arc, LazyLock};

use axum::extract::FromRef;
use torii_core::{ClientContext, Session, SessionToken, Torii, ToriiError, User};

use crate::config::CookieConfig;

/// The cookie configuration read when none was given: the secure default, so only
/// `__Host-torii_session` is ever read.
static SECURE_DEFAULT: LazyLock<Arc<CookieConfig>> = LazyLock::new(|| Arc::new(CookieConfig::secure()));

/// Session validation, object-safe so extractors can work with any `Torii<S>`.
#[async_trait::async_trait]
pub trait SessionAuthority: Send + Sync + 'static {
    /// Validates the token for a request from `client` (applying the session policy's client binding)
    /// and loads its user.
    ///
    /// # Errors
    /// [`ToriiError::SessionNotFound`] when the token is not a live session (or its user is gone); a
    /// storage failure otherwise.
    async fn authenticate(&self, token: &SessionToken, client: &ClientContext) -> Result<(User, Session), ToriiError>;

    /// True when the session was authenticated recently enough for a sensitive action. The default
    /// allows ten minutes since the session's authentication time; a [`Torii`] uses its
    /// [`SessionPolicy::fresh_for`](torii_core::SessionPolicy::fresh_for) window and clock.
    fn is_session_fresh(&self, session: &Session) -> bool {
        chrono::Utc::now() - session.created_at < chrono::Duration::minutes(10)
    }

    /// The session cookie configuration given to this authority once for the routes and the
    /// extractors alike (the auth router registers its own when it is built). `None` means the secure
    /// default.
    fn cookie_config(&self) -> Option<Arc<CookieConfig>> {
        None
    }
}

#[async_trait::async_trait]
impl<S: Send + Sync + 'static> SessionAuthority for Torii<S> {
    async fn authenticate(&self, token: &SessionToken, client: &ClientContext) -> Result<(User, Session), ToriiError> {
        let session = self.validate_session(token, client).await?;
        let user = self.get_user(&session.user_id).await?.ok_or(ToriiError::SessionNotFound)?;
        Ok((user, session))
    }

    fn is_session_fresh(&self, session: &Session) -> bool {
        Torii::is_session_fresh(self, session)
    }

    fn cookie_config(&self) -> Option<Arc<CookieConfig>> {
        self.extensions().get::<CookieConfig>()
    }
}

/// What [`crate::AuthUser`] and friends take from the state: the coordinator and the session cookie
/// configuration.
///
/// The cookie configuration is given once: [`crate::AuthRoutes::with_cookie_config`] attaches it to
/// the coordinator when the router is built, and every context over that coordinator reads it from
/// there, so the app's own routes read exactly the cookie the auth routes write (with the secure
/// default, only `__Host-torii_session`; a `torii_session` cookie planted by a sibling subdomain is
/// ignored). With the documented set-up (state `Arc<Torii<S>>`) the context is derived automatically.
/// With your own state struct, implement `FromRef<YourState> for AuthContext` with
/// `AuthContext::new(state.torii.clone())`.
#[derive(Clone)]
pub struct AuthContext {
    pub(crate) authority: Arc<dyn SessionAuthority>,
    /// A configuration given to this context directly; otherwise the authority's.
    cookies: Option<Arc<CookieConfig>>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext").field("cookie_name", &self.cookie_config().name()).finish_non_exhaustive()
    }
}

impl AuthContext {
    /// A context over this coordinator, reading the cookie configuration given to it (see above).
    pub fn new<S: Send + Sync + 'static>(torii: Arc<Torii<S>>) -> Self {
        Self::from_authority(torii)
    }

    /// A context over any [`SessionAuthority`].
    pub fn from_authority(authority: Arc<dyn SessionAuthority>) -> Self {
        Self { authority, cookies: None }
    }

    /// Reads the session from the cookie this configuration writes (and only that one), whatever was
    /// given to the coordinator.
    pub fn with_cookie_config(mut self, config: &CookieConfig) -> Self {
        self.cookies = Some(Arc::new(config.clone()));
        self
    }

    /// The cookie configuration this context reads: its own, else the one given to the coordinator,
    /// else the secure default.
    pub fn cookie_config(&self) -> Arc<CookieConfig> {
        match &self.cookies {
            Some(config) => Arc::clone(config),
            None => self.authority.cookie_config().unwrap_or_else(|| Arc::clone(&SECURE_DEFAULT)),
        }
    }
}

impl<S: Send + Sync + 'static> FromRef<Arc<Torii<S>>> for AuthContext {
    fn from_ref(torii: &Arc<Torii<S>>) -> Self {
        Self::new(Arc::clone(torii))
    }
}
