//! Identity providers for Torii's OAuth 2.0 / OpenID Connect login: any OpenID Connect provider
//! through discovery ([`OidcProvider`], with [`OidcConfig::google`] for Google), and GitHub
//! ([`GitHubProvider`]). Each implements [`torii_core::OAuthProvider`]; register them on the
//! coordinator and the flow (`get_oauth_authorization_url`, `exchange_oauth_code`, the
//! `torii-axum` routes) does the rest.
//!
//! OpenID Connect is handled by `openidconnect` and plain OAuth 2.0 by `oauth2`; HTTP goes through
//! `reqwest` with rustls, never following redirects.
//!
//! ```no_run
//! # async fn demo(torii: torii_core::Torii<impl torii_core::storage::UserStorage>) -> Result<(), Box<dyn std::error::Error>> {
//! use torii_oauth::{GitHubConfig, GitHubProvider, OidcConfig, OidcProvider};
//!
//! let google = OidcProvider::discover(OidcConfig::google(
//!     "client-id",
//!     "client-secret",
//!     "https://app.example/auth/oauth/google/callback",
//! ))
//! .await?;
//! let github = GitHubProvider::new(GitHubConfig::new(
//!     "client-id",
//!     "client-secret",
//!     "https://app.example/auth/oauth/github/callback",
//! ))?;
//! let torii = torii.with_oauth_provider(google).with_oauth_provider(github);
//! # let _ = torii; Ok(()) }
//! ```
//!
//! # Adding another provider
//! A provider that speaks OpenID Connect needs only an [`OidcConfig`] with its issuer URL. For
//! anything else, implement [`torii_core::OAuthProvider`]: build the authorization URL (PKCE S256,
//! the given `state`) and turn a code into a verified [`torii_core::oauth::ProviderIdentity`];
//! [`GitHubProvider`] is a small example.
//!
//! # Environment variables
#![doc = "See [`env`] for the `TORII_OAUTH_*` variables read by [`env::configs_from_env`]."]

pub mod env;
mod github;
mod http;
mod oidc;

pub use github::{GitHubConfig, GitHubProvider};
pub use oidc::{GOOGLE_ISSUER, OidcConfig, OidcProvider};
/// The signing algorithms [`OidcConfig::with_allowed_algs`] takes.
pub use openidconnect::core::CoreJwsSigningAlgorithm as JwsAlgorithm;
