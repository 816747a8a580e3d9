//! The token side of the email flows, on [`Torii`]: issuing and redeeming single-use tokens for magic
//! links, email verification and password reset, and changing a password. Nothing here sends mail
//! ([`super::EmailFlows`] does); these methods are the building blocks for applications that deliver
//! the links themselves.

use chrono::Duration;

use super::config::{DEFAULT_MAGIC_LINK_LIFETIME, DEFAULT_RESET_LIFETIME, DEFAULT_VERIFICATION_LIFETIME};
use crate::email::{normalize_email, validate_email};
use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::session::Session;
use crate::storage::{MagicLinkStorage, OneTimeToken, PasswordStorage, RateLimitStorage, TokenPurpose, UserStorage};
use crate::token::{TokenHash, generate_secret_token};
use crate::torii::Torii;
use crate::user::{NewUser, User};

/// The one error every failed redemption gets: unknown, tampered, expired, already used and
/// wrong-purpose tokens are indistinguishable to the caller.
const INVALID_LINK: ToriiError = ToriiError::InvalidToken("invalid or expired link");

/// A freshly issued single-use token, to be sent to `email` inside a link.
///
/// `token` is the secret itself (256 bits from the OS CSPRNG, base64url); only its SHA-256 is stored.
/// Send it once and never log it (`Debug` hides it).
#[derive(Clone)]
pub struct EmailToken {
    /// The secret token.
    pub token: String,
    /// What the token may be used for.
    pub purpose: TokenPurpose,
    /// The address it is for (validated and trimmed).
    pub email: String,
    /// The account it belongs to, when it exists.
    pub user_id: Option<UserId>,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The token [`Torii::generate_magic_token`] returns.
pub type MagicToken = EmailToken;

impl std::fmt::Debug for EmailToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailToken")
            .field("token", &"<redacted>")
            .field("purpose", &self.purpose)
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What happens to a user's other sessions when they change their password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtherSessions {
    /// Leave every session as it is.
    Keep,
    /// Revoke every session except this one (the one the change was made from).
    RevokeExcept(SessionId),
    /// Revoke every session.
    RevokeAll,
}

/// True when `token` has the shape of a token Torii issued (43 base64url characters), so anything else
/// is refused without a database round trip.
pub(super) fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl<S: UserStorage + MagicLinkStorage> Torii<S> {
    /// Issues a new token of `purpose` for `email`, valid for `lifetime`. Older unused tokens of the
    /// same purpose for the address stop working, so only the newest link is live.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`]; a storage failure.
    pub async fn issue_email_token(
        &self,
        purpose: TokenPurpose,
        email: &str,
        user_id: Option<UserId>,
        lifetime: Duration,
    ) -> Result<EmailToken, ToriiError> {
        let email = validate_email(email)?;
        let now = self.now();
        self.storage().invalidate_tokens(&email, purpose, now).await?;
        let token = generate_secret_token();
        let expires_at = now + lifetime;
        let record = OneTimeToken {
            token_hash: TokenHash::of(&token),
            purpose,
            email: email.clone(),
            user_id: user_id.clone(),
            created_at: now,
            expires_at,
            used_at: None,
        };
        self.storage().create_token(&record).await?;
        tracing::debug!(purpose = purpose.as_str(), "issued email token");
        Ok(EmailToken { token, purpose, email, user_id, expires_at })
    }

    /// Consumes a token of `purpose`: returns its record once, and `None` ever after (or when it is
    /// unknown, malformed, expired or of another purpose).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn consume_email_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<Option<OneTimeToken>, ToriiError> {
        if !well_formed(token) {
            return Ok(None);
        }
        Ok(self.storage().consume_token(&TokenHash::of(token), purpose, self.now()).await?)
    }

    /// Issues a magic-link token for `email`, valid for 10 minutes; older magic links for the address
    /// stop working. The token is issued whether or not an account exists (see
    /// [`Torii::verify_magic_token_with`] for creating it on first use); put `token.token` in a link.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`]; a storage failure.
    pub async fn generate_magic_token(&self, email: &str) -> Result<MagicToken, ToriiError> {
        self.generate_magic_token_for(email, DEFAULT_MAGIC_LINK_LIFETIME).await
    }

    /// Like [`Torii::generate_magic_token`] with another lifetime.
    ///
    /// # Errors
    /// As [`Torii::generate_magic_token`].
    pub async fn generate_magic_token_for(&self, email: &str, lifetime: Duration) -> Result<MagicToken, ToriiError> {
        let email = validate_email(email)?;
        let user = self.storage().get_user_by_email(&email).await?;
        self.issue_email_token(TokenPurpose::MagicLink, &email, user.map(|u| u.id), lifetime).await
    }

    /// Redeems a magic-link token and logs its owner in with a new session. The token works once: of
    /// concurrent redemptions exactly one succeeds. Following the link proves the address, so it is
    /// marked verified. A token for an address without an account fails (see
    /// [`Torii::verify_magic_token_with`]).
    ///
    /// # Errors
    /// [`ToriiError::InvalidToken`] for an unknown, tampered, expired, used or wrong-purpose token, or
    /// one whose account no longer has that address; a storage failure.
    pub async fn verify_magic_token(
        &self,
        token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<(User, Session), ToriiError> {
        self.verify_magic_token_with(token, user_agent, ip_address, false).await
    }

    /// Like [`Torii::verify_magic_token`]; with `create_account`, a token for an address without an
    /// account creates one (address verified, no password).
    ///
    /// # Errors
    /// As [`Torii::verify_magic_token`].
    pub async fn verify_magic_token_with(
        &self,
        token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
        create_account: bool,
    ) -> Result<(User, Session), ToriiError> {
        let record = self.consume_email_token(token, TokenPurpose::MagicLink).await?.ok_or(INVALID_LINK)?;
        let user = match self.token_owner(&record).await? {
            Some(user) => user,
            None if create_account && record.user_id.is_none() => self.create_verified_user(&record.email).await?,
            None => return Err(INVALID_LINK),
        };
        let user = self.mark_verified(user).await?;
        let session = self.create_session(&user.id, user_agent, ip_address).await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "magic link login succeeded");
        Ok((user, session))
    }

    /// Issues an email verification token for the user's current address, valid for 24 hours.
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`]; a storage failure.
    pub async fn generate_email_verification_token(&self, user_id: &UserId) -> Result<EmailToken, ToriiError> {
        self.generate_email_verification_token_for(user_id, DEFAULT_VERIFICATION_LIFETIME).await
    }

    /// Like [`Torii::generate_email_verification_token`] with another lifetime.
    ///
    /// # Errors
    /// As [`Torii::generate_email_verification_token`].
    pub async fn generate_email_verification_token_for(
        &self,
        user_id: &UserId,
        lifetime: Duration,
    ) -> Result<EmailToken, ToriiError> {
        let user = self.storage().get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        self.issue_email_token(TokenPurpose::EmailVerification, &user.email, Some(user.id), lifetime).await
    }

    /// Redeems an email verification token: the account's `email_verified_at` is set. Fails when the
    /// account's address changed since the token was issued.
    ///
    /// # Errors
    /// [`ToriiError::InvalidToken`]; a storage failure.
    pub async fn verify_email(&self, token: &str) -> Result<User, ToriiError> {
        let record = self.consume_email_token(token, TokenPurpose::EmailVerification).await?.ok_or(INVALID_LINK)?;
        let user = self.token_owner(&record).await?.ok_or(INVALID_LINK)?;
        let user = self.mark_verified(user).await?;
        tracing::info!(user_id = %user.id, "email address verified");
        Ok(user)
    }

    /// Issues a password reset token for the account with this address, valid for 30 minutes, or
    /// `None` when there is no such account. Older reset tokens for the address stop working.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`]; a storage failure.
    pub async fn generate_password_reset_token(&self, email: &str) -> Result<Option<EmailToken>, ToriiError> {
        self.generate_password_reset_token_for(email, DEFAULT_RESET_LIFETIME).await
    }

    /// Like [`Torii::generate_password_reset_token`] with another lifetime.
    ///
    /// # Errors
    /// As [`Torii::generate_password_reset_token`].
    pub async fn generate_password_reset_token_for(
        &self,
        email: &str,
        lifetime: Duration,
    ) -> Result<Option<EmailToken>, ToriiError> {
        let email = validate_email(email)?;
        let Some(user) = self.storage().get_user_by_email(&email).await? else {
            return Ok(None);
        };
        Ok(Some(self.issue_email_token(TokenPurpose::PasswordReset, &user.email, Some(user.id), lifetime).await?))
    }

    /// The account a token was issued for, if it still exists and still has the token's address.
    async fn token_owner(&self, record: &OneTimeToken) -> Result<Option<User>, ToriiError> {
        let user = match &record.user_id {
            Some(id) => self.storage().get_user(id).await?,
            None => self.storage().get_user_by_email(&record.email).await?,
        };
        Ok(user.filter(|u| normalize_email(&u.email) == normalize_email(&record.email)))
    }

    async fn create_verified_user(&self, email: &str) -> Result<User, ToriiError> {
        let now = self.now();
        let mut new_user = NewUser::new(email, now);
        new_user.email_verified_at = Some(now);
        match self.storage().create_user(&new_user).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id, "user registered by magic link");
                Ok(user)
            }
            // Created meanwhile by another request: use that account.
            Err(StorageError::Conflict(_)) => self.storage().get_user_by_email(email).await?.ok_or(INVALID_LINK),
            Err(other) => Err(other.into()),
        }
    }

    async fn mark_verified(&self, mut user: User) -> Result<User, ToriiError> {
        if user.email_verified_at.is_none() {
            let now = self.now();
            self.storage().set_email_verified(&user.id, now).await?;
            user.email_verified_at = Some(now);
        }
        Ok(user)
    }
}

impl<S: PasswordStorage + MagicLinkStorage + RateLimitStorage> Torii<S> {
    /// Redeems a password reset token and sets the new password (the policy is enforced). Every session
    /// of the user is revoked and every other outstanding reset token voided. The user is not logged in.
    /// Following the link proves the address, so it is marked verified.
    ///
    /// A password the policy refuses outright is refused before the token is used, so the link keeps
    /// working; one refused only because it equals the address is refused after it, so a new link is
    /// needed.
    ///
    /// # Errors
    /// [`ToriiError::WeakPassword`]; [`ToriiError::InvalidToken`]; a storage failure.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<User, ToriiError> {
        self.password_policy().check(new_password, None)?;
        let record = self.consume_email_token(token, TokenPurpose::PasswordReset).await?.ok_or(INVALID_LINK)?;
        let user = self.token_owner(&record).await?.ok_or(INVALID_LINK)?;
        self.set_user_password(&user.id, new_password).await?;
        // The link reached the address, which proves it as well as a verification link would.
        let user = self.mark_verified(user).await?;
        let revoked = self.delete_sessions_for_user(&user.id).await?;
        self.storage().invalidate_tokens(&user.email, TokenPurpose::PasswordReset, self.now()).await?;
        tracing::info!(user_id = %user.id, revoked, "password reset");
        Ok(user)
    }

    /// Changes a logged-in user's password: the current one must be right and the new one must satisfy
    /// the policy. Returns how many sessions were revoked.
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`] for a wrong current password; [`ToriiError::WeakPassword`];
    /// [`ToriiError::UserNotFound`]; [`ToriiError::Unsupported`] for [`OtherSessions::RevokeExcept`]
    /// with a session manager that cannot keep one session; a storage failure.
    pub async fn change_password(
        &self,
        user_id: &UserId,
        current_password: &str,
        new_password: &str,
        other_sessions: OtherSessions,
    ) -> Result<u64, ToriiError> {
        let user = self.storage().get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        // Checked first so a weak choice costs no hashing and cannot be used to probe the current one.
        self.password_policy().check(new_password, Some(&user.email))?;
        self.verify_password_login(&user.email, current_password).await?;
        self.set_user_password(&user.id, new_password).await?;
        let revoked = match &other_sessions {
            OtherSessions::Keep => 0,
            OtherSessions::RevokeExcept(keep) => self.delete_other_sessions(&user.id, keep).await?,
            OtherSessions::RevokeAll => self.delete_sessions_for_user(&user.id).await?,
        };
        // An outstanding reset link must not undo the change.
        self.storage().invalidate_tokens(&user.email, TokenPurpose::PasswordReset, self.now()).await?;
        tracing::info!(user_id = %user.id, revoked, "password changed");
        Ok(revoked)
    }
}
