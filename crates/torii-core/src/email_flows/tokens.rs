//! The token side of the email flows, on [`Torii`]: issuing and redeeming single-use tokens for magic
//! links, email verification and password reset, and changing a password. Nothing here sends mail
//! ([`super::EmailFlows`] does); these methods are the building blocks for applications that deliver
//! the links themselves.

use chrono::Duration;

use super::config::{DEFAULT_MAGIC_LINK_LIFETIME, DEFAULT_RESET_LIFETIME, DEFAULT_VERIFICATION_LIFETIME};
use crate::email::{normalize_email, validate_email};
use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::proof::ProvenAddress;
use crate::session::Session;
use crate::storage::DroppedCredentials;
use crate::storage::{
    AuditEventKind, MagicLinkStorage, OneTimeToken, PasswordStorage, RateLimitStorage, TokenPurpose, UserStorage,
};
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

/// A redeemed magic link: the account, its new session, and what the first proof of its address
/// removed (see [`Torii::redeem_magic_link`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MagicLinkLogin {
    /// The account, with its address verified.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// What the proof removed; empty unless the address had never been proven.
    pub dropped: DroppedCredentials,
}

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
    /// Revoke every session except this one (the one the change was made from). When the session
    /// manager cannot keep a single session (JWT sessions: ending the others ends every token issued
    /// so far), every session is revoked and a replacement is issued in
    /// [`PasswordChange::new_session`], without client metadata; prefer
    /// [`OtherSessions::RevokeOthersOf`], which carries it over.
    RevokeExcept(SessionId),
    /// Revoke every session except `session` (the one the change was made from). When the session
    /// manager cannot keep a single session (JWT), every session is revoked and a replacement for
    /// this one, with the same user agent and IP address, is issued in
    /// [`PasswordChange::new_session`]: hand it to the client in place of the old token.
    RevokeOthersOf(Box<Session>),
    /// Revoke every session.
    RevokeAll,
}

/// What [`Torii::change_password`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct PasswordChange {
    /// How many sessions were revoked, as far as the session manager can count them (JWT sessions are
    /// not recorded, so their count is 0 even though every other token stopped working).
    pub revoked: u64,
    /// The session that replaces the caller's own, when keeping it was impossible (see
    /// [`OtherSessions::RevokeOthersOf`]); `None` when the caller's session is still valid or when
    /// every session was meant to end. Its token is a secret: send it to the client once.
    pub new_session: Option<Session>,
}

/// Every purpose a single-use token can have: a password change or reset voids them all.
const ALL_PURPOSES: [TokenPurpose; 3] =
    [TokenPurpose::MagicLink, TokenPurpose::PasswordReset, TokenPurpose::EmailVerification];

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
    /// stop working. When an account has the address, the token is for the address as the account
    /// stores it (`token.email`), whatever the spelling of `email`: send it there. The token is issued whether or not an account exists (see
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
        match self.storage().get_user_by_email(&email).await? {
            // The token (and so the mail) is for the address the account has, never for the spelling
            // of the request: a look-alike of an address is not that address's mailbox.
            Some(user) => self.issue_email_token(TokenPurpose::MagicLink, &user.email, Some(user.id), lifetime).await,
            None => self.issue_email_token(TokenPurpose::MagicLink, &email, None, lifetime).await,
        }
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
        let login = self.redeem_magic_link(token, user_agent, ip_address, create_account, None).await?;
        Ok((login.user, login.session))
    }

    /// Redeems a magic link like [`Torii::verify_magic_token_with`], for a request already signed in as
    /// `signed_in` (if any), and reports what the first proof of the address removed (see
    /// [`Torii::prove_email_address`]: an account whose address was never proven loses the credentials
    /// added before, unless `signed_in` is that account).
    ///
    /// # Errors
    /// As [`Torii::verify_magic_token`].
    pub async fn redeem_magic_link(
        &self,
        token: &str,
        user_agent: Option<String>,
        ip_address: Option<String>,
        create_account: bool,
        signed_in: Option<&UserId>,
    ) -> Result<MagicLinkLogin, ToriiError> {
        let Some(record) = self.consume_email_token(token, TokenPurpose::MagicLink).await? else {
            let client = crate::torii::explicit_client(&user_agent, &ip_address);
            let detail = serde_json::json!({ "method": "magic_link", "reason": "invalid_token" });
            self.audit(AuditEventKind::LOGIN_FAILED, None, client.as_ref(), detail).await;
            return Err(INVALID_LINK);
        };
        let user = match self.token_owner(&record).await? {
            Some(user) => user,
            None if create_account && record.user_id.is_none() => self.create_verified_user(&record.email).await?,
            None => return Err(INVALID_LINK),
        };
        let ProvenAddress { user, dropped } = self.prove_address(user, signed_in).await?;
        let client = crate::torii::explicit_client(&user_agent, &ip_address);
        let session = self.create_session(&user.id, user_agent, ip_address).await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "magic link login succeeded");
        self.audit_login(&user.id, crate::audit::AuthMethod::MagicLink, &session, client.as_ref()).await;
        Ok(MagicLinkLogin { user, session, dropped })
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
        Ok(self.verify_email_as(token, None).await?.user)
    }

    /// Redeems an email verification token like [`Torii::verify_email`], for a request already signed
    /// in as `signed_in` (if any), and reports what the first proof of the address removed (see
    /// [`Torii::prove_email_address`]).
    ///
    /// # Errors
    /// As [`Torii::verify_email`].
    pub async fn verify_email_as(&self, token: &str, signed_in: Option<&UserId>) -> Result<ProvenAddress, ToriiError> {
        let record = self.consume_email_token(token, TokenPurpose::EmailVerification).await?.ok_or(INVALID_LINK)?;
        let user = self.token_owner(&record).await?.ok_or(INVALID_LINK)?;
        let proven = self.prove_address(user, signed_in).await?;
        tracing::info!(user_id = %proven.user.id, "email address verified");
        Ok(proven)
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
                let detail = crate::audit::method_detail(crate::audit::AuthMethod::MagicLink);
                self.audit(AuditEventKind::USER_REGISTERED, Some(&user.id), None, detail).await;
                Ok(user)
            }
            // Created meanwhile by another request: use that account.
            Err(StorageError::Conflict(_)) => self.storage().get_user_by_email(email).await?.ok_or(INVALID_LINK),
            Err(other) => Err(other.into()),
        }
    }
}

impl<S: PasswordStorage + MagicLinkStorage + RateLimitStorage> Torii<S> {
    /// Redeems a password reset token and sets the new password (the policy is enforced). Every session
    /// of the user is revoked and every outstanding single-use token of the address (reset, magic and
    /// verification links) voided. The user is not logged in. Following the link proves the address,
    /// so it is marked verified.
    ///
    /// A password the policy refuses outright is refused before the token is used, so the link keeps
    /// working; one refused only because it equals the address is refused after it, so a new link is
    /// needed.
    ///
    /// # Errors
    /// [`ToriiError::WeakPassword`]; [`ToriiError::InvalidToken`]; a storage failure.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> Result<User, ToriiError> {
        Ok(self.reset_password_as(token, new_password, None).await?.user)
    }

    /// Like [`Torii::reset_password`], for a request already signed in as `signed_in` (if any), and
    /// reports what the first proof of the address removed (see [`Torii::prove_email_address`]; the new
    /// password is set after that, so it is never among what is removed).
    ///
    /// # Errors
    /// As [`Torii::reset_password`].
    pub async fn reset_password_as(
        &self,
        token: &str,
        new_password: &str,
        signed_in: Option<&UserId>,
    ) -> Result<ProvenAddress, ToriiError> {
        self.password_policy().check(new_password, None)?;
        let record = self.consume_email_token(token, TokenPurpose::PasswordReset).await?.ok_or(INVALID_LINK)?;
        let user = self.token_owner(&record).await?.ok_or(INVALID_LINK)?;
        let hash = self.hash_new_password(new_password, &user.email).await?;
        // The link reached the address, which proves it as well as a verification link would: a first
        // proof removes what nobody vouched for, before the new password is stored (so it is never
        // among what is removed).
        let ProvenAddress { user, mut dropped } = self.prove_address(user, signed_in).await?;
        // Everything that reduces access happens before the new password is stored, so a failure
        // part-way leaves the account with fewer ways in, never with the change half applied.
        let revoked = self.delete_sessions_for_user(&user.id).await?;
        dropped.sessions += revoked;
        let voided = self.void_single_use_tokens(&user.email).await?;
        self.storage().set_password_hash(&user.id, &hash).await?;
        // The owner proved the address: a lock strangers caused must not keep out the new password.
        self.clear_login_throttle(&user.email).await;
        tracing::info!(user_id = %user.id, revoked, voided, "password reset");
        self.audit(
            AuditEventKind::PASSWORD_RESET,
            Some(&user.id),
            None,
            serde_json::json!({ "revoked_sessions": revoked }),
        )
        .await;
        Ok(ProvenAddress { user, dropped })
    }

    /// Changes a logged-in user's password: the current one must be right and the new one must satisfy
    /// the policy. Then, as one change: the sessions chosen by `other_sessions` end, every outstanding
    /// single-use token of the address (reset, magic and verification links) is voided, and the new
    /// password is stored.
    ///
    /// Everything that can fail for a reason other than a storage outage (the current password, the
    /// policy, hashing) is checked before anything is written. The writes then go from "fewer ways in"
    /// to "new password": sessions, then links, then the password, so an outage part-way never leaves
    /// the new password in place with old sessions or links still working.
    ///
    /// With JWT sessions, keeping one session while ending the others is impossible (the others are
    /// ended by a per-user "not before" time that also ends the caller's token), so for
    /// [`OtherSessions::RevokeExcept`] and [`OtherSessions::RevokeOthersOf`] every session ends and a
    /// replacement is returned in [`PasswordChange::new_session`].
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`] for a wrong current password; [`ToriiError::WeakPassword`];
    /// [`ToriiError::UserNotFound`]; a storage failure.
    pub async fn change_password(
        &self,
        user_id: &UserId,
        current_password: &str,
        new_password: &str,
        other_sessions: OtherSessions,
    ) -> Result<PasswordChange, ToriiError> {
        let user = self.storage().get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        // Checked first so a weak choice costs no hashing and cannot be used to probe the current one.
        self.password_policy().check(new_password, Some(&user.email))?;
        self.verify_password_login(&user.email, current_password).await?;
        let hash = self.hash_new_password(new_password, &user.email).await?;

        let (revoked, replace) = self.end_sessions_for_change(&user.id, other_sessions).await?;
        // An outstanding reset or magic link must not undo the change or bypass it.
        let voided = self.void_single_use_tokens(&user.email).await?;
        self.storage().set_password_hash(&user.id, &hash).await?;
        let new_session = match replace {
            Some((user_agent, ip_address)) => Some(self.create_session(&user.id, user_agent, ip_address).await?),
            None => None,
        };
        tracing::info!(user_id = %user.id, revoked, voided, replaced = new_session.is_some(), "password changed");
        self.audit(
            AuditEventKind::PASSWORD_CHANGED,
            Some(&user.id),
            None,
            serde_json::json!({ "revoked_sessions": revoked }),
        )
        .await;
        Ok(PasswordChange { revoked, new_session })
    }

    /// Ends the sessions a password change asks to end. Returns how many were revoked and, when the
    /// caller's own session had to end too, the client metadata for its replacement.
    async fn end_sessions_for_change(
        &self,
        user_id: &UserId,
        other_sessions: OtherSessions,
    ) -> Result<(u64, Option<(Option<String>, Option<String>)>), ToriiError> {
        let (keep, metadata) = match other_sessions {
            OtherSessions::Keep => return Ok((0, None)),
            OtherSessions::RevokeAll => return Ok((self.delete_sessions_for_user(user_id).await?, None)),
            OtherSessions::RevokeExcept(keep) => (keep, (None, None)),
            OtherSessions::RevokeOthersOf(session) => {
                let session = *session;
                (session.id, (session.user_agent, session.ip_address))
            }
        };
        match self.delete_other_sessions(user_id, &keep).await {
            Ok(revoked) => Ok((revoked, None)),
            // The manager cannot keep one session (JWT): end them all and issue a replacement.
            Err(ToriiError::Unsupported(_)) => Ok((self.delete_sessions_for_user(user_id).await?, Some(metadata))),
            Err(other) => Err(other),
        }
    }
}

impl<S: MagicLinkStorage> Torii<S> {
    /// Voids every outstanding single-use token for `email` (magic, reset and verification links,
    /// whichever account or purpose they were issued for), so no link mailed before a password change
    /// or reset still works afterwards. Returns how many were voided.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn void_single_use_tokens(&self, email: &str) -> Result<u64, ToriiError> {
        let now = self.now();
        let mut voided = 0;
        for purpose in ALL_PURPOSES {
            voided += self.storage().invalidate_tokens(email, purpose, now).await?;
        }
        Ok(voided)
    }
}
