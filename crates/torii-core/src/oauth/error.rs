//! Why an OAuth / OpenID Connect flow failed.

use crate::error::BoxError;

/// A failed OAuth step. Every message is fixed text: none quotes a code, a state, a token or anything
/// else the provider or the browser sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The `state` is unknown, expired, already used, or not the one this browser started with.
    #[error("the sign-in attempt is unknown, expired or already used; start again")]
    InvalidState,

    /// The callback arrived for another provider than the one the flow was started with (a mix-up
    /// attempt, or a misrouted callback).
    #[error("the callback does not belong to this provider")]
    ProviderMismatch,

    /// The `iss` authorization-response parameter names another issuer, or is missing where the
    /// provider promises to send it (RFC 9207).
    #[error("the authorization response comes from an unexpected issuer")]
    IssuerMismatch,

    /// The provider answered the authorization request with an error (for example the user declined).
    #[error("the identity provider refused the sign-in")]
    Denied,

    /// Exchanging the authorization code failed (an invalid, expired or replayed code, or the provider
    /// could not be reached).
    #[error("the authorization code could not be exchanged")]
    CodeExchange(#[source] BoxError),

    /// The ID token failed validation (signature, issuer, audience, expiry, nonce or algorithm).
    #[error("the ID token is invalid")]
    InvalidIdToken(#[source] BoxError),

    /// Another provider call failed (discovery, JWKS, user info, the GitHub API).
    #[error("the identity provider could not be used")]
    Provider(#[source] BoxError),

    /// The provider reported no usable email address, and one is needed to create the account.
    #[error("the identity provider did not share an email address")]
    MissingEmail,

    /// An account with the provider's email address already exists and the identity may not be linked
    /// to it automatically. Log in to that account and link the provider from there.
    #[error("an account with this email address already exists; log in and link this provider from your account")]
    EmailInUse,

    /// The provider identity is already linked to another user.
    #[error("this identity is already linked to another account")]
    IdentityInUse,

    /// The user already has an identity linked at this provider.
    #[error("a different identity at this provider is already linked to your account")]
    ProviderAlreadyLinked,

    /// A link flow finished without the session of the user who started it.
    #[error("log in to the account you are linking to")]
    LinkRequiresLogin,

    /// Unlinking would leave the user with no way to log in.
    #[error("this is your last way to log in; add another before removing it")]
    LastLoginMethod,

    /// The user has no identity linked at this provider.
    #[error("no identity is linked at this provider")]
    NotLinked,

    /// The provider's configuration cannot work (for example an invalid URL).
    #[error("OAuth provider configuration error: {0}")]
    Config(String),
}

impl OAuthError {
    /// Wraps a code-exchange failure.
    pub fn code_exchange(err: impl Into<BoxError>) -> Self {
        Self::CodeExchange(err.into())
    }

    /// Wraps an ID-token validation failure.
    pub fn invalid_id_token(err: impl Into<BoxError>) -> Self {
        Self::InvalidIdToken(err.into())
    }

    /// Wraps any other provider failure.
    pub fn provider(err: impl Into<BoxError>) -> Self {
        Self::Provider(err.into())
    }
}
