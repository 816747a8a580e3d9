//! Writing and clearing the session cookie.

use chrono::{DateTime, Utc};
use cookie::Cookie;
use cookie::time::OffsetDateTime;
use tower_cookies::Cookies;

use crate::config::CookieConfig;

fn base(config: &CookieConfig, value: String) -> cookie::CookieBuilder<'static> {
    Cookie::build((config.name.clone(), value))
        .http_only(true)
        .secure(config.secure)
        .same_site(config.same_site)
        .path("/")
}

/// Sets the session cookie, expiring when the session does.
pub(crate) fn set_session_cookie(cookies: &Cookies, config: &CookieConfig, token: &str, expires_at: DateTime<Utc>) {
    let expires = OffsetDateTime::from_unix_timestamp(expires_at.timestamp()).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let max_age = (expires_at - Utc::now()).num_seconds().max(0);
    cookies
        .add(base(config, token.to_owned()).expires(expires).max_age(cookie::time::Duration::seconds(max_age)).build());
}

/// Tells the browser to drop the session cookie.
pub(crate) fn clear_session_cookie(cookies: &Cookies, config: &CookieConfig) {
    cookies.add(
        base(config, String::new()).expires(OffsetDateTime::UNIX_EPOCH).max_age(cookie::time::Duration::ZERO).build(),
    );
}
