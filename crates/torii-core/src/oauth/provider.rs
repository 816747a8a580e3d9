//! The [`OAuthProvider`] trait: what Torii needs from an identity provider.
//!
//! Torii's core runs the flow (state, expiry, account linking, sessions) and knows no HTTP client;
//! a provider builds the authorization URL and turns an authorization code into a verified identity.
//! `torii-oauth` implements it for OpenID Connect (any issuer with discovery, Google) and GitHub; an
//! application can implement it for anything else.

use std::fmt;

use crate::oauth::OAuthError;

/// A secret string that never shows in `Debug` output (PKCE verifiers, client secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthSecret(String);

impl OAuthSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OAuthSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OAuthSecret(..)")
    }
}

/// What a provider returns when a flow starts.
#[derive(Debug, Clone)]
pub struct AuthorizationStart {
    /// The provider's authorization URL, carrying the state, the PKCE S256 challenge and (for OpenID
    /// Connect) the nonce.
    pub url: String,
    /// The PKCE code verifier matching the challenge in `url`; Torii keeps it server-side until the
    /// callback.
    pub pkce_verifier: OAuthSecret,
    /// The OpenID Connect nonce in `url`, if the provider uses one.
    pub nonce: Option<String>,
}

/// What a provider is given to finish a flow.
#[derive(Debug, Clone)]
pub struct CodeExchange {
    /// The authorization code from the callback.
    pub code: OAuthSecret,
    /// The PKCE verifier stored when the flow started.
    pub pkce_verifier: OAuthSecret,
    /// The nonce stored when the flow started; an OpenID Connect provider must find it in the ID token.
    pub nonce: Option<String>,
}

/// A verified identity at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// The provider's stable identifier for the user (`sub`, GitHub's numeric id). Accounts are keyed
    /// on (provider, subject), never on email.
    pub subject: String,
    /// The email address the provider reports, if any.
    pub email: Option<String>,
    /// Whether the provider vouches that `email` belongs to the user.
    pub email_verified: bool,
    /// A display name, if the provider gives one.
    pub name: Option<String>,
}

/// An identity provider Torii can log users in with.
///
/// Implementations must use PKCE with S256 in [`OAuthProvider::authorization_url`], and must only
/// return an identity from [`OAuthProvider::exchange_code`] once it is verified: for OpenID Connect,
/// an ID token whose signature, issuer, audience, expiry, nonce and algorithm were checked.
#[crate::async_trait]
pub trait OAuthProvider: Send + Sync + 'static {
    /// The provider's name, as used in URLs (`/oauth/{name}/start`) and stored with linked accounts:
    /// lower-case ASCII letters, digits, `-` and `_`.
    fn name(&self) -> &str;

    /// The issuer identifier the provider's authorization responses carry in `iss` (RFC 9207), if known.
    fn issuer(&self) -> Option<&str> {
        None
    }

    /// True when the provider promises an `iss` parameter on every authorization response; a response
    /// without one is then refused.
    fn requires_issuer_parameter(&self) -> bool {
        false
    }

    /// Builds the authorization URL for a flow identified by `state`.
    ///
    /// # Errors
    /// [`OAuthError::Config`] when the URL cannot be built.
    fn authorization_url(&self, state: &str) -> Result<AuthorizationStart, OAuthError>;

    /// Exchanges the authorization code (with the PKCE verifier) and returns the verified identity.
    ///
    /// # Errors
    /// [`OAuthError::CodeExchange`], [`OAuthError::InvalidIdToken`] or [`OAuthError::Provider`].
    async fn exchange_code(&self, exchange: CodeExchange) -> Result<ProviderIdentity, OAuthError>;
}

/// True for names usable as a provider name (see [`OAuthProvider::name`]).
pub fn is_valid_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_are_url_and_cookie_safe() {
        for good in ["google", "github", "my-idp", "corp_sso2"] {
            assert!(is_valid_provider_name(good), "{good}");
        }
        for bad in ["", "Google", "a b", "a/b", "a;b", "é", &"x".repeat(33)] {
            assert!(!is_valid_provider_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let secret = OAuthSecret::new("pkce-verifier-value");
        assert_eq!(format!("{secret:?}"), "OAuthSecret(..)");
        let exchange = CodeExchange { code: OAuthSecret::new("the-code"), pkce_verifier: secret, nonce: None };
        assert!(!format!("{exchange:?}").contains("the-code"));
    }
}
