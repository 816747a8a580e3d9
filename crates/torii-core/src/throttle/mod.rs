//! Limits on guessing, on by default: per account, per known device, per client address, overall.
//!
//! - **Per account.** Every password attempt for an address is counted under its normalised form,
//!   whether or not an account has it, so the answers (and their timing) are the same for known and
//!   unknown addresses. After a few failures the answer is [`ToriiError::TooManyAttempts`] with how
//!   long to wait (a progressive delay: nothing sleeps on the server), and after more a temporary lock,
//!   well before 100 consecutive failures (NIST SP 800-63B §3.2.2). A successful login clears the
//!   count.
//! - **Per known device** (OWASP's "device cookies"). A successful password login returns a signed
//!   [`DeviceToken`] that the HTTP layer keeps in a cookie. A later attempt that presents a valid one for
//!   the same account is counted against that device alone, so strangers who lock the account cannot
//!   lock its owner out. The lock only ever concerns password attempts: password reset, magic links
//!   and passkeys are never refused because of it.
//! - **Per client address and overall** ([`crate::Torii::throttle_client`]): the HTTP layer calls it
//!   for logins, registrations, reset and magic-link requests and passkey ceremony starts, with the
//!   client address (an IPv6 address counts with its /64).
//!
//! Every count goes through [`RateLimitStorage`], so limits hold across restarts and instances (with
//! `Torii::with_storages(users, redis)` they are kept in Redis with the sessions). Counter keys hold
//! addresses, which the storage keeps only as hashes.
//!
//! ```
//! # async fn demo<R: torii_core::RepositoryProvider>(torii: torii_core::Torii<R>) {
//! use torii_core::ToriiError;
//!
//! for _ in 0..30 {
//!     let _ = torii.verify_password_login("ada@example.com", "a wrong guess").await;
//! }
//! match torii.verify_password_login("ada@example.com", "a wrong guess").await {
//!     Err(ToriiError::TooManyAttempts { retry_after }) => assert!(retry_after.as_secs() >= 1),
//!     other => panic!("expected a refusal, got {other:?}"),
//! }
//! # }
//! ```

mod device;
mod ip;
mod policy;

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

pub use device::{DeviceKey, DeviceToken, MIN_DEVICE_KEY_LEN};
pub use ip::client_group;
pub use policy::{ClientAction, ThrottlePolicy, ThrottleStep};

use crate::email::normalize_email;
use crate::error::ToriiError;
use crate::session::Session;
use crate::storage::RateLimitStorage;
use crate::torii::Torii;
use crate::user::User;

/// What a successful password login returns when the caller keeps device cookies (see
/// [`Torii::login_user_with_password_on_device`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct PasswordLogin {
    /// The user who logged in.
    pub user: User,
    /// The new session.
    pub session: Session,
    /// The device token to give back to the client (for example in a cookie), so its next attempts are
    /// counted for it alone. `None` only if signing failed, which does not happen with a usable key.
    pub device: Option<DeviceToken>,
}

/// Whose count a password attempt is charged to.
#[derive(Debug, Clone)]
pub(crate) enum Subject {
    /// The (normalised) address, for clients without a valid device cookie.
    Account(String),
    /// A known device of the account, with the account's address (cleared too on success).
    Device { device_id: String, account: String },
}

impl Subject {
    fn device_id(&self) -> Option<&str> {
        match self {
            Self::Device { device_id, .. } => Some(device_id),
            Self::Account(_) => None,
        }
    }
}

fn step_key(kind: &str, step: &ThrottleStep, id: &str) -> String {
    format!("throttle:{kind}:{}:{id}", step.window().num_seconds())
}

/// The wait to announce: whole seconds, rounded up, at least one.
fn retry_after(wait: TimeDelta) -> Duration {
    let millis = wait.num_milliseconds().max(1);
    let secs = u64::try_from(millis).unwrap_or(1).div_ceil(1000).max(1);
    Duration::from_secs(secs)
}

impl<S> Torii<S> {
    /// Sets the guessing limits (see [`ThrottlePolicy`]; the default is on).
    pub fn with_throttle(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = std::sync::Arc::new(policy);
        self
    }

    /// The guessing limits.
    pub fn throttle_policy(&self) -> &ThrottlePolicy {
        &self.throttle
    }

    /// Sets the key device cookies are signed with. Give every instance that serves one site the same
    /// key; without one, each coordinator makes a random key (see [`DeviceKey`]).
    pub fn with_device_key(mut self, key: DeviceKey) -> Self {
        self.device_key = key;
        self
    }
}

impl<S: RateLimitStorage> Torii<S> {
    /// Counts one request of kind `action` from the client at `ip` (grouped per IPv6 /64; see
    /// [`client_group`]) and against the overall ceiling, and refuses it when a limit is exhausted.
    /// Without a known address only the overall ceiling applies.
    ///
    /// # Errors
    /// [`ToriiError::TooManyAttempts`] with how long to wait; a storage failure.
    pub async fn throttle_client(&self, action: ClientAction, ip: Option<IpAddr>) -> Result<(), ToriiError> {
        if !self.throttle.is_enabled() {
            return Ok(());
        }
        let now = self.now();
        let mut client = Refusal::default();
        if let Some(ip) = ip {
            let id = format!("{}:{}", action.as_str(), client_group(ip));
            client = self.hit_steps("client", &id, self.throttle.client_steps(action), now).await?;
        }
        let global = self.hit_steps("global", "all", self.throttle.global_steps(), now).await?;
        match client.wait.max(global.wait) {
            Some(wait) => {
                tracing::info!(action = action.as_str(), "request refused: client rate limit reached");
                // Recorded once per limit reached, not for every refused request of a flood.
                if client.newly || global.newly {
                    let limit = if client.newly { "client" } else { "global" };
                    let detail = serde_json::json!({ "limit": limit, "action": action.as_str() });
                    self.audit(crate::storage::AuditEventKind::RATE_LIMITED, None, None, detail).await;
                }
                Err(ToriiError::TooManyAttempts { retry_after: retry_after(wait) })
            }
            None => Ok(()),
        }
    }

    /// Clears the failed-login count of an address after its owner proved it another way (a password
    /// reset), so the new password works at once from any client. Best effort: a failure only leaves
    /// the count to age out.
    pub(crate) async fn clear_login_throttle(&self, email: &str) {
        if let Err(err) = self.reset_steps("account", &normalize_email(email), self.throttle.account_steps()).await {
            tracing::warn!(error = %err, "could not clear the failed-login count after a password reset");
        }
    }

    /// Decides whose count a password attempt for `email` (already validated) is charged to, counts it,
    /// and refuses it when that count is exhausted. `user` is the account with that address, if any: a
    /// device token only counts when it was issued to that account.
    pub(crate) async fn login_gate(
        &self,
        email: &str,
        user: Option<&User>,
        device: Option<&DeviceToken>,
    ) -> Result<Subject, ToriiError> {
        let account = normalize_email(email);
        let now = self.now();
        let device_id = match (device, user) {
            (Some(token), Some(user)) => self.device_key.verify(token, &user.id, now),
            _ => None,
        };
        let subject = match device_id {
            Some(device_id) => Subject::Device { device_id, account },
            None => Subject::Account(account),
        };
        if !self.throttle.is_enabled() {
            return Ok(subject);
        }
        let refusal = match &subject {
            Subject::Account(account) => self.hit_steps("account", account, self.throttle.account_steps(), now).await?,
            Subject::Device { device_id, .. } => {
                self.hit_steps("device", device_id, self.throttle.device_steps(), now).await?
            }
        };
        match refusal.wait {
            Some(wait) => {
                let known_device = subject.device_id().is_some();
                tracing::info!(known_device, "password login refused: too many attempts");
                // Recorded when a lock starts, not for every refused attempt of a guessing run (the
                // same for known and unknown addresses; only a known one has a user id to file it under).
                if refusal.newly {
                    let detail = serde_json::json!({
                        "scope": if known_device { "device" } else { "account" },
                        "retry_after_secs": retry_after(wait).as_secs(),
                    });
                    let kind = crate::storage::AuditEventKind::ACCOUNT_LOCKED;
                    self.audit(kind, user.map(|u| &u.id), None, detail).await;
                }
                Err(ToriiError::TooManyAttempts { retry_after: retry_after(wait) })
            }
            None => Ok(subject),
        }
    }

    /// After the right password: clears the counts (the account's, and the device's when it was one)
    /// and signs a device token for the client, keeping its device id when it had one.
    pub(crate) async fn login_succeeded(&self, subject: &Subject, user: &User) -> Option<DeviceToken> {
        if self.throttle.is_enabled() {
            let cleared = async {
                if let Subject::Device { device_id, .. } = subject {
                    self.reset_steps("device", device_id, self.throttle.device_steps()).await?;
                }
                let (Subject::Account(account) | Subject::Device { account, .. }) = subject;
                self.reset_steps("account", account, self.throttle.account_steps()).await
            }
            .await;
            // The login itself succeeded; stale counts only age out more slowly.
            if let Err(err) = cleared {
                tracing::warn!(user_id = %user.id, error = %err, "could not clear failed-login counts");
            }
        }
        let device_id = subject.device_id().map_or_else(device::new_device_id, str::to_owned);
        let expires_at = self.now() + self.throttle.device_cookie_lifetime();
        self.device_key.sign(&user.id, &device_id, expires_at)
    }

    /// Counts one hit under every step; the longest wait among the exhausted ones, if any.
    async fn hit_steps(
        &self,
        kind: &str,
        id: &str,
        steps: &[ThrottleStep],
        now: DateTime<Utc>,
    ) -> Result<Refusal, ToriiError> {
        let mut refusal = Refusal::default();
        for step in steps {
            let decision =
                self.storage().hit_rate_limit(&step_key(kind, step, id), now, step.window(), step.max()).await?;
            if !decision.allowed {
                let this = (decision.retry_at - now).max(TimeDelta::seconds(1));
                refusal.wait = Some(refusal.wait.map_or(this, |w| w.max(this)));
                // The first hit past the limit (the sliding count is rounded up, so this is the hit
                // that crossed it).
                refusal.newly |= decision.count == step.max().saturating_add(1);
            }
        }
        Ok(refusal)
    }

    async fn reset_steps(&self, kind: &str, id: &str, steps: &[ThrottleStep]) -> Result<(), ToriiError> {
        for step in steps {
            self.storage().reset_rate_limit(&step_key(kind, step, id)).await?;
        }
        Ok(())
    }
}

impl<S: RateLimitStorage + crate::storage::UserStorage> Torii<S> {
    /// Clears the failed-login count of an address (for example after support has confirmed the
    /// owner's identity), lifting a lock for every client.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn reset_login_throttle(&self, email: &str) -> Result<(), ToriiError> {
        let account = normalize_email(email);
        self.reset_steps("account", &account, self.throttle.account_steps()).await?;
        let user = self.storage().get_user_by_email(&account).await?;
        let detail = serde_json::json!({ "reason": "reset" });
        self.audit(crate::storage::AuditEventKind::ACCOUNT_UNLOCKED, user.as_ref().map(|u| &u.id), None, detail).await;
        Ok(())
    }
}

/// What counting one hit under a set of steps decided.
#[derive(Debug, Default)]
struct Refusal {
    /// How long to wait, when a step is exhausted.
    wait: Option<TimeDelta>,
    /// True when this hit is the one that went past a step's limit.
    newly: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        assert_eq!(retry_after(TimeDelta::milliseconds(1)), Duration::from_secs(1));
        assert_eq!(retry_after(TimeDelta::milliseconds(59_001)), Duration::from_secs(60));
        assert_eq!(retry_after(TimeDelta::seconds(-5)), Duration::from_secs(1));
    }
}
