//! Configuration from environment variables, for deployments that keep settings out of the code.
//!
//! Two readers share one set of conventions: [`SessionConfig::from_env`] builds Torii's login-session
//! configuration, and [`session_store::SessionConfig::from_env`](crate::session_store::SessionConfig::from_env)
//! the application session store's. Both have a `from_lookup` twin that reads through a closure, so
//! tests (and applications with their own configuration source) need not touch the process
//! environment.
//!
//! ```
//! use torii_core::{JwtAlgorithm, SessionConfig, SessionProviderType};
//!
//! let env = |name: &str| match name {
//!     "TORII_SESSION_EXPIRES_IN" => Some("12h".to_string()),
//!     "JWT_SECRET" => Some("a-secret-that-is-at-least-32-bytes-long".to_string()),
//!     _ => None,
//! };
//! let config = SessionConfig::from_lookup(env)?;
//! assert_eq!(config.expires_in, chrono::Duration::hours(12));
//! assert!(matches!(&config.provider_type, SessionProviderType::Jwt(jwt) if jwt.algorithm() == JwtAlgorithm::HS256));
//! # Ok::<(), torii_core::ToriiError>(())
//! ```
//!
//! # Variables
//!
#![doc = include_str!("environment-variables.md")]

use chrono::Duration;

use crate::error::ToriiError;
use crate::jwt::{JwtAlgorithm, JwtConfig};
use crate::session::SessionConfig;

/// The longest accepted `TORII_SESSION_EXPIRES_IN`: ten years. Longer is a typo, not a policy.
const MAX_EXPIRES_IN_DAYS: i64 = 3650;

impl SessionConfig {
    /// Reads the login-session configuration from the process environment (the `TORII_SESSION_*` and
    /// `JWT_*` variables in the [table](crate::settings)). JWT keys are loaded and checked here, so a
    /// configuration that is returned works.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] naming the first variable that cannot be used, or the combination
    /// that contradicts itself (for example `JWT_SECRET` with `JWT_ALGORITHM=RS256`). Messages never
    /// contain a secret.
    pub fn from_env() -> Result<Self, ToriiError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`SessionConfig::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`SessionConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ToriiError> {
        let get = |name: &str| non_empty(lookup(name));
        let mut config = Self::default();
        if let Some(value) = get("TORII_SESSION_EXPIRES_IN") {
            config.expires_in = parse_duration(&value).map_err(|reason| error("TORII_SESSION_EXPIRES_IN", &reason))?;
        }

        let secret = get("JWT_SECRET");
        let private_key = get("JWT_PRIVATE_KEY_PATH");
        let public_key = get("JWT_PUBLIC_KEY_PATH");
        let jwt = match get("TORII_SESSION_PROVIDER").map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("jwt") => true,
            Some("opaque") => false,
            Some(other) => {
                return Err(error("TORII_SESSION_PROVIDER", &format!("{other:?} is not one of opaque, jwt")));
            }
            None => secret.is_some() || private_key.is_some(),
        };
        if !jwt {
            // A JWT setting next to opaque sessions is a half-finished configuration; say so rather than
            // silently ignore it.
            for name in ["JWT_SECRET", "JWT_PRIVATE_KEY_PATH", "JWT_PUBLIC_KEY_PATH", "JWT_ALGORITHM", "JWT_ISSUER"] {
                if get(name).is_some() {
                    return Err(error(
                        name,
                        "is set but sessions are opaque; set TORII_SESSION_PROVIDER=jwt (and a key) or unset it",
                    ));
                }
            }
            return Ok(config);
        }

        let algorithm = match get("JWT_ALGORITHM") {
            None => JwtAlgorithm::HS256,
            Some(value) => parse_algorithm(&value).map_err(|reason| error("JWT_ALGORITHM", &reason))?,
        };
        let mut jwt = if algorithm == JwtAlgorithm::HS256 {
            if let Some(name) = [("JWT_PRIVATE_KEY_PATH", &private_key), ("JWT_PUBLIC_KEY_PATH", &public_key)]
                .into_iter()
                .find_map(|(name, value)| value.is_some().then_some(name))
            {
                return Err(error(name, "is set but JWT_ALGORITHM is HS256, which uses JWT_SECRET; set JWT_ALGORITHM"));
            }
            let secret = secret.ok_or_else(|| error("JWT_SECRET", "is required for JWT sessions signed with HS256"))?;
            let jwt = JwtConfig::new_hs256(secret.into_bytes());
            // The validation message gives the length, never the secret.
            jwt.validate().map_err(|e| error("JWT_SECRET", &reason_of(e)))?;
            jwt
        } else {
            if secret.is_some() {
                return Err(error(
                    "JWT_SECRET",
                    &format!("is set but JWT_ALGORITHM is {algorithm:?}, which uses key files"),
                ));
            }
            let required = |name| error(name, &format!("is required with JWT_ALGORITHM={algorithm:?}"));
            let private_key = private_key.ok_or_else(|| required("JWT_PRIVATE_KEY_PATH"))?;
            let public_key = public_key.ok_or_else(|| required("JWT_PUBLIC_KEY_PATH"))?;
            let loaded = match algorithm {
                JwtAlgorithm::RS256 => JwtConfig::from_rs256_pem_files(&private_key, &public_key),
                JwtAlgorithm::ES256 => JwtConfig::from_es256_pem_files(&private_key, &public_key),
                _ => JwtConfig::from_eddsa_pem_files(&private_key, &public_key),
            };
            loaded.map_err(|e| error("JWT_PRIVATE_KEY_PATH/JWT_PUBLIC_KEY_PATH", &reason_of(e)))?
        };
        if let Some(issuer) = get("JWT_ISSUER") {
            jwt = jwt.with_issuer(issuer);
        }
        Ok(config.with_jwt(jwt))
    }
}

fn error(variable: &str, reason: &str) -> ToriiError {
    ToriiError::ConfigError(format!("{variable}: {reason}"))
}

/// The message of a configuration error, without the "configuration error:" prefix.
fn reason_of(err: ToriiError) -> String {
    match err {
        ToriiError::ConfigError(reason) => reason,
        other => other.to_string(),
    }
}

/// `None` for an unset variable and for one set to an empty or blank string.
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Parses an on/off value; the error describes what is accepted.
pub(crate) fn parse_flag(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{value:?} is not one of true, 1, yes, on, false, 0, no, off")),
    }
}

/// Parses `86400`, `90s`, `15m`, `12h` or `30d` into a positive duration of at most ten years.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let text = value.trim();
    let (digits, unit_secs) = match text.char_indices().last() {
        Some((i, 's')) => (&text[..i], 1),
        Some((i, 'm')) => (&text[..i], 60),
        Some((i, 'h')) => (&text[..i], 3600),
        Some((i, 'd')) => (&text[..i], 86_400),
        _ => (text, 1),
    };
    let invalid = || format!("{value:?} is not a duration: use seconds (86400) or a number with s, m, h or d (30d)");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let seconds = digits.parse::<i64>().ok().and_then(|n| n.checked_mul(unit_secs)).ok_or_else(invalid)?;
    if seconds == 0 || seconds > MAX_EXPIRES_IN_DAYS * 86_400 {
        return Err(format!("{value:?} must be more than zero and at most {MAX_EXPIRES_IN_DAYS}d"));
    }
    Ok(Duration::seconds(seconds))
}

fn parse_algorithm(value: &str) -> Result<JwtAlgorithm, String> {
    match value.trim().to_ascii_uppercase().as_str() {
        "HS256" => Ok(JwtAlgorithm::HS256),
        "RS256" => Ok(JwtAlgorithm::RS256),
        "ES256" => Ok(JwtAlgorithm::ES256),
        "EDDSA" => Ok(JwtAlgorithm::EdDSA),
        _ => Err(format!("{value:?} is not one of HS256, RS256, ES256, EdDSA")),
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
