//! Email for the example: magic links, address verification, password reset and change, mailed by the
//! console mailer (the link appears in the log) unless `SMTP_URL` names a server.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use torii::email_flows::{ConsoleMailer, EmailConfig, EmailFlows, Mailer};
use torii::{RepositoryProvider, Torii};
use torii_mailer_smtp::{SmtpConfig, SmtpMailer};

/// The sender when `MAIL_FROM` is not set.
const DEFAULT_FROM: &str = "noreply@example.com";

/// The variable that turns concealed sign-ups off.
const CONCEAL: &str = "TORII_CONCEAL_EXISTING_ACCOUNTS";

/// The application name messages are signed with.
const APP_NAME: &str = "Torii example";

/// Mail settings read from the environment at start-up.
pub(crate) struct MailSettings {
    /// The SMTP server (`SMTP_URL`), or `None` for the console mailer.
    smtp: Option<SmtpConfig>,
    /// The sender address (`MAIL_FROM`).
    from: String,
    /// Where links in messages point (`APP_BASE_URL`); the listen URL when unset.
    base_url: Option<String>,
    /// Whether sign-ups with a registered address are answered like new ones
    /// (`TORII_CONCEAL_EXISTING_ACCOUNTS`, on unless set to an "off" value).
    conceal_existing_accounts: bool,
}

impl MailSettings {
    /// Reads `SMTP_URL`, `MAIL_FROM` and `APP_BASE_URL`.
    ///
    /// # Errors
    /// When one is set to something that cannot be used. Messages never quote `SMTP_URL`, which can
    /// carry a password.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let smtp = lookup("SMTP_URL").filter(|u| !u.trim().is_empty()).map(|u| smtp_config(&u)).transpose()?;
        let from = lookup("MAIL_FROM").unwrap_or_else(|| DEFAULT_FROM.to_owned());
        let base_url = lookup("APP_BASE_URL").filter(|u| !u.trim().is_empty());
        let conceal_existing_accounts = match lookup(CONCEAL) {
            Some(value) => crate::config::flag(Some(value), CONCEAL)?,
            None => true,
        };
        let settings = Self { smtp, from, base_url, conceal_existing_accounts };
        // Checked now so a typo stops the server before it listens.
        EmailConfig::new(APP_NAME, settings.base_url.as_deref().unwrap_or("http://127.0.0.1"), &settings.from)
            .context("MAIL_FROM or APP_BASE_URL cannot be used")?;
        Ok(settings)
    }

    /// Which mailer is in use, for the start-up log line.
    pub(crate) fn mailer_name(&self) -> &'static str {
        if self.smtp.is_some() { "smtp" } else { "console" }
    }

    /// The email flows over `torii`. Links point at `APP_BASE_URL`, or at `listening` (the address
    /// actually bound; an unspecified IP becomes 127.0.0.1).
    ///
    /// # Errors
    /// When the base URL, the sender or the SMTP TLS settings cannot be used.
    pub(crate) fn flows<R>(&self, torii: Arc<Torii<R>>, listening: SocketAddr) -> anyhow::Result<EmailFlows<R>>
    where
        R: RepositoryProvider + torii::storage::MagicLinkStorage,
    {
        let base_url = match &self.base_url {
            Some(url) => url.clone(),
            None => listen_url(listening),
        };
        // ANCHOR: conceal
        // Sign-ups with a registered address are answered like new ones (201, no session) and its
        // owner is mailed a notice, so the sign-up form does not tell who has an account.
        let config = EmailConfig::new(APP_NAME, &base_url, &self.from)
            .context("cannot configure email")?
            .conceal_existing_accounts(self.conceal_existing_accounts);
        // ANCHOR_END: conceal
        let mailer: Arc<dyn Mailer> = match &self.smtp {
            Some(smtp) => Arc::new(SmtpMailer::new(smtp).context("cannot configure the SMTP mailer")?),
            // Development only: the link in the log signs the recipient in.
            None => Arc::new(ConsoleMailer),
        };
        Ok(EmailFlows::new(torii, config, mailer))
    }
}

/// `http://ip:port` of the listening socket, usable in a browser on this machine.
fn listen_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Parses `SMTP_URL`:
/// - `smtp://host[:port]`: STARTTLS, required (port 587 by default);
/// - `smtps://host[:port]`: TLS from the first byte (port 465 by default);
/// - `smtp+plain://host:port`: no encryption, for a local mail catcher only.
///
/// `user:password@` before the host logs in (percent-encode special characters).
fn smtp_config(text: &str) -> anyhow::Result<SmtpConfig> {
    // The URL is not quoted in any message: it can carry a password.
    let Ok(url) = url::Url::parse(text.trim()) else { bail!("SMTP_URL is not a URL") };
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else { bail!("SMTP_URL has no host") };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        bail!("SMTP_URL must be scheme://[user:password@]host[:port] with nothing after the port");
    }
    let mut config = match url.scheme() {
        "smtp" => SmtpConfig::starttls(host),
        "smtps" => SmtpConfig::tls(host),
        "smtp+plain" => {
            let Some(port) = url.port() else { bail!("SMTP_URL: smtp+plain:// needs a port") };
            if !matches!(url.host(), Some(url::Host::Domain("localhost"))) && !is_loopback(&url) {
                tracing::warn!("SMTP_URL sends mail unencrypted to another machine; use smtp:// or smtps://");
            }
            SmtpConfig::danger_plaintext(host, port)
        }
        _ => bail!("SMTP_URL must start with smtp:// (STARTTLS), smtps:// (TLS) or smtp+plain:// (local only)"),
    };
    if let Some(port) = url.port() {
        config = config.port(port);
    }
    if !url.username().is_empty() {
        let user = percent_decode(url.username()).context("SMTP_URL: the user name is not valid")?;
        let password = percent_decode(url.password().unwrap_or("")).context("SMTP_URL: the password is not valid")?;
        config = config.credentials(&user, &password);
    }
    Ok(config)
}

/// Decodes `%XX` escapes (and nothing else: a `+` stays a `+`); `None` for a bad escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<MailSettings> {
        MailSettings::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn console_mailer_and_listen_url_by_default() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.mailer_name(), "console");
        assert_eq!(s.from, DEFAULT_FROM);
        assert!(s.base_url.is_none());
        assert!(s.conceal_existing_accounts, "sign-ups conceal existing accounts unless turned off");
        assert!(!settings(&[(CONCEAL, "0")]).unwrap().conceal_existing_accounts);
        assert!(settings(&[(CONCEAL, "perhaps")]).is_err());
        assert_eq!(listen_url("0.0.0.0:3000".parse().unwrap()), "http://127.0.0.1:3000");
        assert_eq!(listen_url("127.0.0.1:4000".parse().unwrap()), "http://127.0.0.1:4000");
    }

    #[test]
    fn smtp_urls_select_security_port_and_login() {
        let cfg = |u: &str| format!("{:?}", smtp_config(u).unwrap());
        let starttls = cfg("smtp://mail.example.com");
        assert!(starttls.contains("security: StartTls") && starttls.contains("port: 587"), "{starttls}");
        let tls = cfg("smtps://user%40x.example:p%40ss@mail.example.com:2465");
        assert!(tls.contains("security: Tls") && tls.contains("port: 2465") && tls.contains("user@x.example"), "{tls}");
        assert!(!tls.contains("p@ss") && !tls.contains("p%40ss"), "the password stays out of Debug: {tls}");
        let plain = cfg("smtp+plain://127.0.0.1:1025");
        assert!(plain.contains("DangerPlaintext") && plain.contains("port: 1025"), "{plain}");
        assert_eq!(settings(&[("SMTP_URL", "smtp://mail.example.com")]).unwrap().mailer_name(), "smtp");
        assert_eq!(percent_decode("a+b%2Bc%20d").as_deref(), Some("a+b+c d"));
        assert!(percent_decode("bad%4").is_none() && percent_decode("bad%zz").is_none());
    }

    #[test]
    fn bad_values_stop_the_server_without_echoing_secrets() {
        for url in [
            "http://user:hunter2@mail.example.com",
            "smtp+plain://user:hunter2@localhost",
            "smtp://user:hunter2@mail.example.com/path",
            "not a url hunter2",
        ] {
            let message = format!("{:#}", settings(&[("SMTP_URL", url)]).err().unwrap());
            assert!(message.contains("SMTP_URL") && !message.contains("hunter2"), "{message}");
        }
        assert!(settings(&[("MAIL_FROM", "not an address")]).is_err());
        assert!(settings(&[("APP_BASE_URL", "ftp://app.example")]).is_err());
        assert!(settings(&[("APP_BASE_URL", "https://app.example/")]).is_ok());
    }
}
