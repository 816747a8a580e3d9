//! An SMTP [`Mailer`] for Torii's email flows, on `lettre`: STARTTLS (the default), implicit TLS, or
//! plaintext for a local sink; optional authentication; connect and command timeouts; a connection
//! pool.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use torii_core::email_flows::Mailer;
//! use torii_mailer_smtp::{SmtpConfig, SmtpMailer};
//!
//! // STARTTLS on port 587 with a login; certificates checked against Mozilla's roots.
//! let config = SmtpConfig::starttls("smtp.example.com")
//!     .credentials("torii@example.com", "app password")
//!     .timeout(Duration::from_secs(10));
//! let mailer: Arc<dyn Mailer> = Arc::new(SmtpMailer::new(&config)?);
//! # Ok::<(), torii_mailer_smtp::SmtpError>(())
//! # }).unwrap();
//! ```
//!
//! Every send is bounded by [`SmtpConfig::send_timeout`]. Errors are mapped for the retry logic of `EmailFlows`: connection failures, timeouts and 4xx replies
//! are [`MailError::Transient`] (tried again), 5xx replies are [`MailError::Rejected`].

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use torii_core::email_flows::{EmailMessage, MailError, Mailer};

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte ("SMTPS", port 465).
    Tls,
    /// No encryption at all: mail and credentials travel in the clear. Only for a sink or relay on the
    /// same machine (see [`SmtpConfig::danger_plaintext`]).
    DangerPlaintext,
}

/// Where and how to send mail.
#[derive(Clone)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<(String, String)>,
    timeout: Duration,
    send_timeout: Duration,
    pool_max: u32,
    hello_name: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    // The password stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("timeout", &self.timeout)
            .field("send_timeout", &self.send_timeout)
            .field("pool_max", &self.pool_max)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    fn with(host: &str, port: u16, security: SmtpSecurity) -> Self {
        Self {
            host: host.to_owned(),
            port,
            security,
            credentials: None,
            timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            pool_max: 4,
            hello_name: None,
        }
    }

    /// STARTTLS on port 587 (required: a server that does not offer it is refused).
    pub fn starttls(host: &str) -> Self {
        Self::with(host, 587, SmtpSecurity::StartTls)
    }

    /// Implicit TLS on port 465.
    pub fn tls(host: &str) -> Self {
        Self::with(host, 465, SmtpSecurity::Tls)
    }

    /// No encryption, for a local SMTP sink or a relay on the same host. Anything on the network path
    /// can read and change the mail, including the links it carries, so never point this at another
    /// machine.
    pub fn danger_plaintext(host: &str, port: u16) -> Self {
        Self::with(host, port, SmtpSecurity::DangerPlaintext)
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Logs in with this user name and password (sent only after TLS is up, unless plaintext).
    pub fn credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Sets the timeout of connecting to the server (default 10 seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the deadline of sending one message, from taking a connection to the server's final reply
    /// (default 30 seconds). A server that stops answering mid-conversation is given up at this point
    /// and the message retried later.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// Sets how many connections the pool keeps at most (default 4).
    pub fn pool_max(mut self, connections: u32) -> Self {
        self.pool_max = connections.max(1);
        self
    }

    /// Sets the name sent in `EHLO` (default: this machine's host name).
    pub fn hello_name(mut self, name: &str) -> Self {
        self.hello_name = Some(name.to_owned());
        self
    }
}

/// The SMTP configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    /// The TLS parameters could not be built (for example an invalid host name).
    #[error("invalid SMTP TLS configuration")]
    Tls(#[source] lettre::transport::smtp::Error),
}

/// A [`Mailer`] that sends through an SMTP server. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    send_timeout: Duration,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for this server. Nothing is connected until the first message. Call it within a Tokio
    /// runtime (the pool runs a task that closes idle connections), and drop it there too.
    ///
    /// # Errors
    /// [`SmtpError::Tls`] when TLS parameters cannot be built for the host.
    pub fn new(config: &SmtpConfig) -> Result<Self, SmtpError> {
        let tls = match config.security {
            SmtpSecurity::DangerPlaintext => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(TlsParameters::new(config.host.clone()).map_err(SmtpError::Tls)?),
            SmtpSecurity::Tls => Tls::Wrapper(TlsParameters::new(config.host.clone()).map_err(SmtpError::Tls)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(config.pool_max).idle_timeout(Duration::from_secs(60)));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(lettre::transport::smtp::extension::ClientId::Domain(name.clone()));
        }
        Ok(Self { transport: builder.build(), send_timeout: config.send_timeout })
    }
}

/// Builds the MIME message: `multipart/alternative` with the plain text first and the HTML second.
///
/// # Errors
/// [`MailError::InvalidMessage`] when an address cannot be parsed.
pub fn to_mime(message: &EmailMessage) -> Result<Message, MailError> {
    let from: Mailbox = message.from().parse().map_err(|_| MailError::InvalidMessage("invalid sender address"))?;
    let to: Mailbox = message.to().parse().map_err(|_| MailError::InvalidMessage("invalid recipient address"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject())
        .multipart(MultiPart::alternative_plain_html(message.text().to_owned(), message.html().to_owned()))
        .map_err(|_| MailError::InvalidMessage("the message cannot be built"))
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let mime = to_mime(message)?;
        // lettre bounds connecting only; this bounds the whole conversation.
        match tokio::time::timeout(self.send_timeout, self.transport.send(mime)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) if err.is_permanent() => Err(MailError::Rejected(Box::new(err))),
            Ok(Err(err)) => Err(MailError::Transient(Box::new(err))),
            Err(elapsed) => Err(MailError::Transient(Box::new(elapsed))),
        }
    }
}
