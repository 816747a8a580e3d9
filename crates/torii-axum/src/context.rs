//! What the extractors need from the application state, without knowing its storage type.

use std::sync::Arc;

use axum::extract::FromRef;
use torii_core::{ClientContext, Session, SessionToken, Torii, ToriiError, User};

use crate::config::{CookieConfig, DEVELOPMENT_COOKIE_NAME, SECURE_COOKIE_NAME};

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
}

#[async_trait::async_trait]
impl<S: Send + Sync + 'static> SessionAuthority for Torii<S> {
    async fn authenticate(&self, token: &SessionToken, client: &ClientContext) -> Result<(User, Session), ToriiError> {
        let session = self.validate_session(token, client).await?;
        let user = self.get_user(&session.user_id).await?.ok_or(ToriiError::SessionNotFound)?;
        Ok((user, session))
    }
}

/// What [`crate::AuthUser`] and friends take from the state: the coordinator and the session cookie's
/// name(s).
///
/// With the documented set-up (state `Arc<Torii<S>>`) it is derived automatically and accepts both the
/// secure and the development cookie name. With your own state struct, implement
/// `FromRef<YourState> for AuthContext` (for example `AuthContext::new(state.torii.clone())
/// .with_cookie_config(&cookie_config)`), which is also how a custom cookie name is made known to the
/// extractors.
#[derive(Clone)]
pub struct AuthContext {
    pub(crate) authority: Arc<dyn SessionAuthority>,
    pub(crate) cookie_names: Arc<[String]>,
}

impl std::fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthContext").field("cookie_names", &self.cookie_names).finish_non_exhaustive()
    }
}

impl AuthContext {
    /// A context over this coordinator, accepting the default cookie names.
    pub fn new<S: Send + Sync + 'static>(torii: Arc<Torii<S>>) -> Self {
        Self::from_authority(torii)
    }

    /// A context over any [`SessionAuthority`].
    pub fn from_authority(authority: Arc<dyn SessionAuthority>) -> Self {
        Self { authority, cookie_names: Arc::from([SECURE_COOKIE_NAME.to_owned(), DEVELOPMENT_COOKIE_NAME.to_owned()]) }
    }

    /// Reads the session from the cookie this configuration writes (and only that one).
    pub fn with_cookie_config(mut self, config: &CookieConfig) -> Self {
        self.cookie_names = Arc::from([config.name.clone()]);
        self
    }
}

impl<S: Send + Sync + 'static> FromRef<Arc<Torii<S>>> for AuthContext {
    fn from_ref(torii: &Arc<Torii<S>>) -> Self {
        Self::new(Arc::clone(torii))
    }
}
