//! The [`Mailer`] trait, the message it sends, and two mailers that need no mail server: an in-memory
//! outbox for tests and a console mailer for development.

use std::sync::{Arc, Mutex};

use crate::email::validate_email;
use crate::error::BoxError;

/// What a message is about. Mailers may use it to pick a template, a sender or a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// A passwordless sign-in link.
    MagicLink,
    /// A link that proves ownership of an address.
    EmailVerification,
    /// A link to choose a new password.
    PasswordReset,
    /// A notice that the password was changed (carries no link that grants anything).
    PasswordChanged,
    /// A notice that someone tried to sign up with an address that already has an account (see
    /// [`super::EmailConfig::conceal_existing_accounts`]; carries no link).
    AccountExists,
}

impl MessageKind {
    /// A stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MagicLink => "magic_link",
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::AccountExists => "account_exists",
        }
    }
}

/// One email, ready to send: a plain-text and an HTML body.
///
/// Built only through [`EmailMessage::new`], which refuses recipients and subjects that could inject
/// headers, so a [`Mailer`] can put them into headers as they are.
#[derive(Clone)]
pub struct EmailMessage {
    kind: MessageKind,
    from: String,
    to: String,
    subject: String,
    text: String,
    html: String,
    link: Option<String>,
}

impl std::fmt::Debug for EmailMessage {
    // The bodies and the link carry a live token: keep them out of logs and panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailMessage")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl EmailMessage {
    /// A message from `from` to `to`. `link` is the action URL the bodies contain, if any (the console
    /// mailer prints it).
    ///
    /// # Errors
    /// [`MailError::InvalidMessage`] when an address is not a valid email address or the subject
    /// contains control characters (CR/LF would let a value add headers).
    pub fn new(
        kind: MessageKind,
        from: &str,
        to: &str,
        subject: impl Into<String>,
        text: String,
        html: String,
        link: Option<String>,
    ) -> Result<Self, MailError> {
        let from = validate_email(from).map_err(|_| MailError::InvalidMessage("invalid sender address"))?;
        let to = validate_email(to).map_err(|_| MailError::InvalidMessage("invalid recipient address"))?;
        let subject = subject.into();
        if subject.chars().any(char::is_control) {
            return Err(MailError::InvalidMessage("the subject contains control characters"));
        }
        Ok(Self { kind, from, to, subject, text, html, link })
    }

    /// What the message is about.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The sender address.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// The recipient address.
    pub fn to(&self) -> &str {
        &self.to
    }

    /// The subject line.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The plain-text body.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The HTML body.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The action link in the bodies, if any. It contains a live token: do not log it.
    pub fn link(&self) -> Option<&str> {
        self.link.as_deref()
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The message cannot be sent as built (an address or header value is invalid). Retrying will not
    /// help.
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),
    /// The mail server refused the message for good (for example an unknown mailbox).
    #[error("the mail server refused the message")]
    Rejected(#[source] BoxError),
    /// The mail server could not be reached or failed for now; retrying may help.
    #[error("the mail server is unavailable")]
    Transient(#[source] BoxError),
}

impl MailError {
    /// True when sending again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// Sends email. Implemented by the SMTP mailer (`torii-mailer-smtp`), [`ConsoleMailer`] and
/// [`OutboxMailer`]; an application can implement it over any mail API.
///
/// It is a trait object (`Arc<dyn Mailer>`) so the mailer can be chosen at start-up without changing the
/// coordinator's type. Implementations are called off the request path and retried on
/// [`MailError::Transient`] errors.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one message.
    ///
    /// # Errors
    /// [`MailError`]: transient failures are retried, the others are logged and dropped.
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError>;
}

/// A development mailer that sends nothing and logs each message's recipient, subject and link at
/// `info` level instead.
///
/// **For development only.** The link carries a live token, and anyone who can read the logs can use it
/// to sign in as the recipient. That is what makes it useful on a laptop (click the link in the
/// terminal) and why it must never be used in production. It logs the link and nothing else that
/// contains the token (never the bodies).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleMailer;

#[async_trait::async_trait]
impl Mailer for ConsoleMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        tracing::info!(
            kind = message.kind.as_str(),
            to = %message.to,
            subject = %message.subject,
            link = message.link.as_deref().unwrap_or("-"),
            "email (console mailer, development only: not sent)"
        );
        Ok(())
    }
}

/// A mailer that keeps every message in memory, for tests. Clones share one outbox.
///
/// It can be told to fail the next few sends with a transient error, to test retries.
#[derive(Debug, Clone, Default)]
pub struct OutboxMailer {
    inner: Arc<Mutex<Outbox>>,
}

#[derive(Debug, Default)]
struct Outbox {
    messages: Vec<EmailMessage>,
    fail_next: u32,
    attempts: u32,
}

impl OutboxMailer {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outbox> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes the next `count` sends fail with a transient error.
    pub fn fail_next(&self, count: u32) {
        self.lock().fail_next = count;
    }

    /// Every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<EmailMessage> {
        self.lock().messages.clone()
    }

    /// The messages sent to `to` (compared ignoring case), oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<EmailMessage> {
        self.lock().messages.iter().filter(|m| m.to.eq_ignore_ascii_case(to)).cloned().collect()
    }

    /// The newest message sent to `to`.
    pub fn last_to(&self, to: &str) -> Option<EmailMessage> {
        self.messages_to(to).pop()
    }

    /// How many sends were attempted, failed ones included.
    pub fn attempts(&self) -> u32 {
        self.lock().attempts
    }

    /// Empties the outbox.
    pub fn clear(&self) {
        self.lock().messages.clear();
    }
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let mut outbox = self.lock();
        outbox.attempts += 1;
        if outbox.fail_next > 0 {
            outbox.fail_next -= 1;
            return Err(MailError::Transient("outbox told to fail".into()));
        }
        outbox.messages.push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str, subject: &str) -> Result<EmailMessage, MailError> {
        EmailMessage::new(
            MessageKind::MagicLink,
            "noreply@example.com",
            to,
            subject,
            "text".into(),
            "<p>html</p>".into(),
            Some("https://app.example/x?token=secret".into()),
        )
    }

    #[test]
    fn header_injection_is_refused() {
        assert!(message("a@example.com\r\nBcc: victim@example.com", "Hi").is_err());
        assert!(message("a@example.com", "Hi\r\nBcc: victim@example.com").is_err());
        assert!(message("a@example.com", "Hi\nthere").is_err());
        assert!(message("a@example.com", "Sign in").is_ok());
    }

    #[test]
    fn debug_hides_the_link_and_bodies() {
        let m = message("a@example.com", "Sign in").ok();
        let shown = format!("{m:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("a@example.com"));
    }

    #[tokio::test]
    async fn outbox_records_and_fails_on_request() {
        let outbox = OutboxMailer::new();
        let m = message("A@example.com", "Sign in").ok();
        let Some(m) = m else { return };
        outbox.fail_next(1);
        assert!(outbox.send(&m).await.is_err_and(|e| e.is_transient()));
        assert!(outbox.send(&m).await.is_ok());
        assert_eq!(outbox.attempts(), 2);
        assert_eq!(outbox.messages_to("a@example.com").len(), 1);
        assert!(ConsoleMailer.send(&m).await.is_ok());
    }
}
