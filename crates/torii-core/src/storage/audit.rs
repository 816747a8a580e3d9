use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::{StorageError, StorageResult};
use crate::id::{AuditEventId, UserId};

/// The longest [`AuditEventKind`], in bytes.
pub const MAX_AUDIT_KIND_LEN: usize = 64;

/// What happened, as a short dotted name such as `login.failed` or `password.changed`.
///
/// Well-known kinds are associated constants; applications may record their own with
/// [`AuditEventKind::new`], which accepts 1 to [`MAX_AUDIT_KIND_LEN`] lower-case ASCII letters, digits,
/// `.`, `_` and `-`, starting with a letter. The restriction keeps kinds safe to put in logs, metrics
/// labels and URLs as they are.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditEventKind(Cow<'static, str>);

impl AuditEventKind {
    /// A login attempt was refused (wrong password, unknown account, ...).
    pub const LOGIN_FAILED: Self = Self(Cow::Borrowed("login.failed"));
    /// A user logged in.
    pub const LOGIN_SUCCEEDED: Self = Self(Cow::Borrowed("login.succeeded"));
    /// A user's password was set or changed.
    pub const PASSWORD_CHANGED: Self = Self(Cow::Borrowed("password.changed"));
    /// A password was reset through an emailed link.
    pub const PASSWORD_RESET: Self = Self(Cow::Borrowed("password.reset"));
    /// A user's email address was verified.
    pub const EMAIL_VERIFIED: Self = Self(Cow::Borrowed("email.verified"));
    /// Every session of a user was revoked ("log out everywhere").
    pub const SESSIONS_REVOKED_ALL: Self = Self(Cow::Borrowed("session.revoked_all"));
    /// A passkey was registered.
    pub const PASSKEY_ADDED: Self = Self(Cow::Borrowed("passkey.added"));
    /// A passkey was removed.
    pub const PASSKEY_REMOVED: Self = Self(Cow::Borrowed("passkey.removed"));
    /// A passkey's signature counter went backwards: the credential may have been cloned.
    pub const PASSKEY_COUNTER_REGRESSION: Self = Self(Cow::Borrowed("passkey.counter_regression"));
    /// An external (OAuth/OIDC) account was linked to a user.
    pub const OAUTH_LINKED: Self = Self(Cow::Borrowed("oauth.linked"));
    /// An external account was unlinked.
    pub const OAUTH_UNLINKED: Self = Self(Cow::Borrowed("oauth.unlinked"));
    /// A refresh token was presented twice: its family was revoked.
    pub const REFRESH_TOKEN_REUSED: Self = Self(Cow::Borrowed("refresh_token.reused"));
    /// A request was refused by a rate limit.
    pub const RATE_LIMITED: Self = Self(Cow::Borrowed("rate_limited"));
    /// An account was created (`detail.method` says how).
    pub const USER_REGISTERED: Self = Self(Cow::Borrowed("user.registered"));
    /// One session was revoked (`detail.reason`: `logout` by its holder, `revoked` from another device).
    pub const SESSION_REVOKED: Self = Self(Cow::Borrowed("session.revoked"));
    /// Every session of a user but the current one was revoked ("log out other devices").
    pub const SESSIONS_REVOKED_OTHERS: Self = Self(Cow::Borrowed("session.revoked_others"));
    /// A user's email address was changed.
    pub const EMAIL_CHANGED: Self = Self(Cow::Borrowed("email.changed"));
    /// An account was temporarily locked after repeated failed logins.
    pub const ACCOUNT_LOCKED: Self = Self(Cow::Borrowed("account.locked"));
    /// A temporary account lock ended or was lifted.
    pub const ACCOUNT_UNLOCKED: Self = Self(Cow::Borrowed("account.unlocked"));
    /// Credentials added while the account's address was unproven were removed when it was proven.
    pub const CREDENTIALS_DROPPED: Self = Self(Cow::Borrowed("credentials.dropped"));

    /// A kind of the application's own.
    ///
    /// # Errors
    /// [`StorageError::InvalidData`] when `kind` is empty, longer than [`MAX_AUDIT_KIND_LEN`], does not
    /// start with a lower-case letter, or has a character other than `a-z`, `0-9`, `.`, `_` and `-`.
    pub fn new(kind: impl Into<String>) -> StorageResult<Self> {
        let kind = kind.into();
        let valid = kind.len() <= MAX_AUDIT_KIND_LEN
            && kind.starts_with(|c: char| c.is_ascii_lowercase())
            && kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(StorageError::InvalidData(format!(
                "an audit event kind must be 1 to {MAX_AUDIT_KIND_LEN} characters of a-z, 0-9, '.', '_' or '-', \
                 starting with a letter"
            )));
        }
        Ok(Self(Cow::Owned(kind)))
    }

    /// Reads a kind back from storage.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the stored text is not a valid kind.
    pub fn from_stored(kind: impl Into<String>) -> StorageResult<Self> {
        Self::new(kind).map_err(|_| StorageError::Corrupt("an audit event kind is not valid".to_owned()))
    }

    /// The kind as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AuditEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditEventKind({:?})", self.0)
    }
}

/// One security event: who, what, when, from where.
///
/// **Events never contain secrets.** Put no password, token, token hash, session cookie, one-time code
/// or key material in any field, `detail` included: the audit log is meant to be read by people and
/// kept for months, so it gets none of the protection secrets need. Record what is useful to a human
/// investigating an account (a provider name, a passkey's name, a session id, a count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The event's id ([`AuditEventId::new_random`] for a new event).
    pub id: AuditEventId,
    /// The account concerned, when there is one (a failed login for an unknown address has none).
    pub user_id: Option<UserId>,
    /// What happened.
    pub kind: AuditEventKind,
    /// When it happened (stored to the microsecond).
    pub at: DateTime<Utc>,
    /// The client's IP address, if known.
    pub ip_address: Option<String>,
    /// The client's user agent, if known.
    pub user_agent: Option<String>,
    /// Anything else worth keeping, as JSON (`serde_json::Value::Null` for nothing). It is stored as JSON
    /// text and read back as the same value; keep numbers to integers if you compare values exactly.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// A new event of `kind` at `at`, with a random id and no user, client or detail.
    pub fn new(kind: AuditEventKind, at: DateTime<Utc>) -> Self {
        Self {
            id: AuditEventId::new_random(),
            user_id: None,
            kind,
            at,
            ip_address: None,
            user_agent: None,
            detail: serde_json::Value::Null,
        }
    }
}

/// An append-only log of security events, per account.
///
/// Contract (checked by the conformance suite):
/// - An event reads back exactly as recorded (text of any length and content, times to the microsecond);
///   recording the same id twice is [`StorageError::Conflict`].
/// - [`AuditLogStorage::list_audit_events_for_user`] returns only that user's events, newest first.
/// - Deleting a user keeps its events (the log is the record of what happened to the account, and
///   user ids are never reused); events go with [`AuditLogStorage::delete_audit_events_before`], by
///   age, at the retention the application chooses.
pub trait AuditLogStorage: Send + Sync + 'static {
    /// Appends an event.
    ///
    /// # Errors
    /// [`StorageError::Conflict`] when an event with this id exists; [`StorageError::InvalidData`] for a
    /// value the database cannot store (a NUL character on PostgreSQL).
    fn record_audit_event(&self, event: &AuditEvent) -> impl Future<Output = StorageResult<()>> + Send;

    /// Up to `limit` of the user's events, newest first (events at the same instant in an unspecified
    /// but stable order).
    fn list_audit_events_for_user(
        &self,
        user_id: &UserId,
        limit: u32,
    ) -> impl Future<Output = StorageResult<Vec<AuditEvent>>> + Send;

    /// Deletes up to `batch_size` events that happened before `cutoff` (strictly), oldest first;
    /// returns how many.
    fn delete_audit_events_before(
        &self,
        cutoff: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_kinds_are_valid() {
        for kind in [
            AuditEventKind::LOGIN_FAILED,
            AuditEventKind::LOGIN_SUCCEEDED,
            AuditEventKind::PASSWORD_CHANGED,
            AuditEventKind::PASSWORD_RESET,
            AuditEventKind::EMAIL_VERIFIED,
            AuditEventKind::SESSIONS_REVOKED_ALL,
            AuditEventKind::PASSKEY_ADDED,
            AuditEventKind::PASSKEY_REMOVED,
            AuditEventKind::PASSKEY_COUNTER_REGRESSION,
            AuditEventKind::OAUTH_LINKED,
            AuditEventKind::OAUTH_UNLINKED,
            AuditEventKind::REFRESH_TOKEN_REUSED,
            AuditEventKind::RATE_LIMITED,
            AuditEventKind::USER_REGISTERED,
            AuditEventKind::SESSION_REVOKED,
            AuditEventKind::SESSIONS_REVOKED_OTHERS,
            AuditEventKind::EMAIL_CHANGED,
            AuditEventKind::ACCOUNT_LOCKED,
            AuditEventKind::ACCOUNT_UNLOCKED,
            AuditEventKind::CREDENTIALS_DROPPED,
        ] {
            assert_eq!(AuditEventKind::new(kind.as_str()).ok(), Some(kind));
        }
    }

    #[test]
    fn custom_kinds_are_validated() {
        assert_eq!(
            AuditEventKind::new("billing.plan-changed_2").map(|k| k.to_string()).ok().as_deref(),
            Some("billing.plan-changed_2")
        );
        for bad in ["", "Login.failed", "1login", ".x", "login failed", "login\nfailed", "é", "a\0b"] {
            assert!(matches!(AuditEventKind::new(bad), Err(StorageError::InvalidData(_))), "{bad:?}");
        }
        assert!(AuditEventKind::new("a".repeat(MAX_AUDIT_KIND_LEN)).is_ok());
        assert!(AuditEventKind::new("a".repeat(MAX_AUDIT_KIND_LEN + 1)).is_err());
        assert!(matches!(AuditEventKind::from_stored("DROP TABLE"), Err(StorageError::Corrupt(_))));
    }
}
