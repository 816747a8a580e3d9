//! Session cookie settings.

use cookie::SameSite;

/// The secure default cookie name. The `__Host-` prefix makes browsers refuse the cookie unless it is
/// `Secure`, has `Path=/` and no `Domain`, so a subdomain cannot plant or overwrite it.
pub const SECURE_COOKIE_NAME: &str = "__Host-torii_session";

/// The cookie name used by [`CookieConfig::development`] (plain http cannot use the `__Host-` prefix).
pub const DEVELOPMENT_COOKIE_NAME: &str = "torii_session";

/// How the session cookie is written.
///
/// The default is the secure one: `__Host-torii_session`, `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`,
/// no `Domain`, expiring with the session. [`CookieConfig::development`] drops `Secure` (and the prefix,
/// which requires it) so the cookie works on `http://localhost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieConfig {
    pub(crate) name: String,
    pub(crate) secure: bool,
    pub(crate) same_site: SameSite,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self { name: SECURE_COOKIE_NAME.to_owned(), secure: true, same_site: SameSite::Lax }
    }
}

impl CookieConfig {
    /// The secure default (for HTTPS deployments).
    pub fn secure() -> Self {
        Self::default()
    }

    /// For local development over plain http: no `Secure` attribute, cookie named `torii_session`.
    /// Everything else (HttpOnly, SameSite=Lax, Path=/) stays.
    pub fn development() -> Self {
        Self { name: DEVELOPMENT_COOKIE_NAME.to_owned(), secure: false, same_site: SameSite::Lax }
    }

    /// Uses `SameSite=Strict` instead of `Lax` (the cookie is then not sent when a user follows a link
    /// to your site from elsewhere).
    pub fn same_site_strict(mut self) -> Self {
        self.same_site = SameSite::Strict;
        self
    }

    /// Sets the cookie name. A name starting with `__Host-` is only kept on a secure configuration,
    /// because browsers reject such a cookie without `Secure`; on a development configuration the prefix
    /// is dropped.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.name = match name.strip_prefix("__Host-") {
            Some(rest) if !self.secure => rest.to_owned(),
            _ => name,
        };
        self
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the cookie is marked `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }
}
