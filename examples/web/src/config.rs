//! Settings read from the environment at start-up.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context as _, bail};
use torii::JwtConfig;
use torii::throttle::DeviceKey;
use torii_axum::{CookieConfig, TrustedProxies};

/// The database used when `DATABASE_URL` is not set: a file in the current directory, created if missing.
const DEFAULT_DATABASE_URL: &str = "sqlite://torii-example.db?mode=rwc";

/// The port used when `PORT` is not set.
const DEFAULT_PORT: u16 = 3000;

/// The storage backend a `DATABASE_URL` selects, by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `sqlite:` URLs: `torii::SqliteRepositoryProvider`.
    Sqlite,
    /// `postgres://` and `postgresql://` URLs: `torii::PostgresRepositoryProvider`.
    Postgres,
    /// `mysql://` URLs, for MySQL and MariaDB alike: `torii::SeaORMStorage` (Torii's SeaORM backend).
    MySql,
}

impl Backend {
    /// The backend for `url`, decided by its scheme alone.
    ///
    /// # Errors
    /// For any other scheme. The message never quotes the URL, which can carry a password.
    pub(crate) fn for_url(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme).to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" => Ok(Self::MySql),
            // The MySQL driver serves MariaDB too, under the one scheme it knows.
            "mariadb" => bail!("DATABASE_URL is a mariadb:// URL: reach MariaDB with a mysql:// URL"),
            _ => bail!("DATABASE_URL must be a sqlite:, postgres:// or mysql:// URL"),
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug)]
pub(crate) struct Config {
    /// Where the data lives (`DATABASE_URL`).
    pub(crate) database_url: String,
    /// Which backend `database_url` selects.
    pub(crate) backend: Backend,
    /// Where to listen (`BIND_ADDR` and `PORT`).
    pub(crate) addr: SocketAddr,
    /// How the session cookie is written (`TORII_SECURE_COOKIES`).
    pub(crate) cookies: CookieConfig,
    /// JWT sessions signed with `JWT_SECRET` (HS256), when it is set; opaque sessions otherwise.
    pub(crate) jwt: Option<JwtConfig>,
    /// Sessions unused for this long end (`TORII_IDLE_TIMEOUT_MINUTES`; opaque sessions only).
    pub(crate) idle_timeout: Option<chrono::Duration>,
    /// Reverse proxies whose forwarding headers give the client address (`TORII_TRUSTED_PROXIES`).
    pub(crate) trusted_proxies: TrustedProxies,
    /// The device-cookie signing key shared by every instance (`TORII_DEVICE_KEY`); a random one
    /// per process when unset.
    pub(crate) device_key: Option<DeviceKey>,
}

impl Config {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// When a variable is set to something that cannot be used; a typo should stop the server rather
    /// than be silently replaced by a default.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let database_url = lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let backend = Backend::for_url(&database_url)?;
        let ip = match lookup("BIND_ADDR") {
            Some(text) => text.parse::<IpAddr>().with_context(|| format!("BIND_ADDR={text:?} is not an IP address"))?,
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        // Port 0 asks the OS for a free port; the start-up log line says which one it picked.
        let port = match lookup("PORT") {
            Some(text) => text.parse::<u16>().with_context(|| format!("PORT={text:?} is not a port number"))?,
            None => DEFAULT_PORT,
        };
        let cookies = if flag(lookup("TORII_SECURE_COOKIES"), "TORII_SECURE_COOKIES")? {
            CookieConfig::secure()
        } else {
            CookieConfig::development()
        };
        let jwt = match lookup("JWT_SECRET") {
            Some(secret) => {
                let jwt = JwtConfig::new_hs256(secret.into_bytes()).with_issuer("torii-example");
                // The error names the problem (e.g. the length), never the secret.
                jwt.validate().context("JWT_SECRET cannot be used")?;
                Some(jwt)
            }
            None => None,
        };
        let idle_timeout = match lookup("TORII_IDLE_TIMEOUT_MINUTES").filter(|t| !t.trim().is_empty()) {
            Some(text) => {
                let minutes = text
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|m| *m > 0)
                    .with_context(|| format!("TORII_IDLE_TIMEOUT_MINUTES={text:?} is not a positive number"))?;
                Some(chrono::Duration::minutes(i64::from(minutes)))
            }
            None => None,
        };
        let trusted_proxies = match lookup("TORII_TRUSTED_PROXIES") {
            Some(list) => {
                TrustedProxies::parse(&list).context("TORII_TRUSTED_PROXIES must list IP addresses or CIDRs")?
            }
            None => TrustedProxies::none(),
        };
        let device_key = match lookup("TORII_DEVICE_KEY") {
            // The error names the problem (the length), never the key.
            Some(key) => Some(DeviceKey::from_bytes(key.as_bytes()).context("TORII_DEVICE_KEY cannot be used")?),
            None => None,
        };
        Ok(Self {
            database_url,
            backend,
            addr: SocketAddr::new(ip, port),
            cookies,
            jwt,
            idle_timeout,
            trusted_proxies,
            device_key,
        })
    }
}

/// Parses an on/off variable; unset means off.
pub(crate) fn flag(value: Option<String>, name: &str) -> anyhow::Result<bool> {
    match value.as_deref().map(str::trim) {
        None | Some("" | "0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => bail!("{name}={other:?} is not one of 1, true, yes, on, 0, false, no, off"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_are_local_and_plain_http() {
        let cfg = config(&[]).unwrap();
        assert_eq!(cfg.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(cfg.backend, Backend::Sqlite);
        assert_eq!(cfg.addr, "127.0.0.1:3000".parse().unwrap());
        assert!(!cfg.cookies.is_secure());
    }

    #[test]
    fn variables_override_and_bad_values_are_errors() {
        let cfg = config(&[
            ("DATABASE_URL", "sqlite::memory:"),
            ("BIND_ADDR", "0.0.0.0"),
            ("PORT", "0"),
            ("TORII_SECURE_COOKIES", "1"),
        ])
        .unwrap();
        assert_eq!(cfg.database_url, "sqlite::memory:");
        assert_eq!(cfg.addr, "0.0.0.0:0".parse().unwrap());
        assert!(cfg.cookies.is_secure());
        assert!(config(&[("PORT", "http")]).is_err());
        assert!(config(&[("BIND_ADDR", "localhost")]).is_err());
        assert!(config(&[("TORII_SECURE_COOKIES", "maybe")]).is_err());
    }

    #[test]
    fn an_idle_timeout_is_offered_and_checked() {
        assert_eq!(config(&[]).unwrap().idle_timeout, None);
        let cfg = config(&[("TORII_IDLE_TIMEOUT_MINUTES", "30")]).unwrap();
        assert_eq!(cfg.idle_timeout, Some(chrono::Duration::minutes(30)));
        assert!(config(&[("TORII_IDLE_TIMEOUT_MINUTES", "0")]).is_err());
        assert!(config(&[("TORII_IDLE_TIMEOUT_MINUTES", "half an hour")]).is_err());
    }

    #[test]
    fn the_url_scheme_selects_the_backend() {
        for (url, backend) in [
            ("sqlite::memory:", Backend::Sqlite),
            ("sqlite://data/torii.db?mode=rwc", Backend::Sqlite),
            ("postgres://torii:secret@db.internal/torii", Backend::Postgres),
            ("postgresql://localhost/torii", Backend::Postgres),
            ("POSTGRES://localhost/torii", Backend::Postgres),
            ("mysql://root@127.0.0.1:3306/torii", Backend::MySql),
            ("MySQL://localhost/torii", Backend::MySql),
        ] {
            assert_eq!(config(&[("DATABASE_URL", url)]).unwrap().backend, backend, "{url}");
        }
    }

    #[test]
    fn unknown_schemes_stop_the_server_without_echoing_the_url() {
        for url in ["redis://torii:hunter2@localhost", "mssql://torii:hunter2@db/torii", "torii.db", ""] {
            let message = format!("{:#}", config(&[("DATABASE_URL", url)]).unwrap_err());
            assert!(message.contains("sqlite:, postgres:// or mysql://"), "{message}");
            assert!(!message.contains("hunter2"), "the URL must not be echoed: {message}");
        }
        let message = format!("{:#}", config(&[("DATABASE_URL", "mariadb://torii:hunter2@db/torii")]).unwrap_err());
        assert!(message.contains("mysql:// URL"), "{message}");
        assert!(!message.contains("hunter2"), "the URL must not be echoed: {message}");
    }

    #[test]
    fn trusted_proxies_and_the_device_key_are_checked() {
        let cfg = config(&[]).unwrap();
        assert!(cfg.trusted_proxies.is_empty() && cfg.device_key.is_none());
        let cfg = config(&[
            ("TORII_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8"),
            ("TORII_DEVICE_KEY", "a-device-key-that-is-at-least-32-bytes"),
        ])
        .unwrap();
        assert!(cfg.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(cfg.device_key.is_some());
        assert!(config(&[("TORII_TRUSTED_PROXIES", "10.0.0.0/40")]).is_err());
        let message = format!("{:#}", config(&[("TORII_DEVICE_KEY", "short-key")]).unwrap_err());
        assert!(message.contains("32 bytes") && !message.contains("short-key"), "{message}");
    }

    #[test]
    fn jwt_secret_selects_jwt_sessions_and_short_secrets_stop_the_server() {
        assert!(config(&[]).unwrap().jwt.is_none());
        let cfg = config(&[("JWT_SECRET", "a-secret-that-is-at-least-32-bytes-long")]).unwrap();
        assert!(cfg.jwt.is_some());
        let err = config(&[("JWT_SECRET", "short-secret")]).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("at least 32 bytes"), "{message}");
        assert!(!message.contains("short-secret"), "the secret must not be echoed: {message}");
    }
}
