//! The device cookie (see `torii_core::throttle`): issued after a successful password login, so the
//! browser's later attempts are counted for it alone and a lock caused by strangers does not apply.

use chrono::TimeDelta;
use cookie::Cookie;
use torii_core::throttle::DeviceToken;
use tower_cookies::Cookies;

use crate::config::CookieConfig;

/// The device cookie's name with secure cookies (`__Host-`: only this site, over HTTPS, can set it).
pub const SECURE_DEVICE_COOKIE_NAME: &str = "__Host-torii_device";

/// The device cookie's name with [`CookieConfig::development`].
pub const DEVELOPMENT_DEVICE_COOKIE_NAME: &str = "torii_device";

fn name(config: &CookieConfig) -> &'static str {
    if config.is_secure() { SECURE_DEVICE_COOKIE_NAME } else { DEVELOPMENT_DEVICE_COOKIE_NAME }
}

/// The device token the browser sent, if any.
pub(crate) fn read_device_cookie(cookies: &Cookies, config: &CookieConfig) -> Option<DeviceToken> {
    cookies.get(name(config)).map(|cookie| DeviceToken::new(cookie.value()))
}

/// Gives the browser its (renewed) device token. `SameSite=Strict`: it is only ever needed by the
/// site's own login form.
pub(crate) fn set_device_cookie(cookies: &Cookies, config: &CookieConfig, token: &DeviceToken, lifetime: TimeDelta) {
    let cookie = Cookie::build((name(config), token.as_str().to_owned()))
        .http_only(true)
        .secure(config.is_secure())
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(lifetime.num_seconds().max(0)))
        .build();
    cookies.add(cookie);
}
