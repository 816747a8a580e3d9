//! Email flows: magic-link login, email address verification, password reset and password change.
//!
//! Two layers:
//! - Methods on [`crate::Torii`] (storage that implements [`crate::storage::MagicLinkStorage`]) issue
//!   and redeem the single-use tokens: [`crate::Torii::generate_magic_token`],
//!   [`crate::Torii::verify_magic_token`], [`crate::Torii::generate_email_verification_token`],
//!   [`crate::Torii::verify_email`], [`crate::Torii::generate_password_reset_token`],
//!   [`crate::Torii::reset_password`] and [`crate::Torii::change_password`]. Use them to deliver links
//!   yourself.
//! - [`EmailFlows`] adds the mail: templates ([`templates`]), links built from the configured base URL
//!   ([`EmailConfig`]), background delivery with retries through a [`Mailer`], and a per-account rate
//!   limit counted in storage ([`crate::storage::RateLimitStorage`]), shared by every instance.
//!
//! Every token is 256 bits from the OS CSPRNG, stored only as its SHA-256, bound to its purpose (a reset
//! token cannot log anyone in or verify an address), single use (redemption is one atomic storage
//! operation), and short-lived; issuing a new one voids the older ones of the same purpose.
//!
//! ```
//! # async fn demo<S>(torii: std::sync::Arc<torii_core::Torii<S>>) -> Result<(), torii_core::ToriiError>
//! # where
//! #     S: torii_core::storage::PasswordStorage + torii_core::storage::MagicLinkStorage
//! #         + torii_core::storage::RateLimitStorage,
//! # {
//! use std::sync::Arc;
//! use torii_core::email_flows::{EmailConfig, EmailFlows, OutboxMailer};
//!
//! let outbox = OutboxMailer::new();
//! let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example")?;
//! let flows = EmailFlows::new(torii, config, Arc::new(outbox.clone()));
//!
//! flows.send_magic_link("ada@example.com").await?; // the same answer for unknown addresses
//! flows.wait_idle().await;
//! if let Some(message) = outbox.last_to("ada@example.com") {
//!     let token = message.link().and_then(|l| l.split("token=").nth(1)).unwrap_or_default();
//!     let (user, session) = flows.verify_magic_token(token, None, None).await?;
//!     assert_eq!(session.user_id, user.id);
//! }
//! # Ok(()) }
//! ```

mod config;
mod delivery;
mod flows;
mod limiter;
mod mailer;
pub mod templates;
mod tokens;

pub use config::{DEFAULT_MAGIC_LINK_LIFETIME, DEFAULT_RESET_LIFETIME, DEFAULT_VERIFICATION_LIFETIME, EmailConfig};
pub use flows::EmailFlows;
pub use mailer::{ConsoleMailer, EmailMessage, MailError, Mailer, MessageKind, OutboxMailer};
pub use tokens::{EmailToken, MagicLinkLogin, MagicToken, OtherSessions, PasswordChange};
