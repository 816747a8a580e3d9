//! Configuration of the email flows: who the mail is from, where its links point, how long tokens live.

use chrono::Duration;

use crate::email::validate_email;
use crate::error::ToriiError;

/// Default lifetime of a magic link.
pub const DEFAULT_MAGIC_LINK_LIFETIME: Duration = Duration::minutes(10);
/// Default lifetime of an email verification link.
pub const DEFAULT_VERIFICATION_LIFETIME: Duration = Duration::hours(24);
/// Default lifetime of a password reset link.
pub const DEFAULT_RESET_LIFETIME: Duration = Duration::minutes(30);

/// Configuration of [`super::EmailFlows`].
///
/// Links in messages are built from the configured base URL and paths, never from the request (a
/// spoofed `Host` header must not be able to send a victim a link to an attacker's site). The default
/// paths match the `torii-axum` routes nested under `/auth`.
///
/// ```
/// use torii_core::email_flows::EmailConfig;
///
/// let config = EmailConfig::new("Acme", "https://app.example/", "noreply@app.example")?
///     .create_accounts_on_magic_link(true);
/// assert_eq!(config.link(config.magic_link_path(), "abc"), "https://app.example/auth/magic-link?token=abc");
/// # Ok::<(), torii_core::ToriiError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmailConfig {
    app_name: String,
    base_url: String,
    from: String,
    pub(super) magic_link_path: String,
    pub(super) verify_email_path: String,
    pub(super) reset_password_path: String,
    pub(super) magic_link_lifetime: Duration,
    pub(super) verification_lifetime: Duration,
    pub(super) reset_lifetime: Duration,
    pub(super) create_accounts: bool,
    pub(super) login_after_reset: bool,
    pub(super) verify_on_register: bool,
    pub(super) conceal_existing: bool,
    pub(super) rate_limit_max: u32,
    pub(super) rate_limit_window: Duration,
    pub(super) send_attempts: u32,
    pub(super) retry_backoff: std::time::Duration,
}

impl EmailConfig {
    /// A configuration for the application called `app_name`, served at `base_url` (scheme and host,
    /// optionally a path prefix; no query or fragment), sending from `from`.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when the base URL is not an absolute `http(s)` URL without query,
    /// fragment or characters that need escaping, when `from` is not an email address, or when the app
    /// name contains control characters or HTML markup characters.
    pub fn new(app_name: &str, base_url: &str, from: &str) -> Result<Self, ToriiError> {
        let base_url = check_base_url(base_url)?;
        let from = validate_email(from).map_err(|_| ToriiError::ConfigError("the sender address is invalid".into()))?;
        if app_name.trim().is_empty() || app_name.chars().any(|c| c.is_control() || "<>&\"'".contains(c)) {
            return Err(ToriiError::ConfigError(
                "the app name is empty or contains control or markup characters".into(),
            ));
        }
        Ok(Self {
            app_name: app_name.trim().to_owned(),
            base_url,
            from,
            magic_link_path: "/auth/magic-link".into(),
            verify_email_path: "/auth/verify-email".into(),
            reset_password_path: "/auth/password/reset".into(),
            magic_link_lifetime: DEFAULT_MAGIC_LINK_LIFETIME,
            verification_lifetime: DEFAULT_VERIFICATION_LIFETIME,
            reset_lifetime: DEFAULT_RESET_LIFETIME,
            create_accounts: false,
            login_after_reset: false,
            verify_on_register: true,
            conceal_existing: false,
            rate_limit_max: 3,
            rate_limit_window: Duration::minutes(15),
            send_attempts: 4,
            retry_backoff: std::time::Duration::from_millis(500),
        })
    }

    /// Sets the path (below the base URL) of the page a magic link opens (default
    /// `/auth/magic-link`), of the email verification page (`/auth/verify-email`) and of the password
    /// reset page (`/auth/password/reset`). Each page receives the token as `?token=`.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when a path does not start with `/` or contains characters that need
    /// escaping.
    pub fn paths(mut self, magic_link: &str, verify_email: &str, reset_password: &str) -> Result<Self, ToriiError> {
        for path in [magic_link, verify_email, reset_password] {
            if !path.starts_with('/') || !path.chars().all(is_plain_url_char) || path.contains(['?', '#']) {
                return Err(ToriiError::ConfigError("an email link path is invalid".into()));
            }
        }
        self.magic_link_path = magic_link.into();
        self.verify_email_path = verify_email.into();
        self.reset_password_path = reset_password.into();
        Ok(self)
    }

    /// Sets how long magic links stay valid (default 10 minutes).
    pub fn magic_link_lifetime(mut self, lifetime: Duration) -> Self {
        self.magic_link_lifetime = lifetime;
        self
    }

    /// Sets how long email verification links stay valid (default 24 hours).
    pub fn verification_lifetime(mut self, lifetime: Duration) -> Self {
        self.verification_lifetime = lifetime;
        self
    }

    /// Sets how long password reset links stay valid (default 30 minutes).
    pub fn reset_lifetime(mut self, lifetime: Duration) -> Self {
        self.reset_lifetime = lifetime;
        self
    }

    /// When on, a magic link requested for an unknown address is sent, and following it creates the
    /// account (with the address verified). Off by default: links go only to existing accounts.
    pub fn create_accounts_on_magic_link(mut self, on: bool) -> Self {
        self.create_accounts = on;
        self
    }

    /// When on, a successful password reset also logs the user in (the HTTP layer sets the session
    /// cookie). Off by default: the user logs in with the new password.
    pub fn login_after_reset(mut self, on: bool) -> Self {
        self.login_after_reset = on;
        self
    }

    /// When on (the default), registering through [`super::EmailFlows::register_user_with_password`]
    /// or the `POST /register` route of `torii-axum` mails the new account a link that verifies its
    /// address. The mail is sent in the background: the registration's answer never depends on it.
    pub fn send_verification_on_register(mut self, on: bool) -> Self {
        self.verify_on_register = on;
        self
    }

    /// When on, signing up (`POST /register`, passkey sign-up) with an address that already has an
    /// account is answered exactly like a sign-up with a new address (the same status and body shape,
    /// and no session for either), and the account's owner is mailed a notice instead. Off by default:
    /// such a sign-up gets 409 `email_taken`, which tells anyone whether an address has an account.
    ///
    /// The price: nobody is logged in by signing up; a new account logs in afterwards (and confirms its
    /// address first, with [`crate::Torii::require_verified_email`]). The book's security chapter
    /// weighs this trade-off.
    pub fn conceal_existing_accounts(mut self, on: bool) -> Self {
        self.conceal_existing = on;
        self
    }

    /// At most `max` messages of each kind per account within `window` (default 3 per 15 minutes);
    /// requests beyond it are answered like the others but send nothing.
    pub fn rate_limit(mut self, max: u32, window: Duration) -> Self {
        self.rate_limit_max = max;
        self.rate_limit_window = window;
        self
    }

    /// How many times a message is tried in all (default 4) and the pause before the first retry
    /// (default 500 ms, doubling each time).
    pub fn retries(mut self, attempts: u32, first_backoff: std::time::Duration) -> Self {
        self.send_attempts = attempts.max(1);
        self.retry_backoff = first_backoff;
        self
    }

    /// Whether sign-ups with a registered address are answered like new ones (see
    /// [`EmailConfig::conceal_existing_accounts`]).
    pub fn conceals_existing_accounts(&self) -> bool {
        self.conceal_existing
    }

    /// The application's name, as shown in messages.
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The sender address.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// The magic link page's path.
    pub fn magic_link_path(&self) -> &str {
        &self.magic_link_path
    }

    /// The email verification page's path.
    pub fn verify_email_path(&self) -> &str {
        &self.verify_email_path
    }

    /// The password reset page's path.
    pub fn reset_password_path(&self) -> &str {
        &self.reset_password_path
    }

    /// Whether a password reset also logs the user in.
    pub fn logs_in_after_reset(&self) -> bool {
        self.login_after_reset
    }

    /// Whether a new account is mailed a verification link.
    pub fn sends_verification_on_register(&self) -> bool {
        self.verify_on_register
    }

    /// The link to `path` carrying `token` (tokens are base64url, so they need no escaping).
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{}?token={}", self.base_url, path, token)
    }
}

/// Characters that may appear in a URL as they are and are harmless inside HTML attributes.
fn is_plain_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~/:@!$&()*+,;=%[]".contains(c)
}

fn check_base_url(input: &str) -> Result<String, ToriiError> {
    let invalid = || ToriiError::ConfigError("the email base URL must be an absolute http(s) URL".into());
    let url = input.trim().trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).ok_or_else(invalid)?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || url.contains(['?', '#', '\'', '"']) || !url.chars().all(is_plain_url_char) {
        return Err(invalid());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_is_checked_and_normalised() {
        let ok = |u: &str| EmailConfig::new("Acme", u, "noreply@app.example").map(|c| c.base_url().to_owned()).ok();
        assert_eq!(ok("https://app.example/").as_deref(), Some("https://app.example"));
        assert_eq!(ok("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(ok("https://app.example/prefix/").as_deref(), Some("https://app.example/prefix"));
        for bad in ["app.example", "ftp://x.example", "https://", "https://a.example/?x=1", "https://a.example/#f"] {
            assert!(ok(bad).is_none(), "{bad}");
        }
        assert!(ok("https://a.example/\"><script>").is_none());
        assert!(EmailConfig::new("Acme\r\nBcc: x", "https://a.example", "noreply@app.example").is_err());
        assert!(EmailConfig::new("<b>Acme</b>", "https://a.example", "noreply@app.example").is_err());
        assert!(EmailConfig::new("Acme", "https://a.example", "no reply@app.example").is_err());
    }

    #[test]
    fn paths_are_checked() {
        let config = EmailConfig::new("Acme", "https://a.example", "noreply@a.example");
        let Ok(config) = config else { return };
        assert!(config.clone().paths("/m", "/v", "/r").is_ok());
        assert!(config.clone().paths("m", "/v", "/r").is_err());
        assert!(config.paths("/m?x", "/v", "/r").is_err());
    }
}
