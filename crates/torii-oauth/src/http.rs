//! The HTTP client every provider uses.

use std::time::Duration;

use torii_core::oauth::OAuthError;

/// A client that never follows redirects (a provider endpoint answering with a redirect is an error,
/// not a reason to send credentials somewhere else), uses rustls, and gives up after 15 seconds.
pub(crate) fn http_client() -> Result<reqwest::Client, OAuthError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("torii-oauth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(OAuthError::provider)
}
