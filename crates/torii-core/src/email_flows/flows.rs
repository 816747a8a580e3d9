//! [`EmailFlows`]: the email flows with their mail: magic links, address verification, password reset
//! and the "password changed" notice.

use std::sync::Arc;

use super::config::EmailConfig;
use super::delivery::Delivery;
use super::limiter::RateLimiter;
use super::mailer::{Mailer, MessageKind};
use super::templates::render;
use super::tokens::{MagicLinkLogin, OtherSessions, PasswordChange};
use crate::email::validate_email;
use crate::error::ToriiError;
use crate::id::UserId;
use crate::proof::ProvenAddress;
use crate::session::Session;
use crate::storage::{MagicLinkStorage, PasswordStorage, RateLimitStorage, TokenPurpose, UserStorage};
use crate::torii::Torii;
use crate::user::User;

/// The email flows of one [`Torii`]: it issues the tokens, renders the messages from
/// [`EmailConfig`] and hands them to a [`Mailer`] in the background.
///
/// Requests that take an address (`send_magic_link`, `request_password_reset`) answer the same whether
/// or not an account has it, and never report delivery failures: mail is sent after they return, tried
/// a few times, and failures are logged. Each kind of message is limited per account (see
/// [`EmailConfig::rate_limit`]); requests over the limit are answered alike and send nothing. The limit
/// is counted in the storage ([`RateLimitStorage`]), so it holds across every instance of the application
/// that shares it.
///
/// Cloning is cheap; clones share the limiter and the delivery queue. Messages are sent from Tokio
/// tasks, so the sending methods must run within a Tokio runtime (as every Axum handler does).
pub struct EmailFlows<S> {
    torii: Arc<Torii<S>>,
    config: Arc<EmailConfig>,
    delivery: Delivery,
    limiter: Arc<RateLimiter>,
}

impl<S> Clone for EmailFlows<S> {
    fn clone(&self) -> Self {
        Self {
            torii: Arc::clone(&self.torii),
            config: Arc::clone(&self.config),
            delivery: self.delivery.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<S> std::fmt::Debug for EmailFlows<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailFlows").field("config", &self.config).finish_non_exhaustive()
    }
}

impl<S: RateLimitStorage> EmailFlows<S> {
    /// Email flows for `torii`, sending through `mailer`, with the per-account mail limit counted in
    /// `torii`'s storage.
    pub fn new(torii: Arc<Torii<S>>, config: EmailConfig, mailer: Arc<dyn Mailer>) -> Self {
        let limiter = Arc::new(RateLimiter::new(&torii, config.rate_limit_max, config.rate_limit_window));
        let delivery = Delivery::new(mailer, config.send_attempts, config.retry_backoff);
        Self { torii, config: Arc::new(config), delivery, limiter }
    }
}

impl<S> EmailFlows<S> {
    /// The coordinator.
    pub fn torii(&self) -> &Arc<Torii<S>> {
        &self.torii
    }

    /// The configuration.
    pub fn config(&self) -> &EmailConfig {
        &self.config
    }

    /// Waits until every message handed to the mailer so far was sent or given up (for tests, and for
    /// a graceful shutdown that should not drop mail).
    pub async fn wait_idle(&self) {
        self.delivery.wait_idle().await;
    }

    /// Renders and queues a message, unless the account is over its limit for this kind. Problems are
    /// logged, never returned: the caller's answer must not depend on them.
    fn send(&self, kind: MessageKind, to: &str, link: Option<String>, valid_for: chrono::Duration) {
        match render(&self.config, kind, to, link, valid_for) {
            Ok(message) => self.delivery.enqueue(message),
            Err(err) => tracing::error!(kind = kind.as_str(), error = %err, "email not sent: cannot build it"),
        }
    }

    /// Counts a message against the account's limit; false when it is over.
    async fn allow(
        &self,
        kind: MessageKind,
        email: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, ToriiError> {
        Ok(self.limiter.allow(kind, email, now).await?)
    }
}

impl<S: UserStorage + MagicLinkStorage> EmailFlows<S> {
    /// Emails a sign-in link to `email` when it belongs to an account (or to anyone, with
    /// [`EmailConfig::create_accounts_on_magic_link`]). The answer is the same either way, but not the
    /// time it takes (an address with an account costs a token and a message more): to answer a
    /// request from the outside, use [`EmailFlows::queue_magic_link`].
    /// The mail goes to the address as the account stores it, not to the request's spelling of it.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`] for a malformed address (CR/LF included); a storage failure.
    pub async fn send_magic_link(&self, email: &str) -> Result<(), ToriiError> {
        let email = validate_email(email)?;
        let user = self.torii.get_user_by_email(&email).await?;
        if user.is_none() && !self.config.create_accounts {
            tracing::debug!("magic link requested for an unknown address; nothing sent");
            return Ok(());
        }
        // The message goes to the stored address (the token is issued for it), never to a look-alike
        // spelling from the request.
        if !self.allow(MessageKind::MagicLink, &email, self.torii.now()).await? {
            return self.over_limit(MessageKind::MagicLink, user.as_ref().map(|u| &u.id)).await;
        }
        let lifetime = self.config.magic_link_lifetime;
        let token = self.torii.generate_magic_token_for(&email, lifetime).await?;
        let link = self.config.link(&self.config.magic_link_path, &token.token);
        self.send(MessageKind::MagicLink, &token.email, Some(link), lifetime);
        Ok(())
    }

    /// Redeems a magic link (see [`Torii::verify_magic_token`]), creating the account when configured.
    ///
    /// # Errors
    /// As [`Torii::verify_magic_token`].
    pub async fn verify_magic_token(
        &self,
        token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<(User, Session), ToriiError> {
        self.torii.verify_magic_token_with(token, user_agent, ip_address, self.config.create_accounts).await
    }

    /// Redeems a magic link for a request already signed in as `signed_in` (if any), and reports what
    /// the first proof of the address removed (see [`Torii::redeem_magic_link`]).
    ///
    /// # Errors
    /// As [`Torii::verify_magic_token`].
    pub async fn redeem_magic_link(
        &self,
        token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
        signed_in: Option<&UserId>,
    ) -> Result<MagicLinkLogin, ToriiError> {
        self.torii.redeem_magic_link(token, user_agent, ip_address, self.config.create_accounts, signed_in).await
    }

    /// Emails the user a link that verifies their address. Does nothing for an address that is
    /// already verified.
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`]; a storage failure.
    pub async fn send_verification_email(&self, user_id: &UserId) -> Result<(), ToriiError> {
        let user = self.torii.get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        if user.is_email_verified() {
            return Ok(());
        }
        if !self.allow(MessageKind::EmailVerification, &user.email, self.torii.now()).await? {
            return self.over_limit(MessageKind::EmailVerification, Some(&user.id)).await;
        }
        let lifetime = self.config.verification_lifetime;
        let token = self.torii.generate_email_verification_token_for(&user.id, lifetime).await?;
        let link = self.config.link(&self.config.verify_email_path, &token.token);
        self.send(MessageKind::EmailVerification, &token.email, Some(link), lifetime);
        Ok(())
    }

    /// What a new account gets by mail: a link that verifies its address, when
    /// [`EmailConfig::send_verification_on_register`] is on (the default). Call it after creating an
    /// account some other way than [`EmailFlows::register_user_with_password`].
    ///
    /// It never fails: the registration already happened, so a storage or mail problem is logged (and
    /// delivery retried) rather than returned. The user can ask for another link later.
    pub async fn after_registration(&self, user_id: &UserId) {
        if !self.config.verify_on_register {
            return;
        }
        if let Err(err) = self.send_verification_email(user_id).await {
            tracing::warn!(%user_id, error = %err, "verification email for a new account not sent");
        }
    }

    /// Redeems an email verification link (see [`Torii::verify_email`]).
    ///
    /// # Errors
    /// As [`Torii::verify_email`].
    pub async fn verify_email(&self, token: &str) -> Result<User, ToriiError> {
        self.torii.verify_email(token).await
    }

    /// Redeems an email verification link for a request already signed in as `signed_in` (see
    /// [`Torii::verify_email_as`]).
    ///
    /// # Errors
    /// As [`Torii::verify_email`].
    pub async fn verify_email_as(&self, token: &str, signed_in: Option<&UserId>) -> Result<ProvenAddress, ToriiError> {
        self.torii.verify_email_as(token, signed_in).await
    }

    /// Emails a password reset link when `email` belongs to an account. The answer is the same either
    /// way, and also when the account is over its limit, but not the time it takes: to answer a
    /// request from the outside, use [`EmailFlows::queue_password_reset`].
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`] for a malformed address; a storage failure.
    pub async fn request_password_reset(&self, email: &str) -> Result<(), ToriiError> {
        let email = validate_email(email)?;
        let Some(user) = self.torii.get_user_by_email(&email).await? else {
            tracing::debug!("password reset requested for an unknown address; nothing sent");
            return Ok(());
        };
        if !self.allow(MessageKind::PasswordReset, &user.email, self.torii.now()).await? {
            return self.over_limit(MessageKind::PasswordReset, Some(&user.id)).await;
        }
        let lifetime = self.config.reset_lifetime;
        let token =
            self.torii.issue_email_token(TokenPurpose::PasswordReset, &user.email, Some(user.id), lifetime).await?;
        let link = self.config.link(&self.config.reset_password_path, &token.token);
        self.send(MessageKind::PasswordReset, &token.email, Some(link), lifetime);
        Ok(())
    }

    /// Mails the owner of `email`, if it has an account, a notice that someone tried to sign up with
    /// it (see [`EmailConfig::conceal_existing_accounts`]). The notice goes to the address stored for
    /// the account, counts against the account's mail limit, and is sent in the background; nothing
    /// is returned, so the caller's answer cannot depend on it.
    pub async fn notify_existing_account(&self, email: &str) {
        let result = async {
            let Some(user) = self.torii.get_user_by_email(&validate_email(email)?).await? else {
                return Ok(());
            };
            if self.allow(MessageKind::AccountExists, &user.email, self.torii.now()).await? {
                self.send(MessageKind::AccountExists, &user.email, None, chrono::Duration::zero());
            } else {
                self.over_limit(MessageKind::AccountExists, Some(&user.id)).await?;
            }
            Ok::<_, ToriiError>(())
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "sign-up notice for an existing account not sent");
        }
    }

    /// The answer to a request over the limit: the same as any other.
    async fn over_limit(&self, kind: MessageKind, user_id: Option<&UserId>) -> Result<(), ToriiError> {
        tracing::info!(kind = kind.as_str(), "email not sent: the account is over its rate limit");
        let detail = serde_json::json!({ "limit": "email", "message": kind.as_str() });
        self.torii.audit(crate::storage::AuditEventKind::RATE_LIMITED, user_id, None, detail).await;
        Ok(())
    }
}

impl<S: UserStorage + MagicLinkStorage> EmailFlows<S> {
    /// [`EmailFlows::send_magic_link`] off the request path: checks the address's syntax (which
    /// depends only on the input) and returns at once; the lookup, the token and the mail happen in a
    /// background task. The answer, and the time it takes, are then the same for every address,
    /// which `send_magic_link` cannot promise (it does more work for an address with an account).
    /// Storage failures are logged, never returned. [`EmailFlows::wait_idle`] waits for the task.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`] for a malformed address.
    pub fn queue_magic_link(&self, email: &str) -> Result<(), ToriiError> {
        let email = validate_email(email)?;
        let flows = self.clone();
        self.delivery.run(async move {
            if let Err(err) = flows.send_magic_link(&email).await {
                tracing::warn!(error = %err, "magic link request failed");
            }
        });
        Ok(())
    }

    /// [`EmailFlows::request_password_reset`] off the request path, like
    /// [`EmailFlows::queue_magic_link`]: the same answer in the same time for every address.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`] for a malformed address.
    pub fn queue_password_reset(&self, email: &str) -> Result<(), ToriiError> {
        let email = validate_email(email)?;
        let flows = self.clone();
        self.delivery.run(async move {
            if let Err(err) = flows.request_password_reset(&email).await {
                tracing::warn!(error = %err, "password reset request failed");
            }
        });
        Ok(())
    }
}

impl<S: PasswordStorage + MagicLinkStorage + RateLimitStorage> EmailFlows<S> {
    /// Registers a user with an email address and password (see [`Torii::register_user_with_password`]),
    /// then mails the verification link (see [`EmailFlows::after_registration`]). The result is the
    /// registration's alone: mail problems are logged, never returned.
    ///
    /// # Errors
    /// As [`Torii::register_user_with_password`].
    pub async fn register_user_with_password(&self, email: &str, password: &str) -> Result<User, ToriiError> {
        let user = self.torii.register_user_with_password(email, password).await?;
        self.after_registration(&user.id).await;
        Ok(user)
    }

    /// Redeems a reset link and sets the new password (see [`Torii::reset_password`]), then mails the
    /// "your password was changed" notice.
    ///
    /// # Errors
    /// As [`Torii::reset_password`].
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<User, ToriiError> {
        Ok(self.reset_password_as(token, new_password, None).await?.user)
    }

    /// Like [`EmailFlows::reset_password`], for a request already signed in as `signed_in` (see
    /// [`Torii::reset_password_as`]).
    ///
    /// # Errors
    /// As [`Torii::reset_password`].
    pub async fn reset_password_as(
        &self,
        token: &str,
        new_password: &str,
        signed_in: Option<&UserId>,
    ) -> Result<ProvenAddress, ToriiError> {
        let proven = self.torii.reset_password_as(token, new_password, signed_in).await?;
        self.send(MessageKind::PasswordChanged, &proven.user.email, None, chrono::Duration::zero());
        Ok(proven)
    }

    /// Changes a logged-in user's password (see [`Torii::change_password`]), then mails the notice.
    ///
    /// # Errors
    /// As [`Torii::change_password`].
    pub async fn change_password(
        &self,
        user_id: &UserId,
        current_password: &str,
        new_password: &str,
        other_sessions: OtherSessions,
    ) -> Result<PasswordChange, ToriiError> {
        let change = self.torii.change_password(user_id, current_password, new_password, other_sessions).await?;
        if let Some(user) = self.torii.get_user(user_id).await? {
            self.send(MessageKind::PasswordChanged, &user.email, None, chrono::Duration::zero());
        }
        Ok(change)
    }
}
