//! OAuth 2.0 and OpenID Connect login: the flow, account linking, and the [`OAuthProvider`] trait.
//!
//! The flow is the authorization-code flow with PKCE (S256) every time. Starting it stores a
//! single-use state server-side (only its SHA-256, with the PKCE verifier, the nonce, where to go
//! afterwards and, for a link flow, the user) for ten minutes; the callback consumes it atomically, so
//! a state works once. Accounts are keyed on (provider, subject), never on email: an identity whose
//! email matches an existing user is linked only when the provider says the email is verified *and*
//! the [`OAuthLinkPolicy`] allows it.
//!
//! The core knows no HTTP client: providers come from `torii-oauth` (OpenID Connect with discovery,
//! Google, GitHub) or from your own [`OAuthProvider`] implementation.
//!
//! ```
//! # async fn demo<S>(torii: &torii_core::Torii<S>) -> Result<(), torii_core::ToriiError>
//! # where S: torii_core::storage::UserStorage + torii_core::storage::OAuthStorage {
//! // Redirect the browser to `start.url`; the provider sends it back with `code` and `state`.
//! let start = torii.get_oauth_authorization_url("google").await?;
//! # let (code, state) = ("code", start.csrf_state.clone());
//! let (user, session) = torii.exchange_oauth_code("google", code, &state, None, None).await?;
//! # let _ = (user, session);
//! # Ok(()) }
//! ```

mod accounts;
mod error;
mod flow;
mod provider;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

pub use error::OAuthError;
pub use flow::{OAuthAuthorizationUrl, OAuthCallback, OAuthLogin, OAuthOutcome, OAuthStartOptions};
pub use provider::{
    AuthorizationStart, CodeExchange, OAuthProvider, OAuthSecret, ProviderIdentity, is_valid_provider_name,
};

use crate::error::ToriiError;
use crate::torii::Torii;

/// How long a started flow may take before its state stops being accepted.
pub const OAUTH_STATE_LIFETIME: Duration = Duration::minutes(10);

/// When a provider identity that is not linked yet carries the email address of an existing user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthLinkPolicy {
    /// Link only when the provider says the email is verified and that very user is logged in when
    /// the flow completes; otherwise refuse with [`OAuthError::EmailInUse`] (log in, then link). The
    /// default: a provider that gets email verification wrong cannot hand over an account.
    #[default]
    RequireLogin,
    /// Also link without a login, when the provider says the email is verified. Only for providers
    /// you trust to verify addresses (an identity at such a provider then logs into the account with
    /// that email).
    LinkVerifiedEmail,
}

/// The OAuth configuration a [`Torii`] carries: its providers and the linking policy.
#[derive(Clone, Default)]
pub(crate) struct OAuthSettings {
    providers: BTreeMap<String, Arc<dyn OAuthProvider>>,
    pub(crate) link_policy: OAuthLinkPolicy,
}

impl OAuthSettings {
    pub(crate) fn provider(&self, name: &str) -> Result<&Arc<dyn OAuthProvider>, ToriiError> {
        self.providers.get(name).ok_or_else(|| ToriiError::ServiceNotFound(format!("OAuth provider {name:?}")))
    }
}

impl<S> Torii<S> {
    /// Adds an identity provider (replacing one of the same name).
    ///
    /// A name that is not lower-case ASCII letters, digits, `-` and `_` is refused (logged at start-up,
    /// and the provider is not added), because it appears in URLs and cookie names.
    pub fn with_oauth_provider(mut self, provider: impl OAuthProvider) -> Self {
        self.add_oauth_provider(Arc::new(provider));
        self
    }

    /// Adds an identity provider that is already shared (see [`Torii::with_oauth_provider`]).
    pub fn with_shared_oauth_provider(mut self, provider: Arc<dyn OAuthProvider>) -> Self {
        self.add_oauth_provider(provider);
        self
    }

    fn add_oauth_provider(&mut self, provider: Arc<dyn OAuthProvider>) {
        let name = provider.name().to_owned();
        if !is_valid_provider_name(&name) {
            tracing::error!(provider = %name, "OAuth provider name is not usable; the provider is not added");
            return;
        }
        self.oauth.providers.insert(name, provider);
    }

    /// Sets what happens when a new provider identity carries an existing user's email address.
    pub fn with_oauth_link_policy(mut self, policy: OAuthLinkPolicy) -> Self {
        self.oauth.link_policy = policy;
        self
    }

    /// The names of the configured identity providers, sorted.
    pub fn oauth_providers(&self) -> Vec<&str> {
        self.oauth.providers.keys().map(String::as_str).collect()
    }

    /// The linking policy.
    pub fn oauth_link_policy(&self) -> OAuthLinkPolicy {
        self.oauth.link_policy
    }
}
