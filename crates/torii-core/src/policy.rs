//! Session policies: idle and absolute timeouts, client binding, per-user limits, freshness, cleanup.
//!
//! [`SessionConfig`](crate::SessionConfig) keeps the two fields the documentation has always shown
//! (`expires_in`, `provider_type`); everything a security team tunes beyond that lives here and is
//! installed with `Torii::with_session_policy`.

use chrono::Duration;

/// How many expired sessions one cleanup statement deletes.
pub const DEFAULT_CLEANUP_BATCH: u32 = 1_000;

/// `updated_at` ("last seen") is refreshed at most this often per session, so validating a session on
/// every request does not turn into a database write on every request.
pub const LAST_SEEN_RESOLUTION: Duration = Duration::minutes(5);

/// What happens when a user with the maximum number of sessions logs in once more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionLimitAction {
    /// The oldest sessions are revoked to make room (the default).
    #[default]
    EvictOldest,
    /// The new login is refused with [`ToriiError::SessionLimitReached`](crate::ToriiError::SessionLimitReached).
    Refuse,
}

/// Rules for server-side sessions beyond their lifetime.
///
/// ```
/// use chrono::Duration;
/// use torii_core::{SessionLimitAction, SessionPolicy};
///
/// let policy = SessionPolicy::default()
///     .idle_timeout(Duration::minutes(30))
///     .absolute_timeout(Duration::hours(8))
///     .bind_ip(true)
///     .max_sessions_per_user(5, SessionLimitAction::EvictOldest);
/// assert_eq!(policy.activity_resolution(), Duration::minutes(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) absolute_timeout: Option<Duration>,
    pub(crate) bind_ip: bool,
    pub(crate) bind_user_agent: bool,
    pub(crate) max_sessions: Option<(usize, SessionLimitAction)>,
    pub(crate) fresh_for: Duration,
    pub(crate) activity_resolution: Duration,
    pub(crate) cleanup_batch_size: u32,
    pub(crate) refresh_lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: None,
            absolute_timeout: None,
            bind_ip: false,
            bind_user_agent: false,
            max_sessions: None,
            fresh_for: Duration::minutes(10),
            activity_resolution: LAST_SEEN_RESOLUTION,
            cleanup_batch_size: DEFAULT_CLEANUP_BATCH,
            refresh_lifetime: crate::refresh::DEFAULT_REFRESH_LIFETIME,
        }
    }
}

impl SessionPolicy {
    /// A session unused for this long ends. Activity extends it (never past the absolute limit).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout.max(Duration::seconds(1)));
        self
    }

    /// A session ends this long after login, however active it is (capped by `SessionConfig::expires_in`).
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = Some(timeout.max(Duration::seconds(1)));
        self
    }

    /// Refuses (and revokes) a session used from another IP address than the one that logged in.
    /// Strict: mobile clients change addresses. Needs the client IP (axum's `ConnectInfo`).
    pub fn bind_ip(mut self, on: bool) -> Self {
        self.bind_ip = on;
        self
    }

    /// Refuses (and revokes) a session used with another user agent than the one that logged in.
    pub fn bind_user_agent(mut self, on: bool) -> Self {
        self.bind_user_agent = on;
        self
    }

    /// At most `max` live sessions per user (at least 1); `action` says what a further login does.
    pub fn max_sessions_per_user(mut self, max: usize, action: SessionLimitAction) -> Self {
        self.max_sessions = Some((max.max(1), action));
        self
    }

    /// How long after authenticating a session counts as "fresh" for step-up checks (default 10 min).
    pub fn fresh_for(mut self, window: Duration) -> Self {
        self.fresh_for = window.max(Duration::zero());
        self
    }

    /// How often "last seen" may be written per session (default 5 min). Lower means more writes.
    pub fn with_activity_resolution(mut self, resolution: Duration) -> Self {
        self.activity_resolution = resolution.max(Duration::seconds(1));
        self
    }

    /// How many expired rows one cleanup statement deletes (default 1,000; at least 1).
    pub fn cleanup_batch_size(mut self, batch: u32) -> Self {
        self.cleanup_batch_size = batch.max(1);
        self
    }

    /// How long a refresh token lives (default 30 days). Each refresh issues a new one.
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime.max(Duration::minutes(1));
        self
    }

    /// The configured refresh-token lifetime.
    pub fn refresh_lifetime(&self) -> Duration {
        self.refresh_lifetime
    }

    /// The effective "last seen" write interval: the configured resolution, but at most a quarter of the
    /// idle timeout so idle expiry stays accurate.
    pub fn activity_resolution(&self) -> Duration {
        match self.idle_timeout {
            Some(idle) => self.activity_resolution.min(idle / 4).max(Duration::seconds(1)),
            None => self.activity_resolution,
        }
    }

    /// The configured step-up window.
    pub fn fresh_window(&self) -> Duration {
        self.fresh_for
    }

    /// The configured cleanup batch size.
    pub fn batch_size(&self) -> u32 {
        self.cleanup_batch_size
    }

    /// A session's lifetime from its start: the configured lifetime, capped by the absolute timeout.
    pub(crate) fn lifetime(&self, expires_in: Duration) -> Duration {
        self.absolute_timeout.map_or(expires_in, |abs| abs.min(expires_in))
    }
}
