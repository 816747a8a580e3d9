//! The limits: how many guesses per account, per known device, per client address, and overall.

use chrono::TimeDelta;

/// One limit: at most `max` attempts within `window`.
///
/// Limits are stacked: a subject (an account, a device, a client address) is refused while any of its
/// limits is exhausted, and told to come back when the exhausted limit with the furthest horizon
/// allows it again. Short windows with small counts make the progressive delay; long windows make the
/// temporary lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleStep {
    max: u32,
    window: TimeDelta,
}

impl ThrottleStep {
    /// At most `max` attempts within `window`. A window shorter than a second is raised to a second
    /// (`Retry-After` counts whole seconds).
    pub fn new(max: u32, window: TimeDelta) -> Self {
        Self { max, window: window.max(TimeDelta::seconds(1)) }
    }

    /// How many attempts the window allows.
    pub fn max(&self) -> u32 {
        self.max
    }

    /// The length of the window.
    pub fn window(&self) -> TimeDelta {
        self.window
    }
}

/// An unauthenticated request that costs the server work or sends mail, limited per client address
/// (see [`ThrottlePolicy::client_limits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientAction {
    /// A password login attempt.
    Login,
    /// A registration.
    Register,
    /// A request for a password reset mail.
    PasswordReset,
    /// A request for a magic-link mail.
    MagicLink,
    /// The start of a passkey ceremony (registration or login).
    PasskeyStart,
}

impl ClientAction {
    /// The name used in counter keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::PasswordReset => "password-reset",
            Self::MagicLink => "magic-link",
            Self::PasskeyStart => "passkey-start",
        }
    }

    const ALL: [Self; 5] = [Self::Login, Self::Register, Self::PasswordReset, Self::MagicLink, Self::PasskeyStart];

    fn index(self) -> usize {
        match self {
            Self::Login => 0,
            Self::Register => 1,
            Self::PasswordReset => 2,
            Self::MagicLink => 3,
            Self::PasskeyStart => 4,
        }
    }
}

/// How hard guessing is made: limits per account, per known device, per client address and overall.
///
/// On by default (see [`ThrottlePolicy::default`] for the numbers and why). Counts live in the
/// application's own storage through [`crate::storage::RateLimitStorage`], so they hold across
/// restarts and are shared by every instance.
///
/// ```
/// use chrono::TimeDelta;
/// use torii_core::throttle::{ClientAction, ThrottlePolicy, ThrottleStep};
///
/// let policy = ThrottlePolicy::default()
///     .account_limits([ThrottleStep::new(3, TimeDelta::minutes(1)), ThrottleStep::new(10, TimeDelta::hours(1))])
///     .client_limits(ClientAction::Register, [ThrottleStep::new(5, TimeDelta::hours(1))]);
/// assert!(policy.is_enabled());
/// assert_eq!(policy.account_steps().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    enabled: bool,
    account: Vec<ThrottleStep>,
    device: Vec<ThrottleStep>,
    device_lifetime: TimeDelta,
    clients: [Vec<ThrottleStep>; 5],
    global: Vec<ThrottleStep>,
}

fn steps(list: &[(u32, TimeDelta)]) -> Vec<ThrottleStep> {
    list.iter().map(|&(max, window)| ThrottleStep::new(max, window)).collect()
}

impl Default for ThrottlePolicy {
    /// The defaults, chosen after NIST SP 800-63B (§3.2.2: no more than 100 consecutive failed
    /// attempts on one account) and OWASP's authentication and credential-stuffing guidance:
    ///
    /// - **Per account** (failed password logins, counted per normalised address whether or not an
    ///   account has it; a successful login clears them): 5 per minute, 10 per 15 minutes, 20 per hour
    ///   (the temporary lock), 90 per 30 days (so never 100 consecutive failures).
    /// - **Per known device** (a browser holding a valid device cookie for the account gets these
    ///   instead of the account's, so a stranger cannot lock the owner out): the same numbers, counted
    ///   for that device alone.
    /// - **Per client address** (IPv4 address or IPv6 /64): login 30 per minute and 300 per hour;
    ///   registration 10 per minute and 50 per hour; password-reset and magic-link mail 10 per minute
    ///   and 50 per hour; passkey ceremony starts 30 per minute and 300 per hour.
    /// - **Overall** (every limited request from every client together): 1000 per minute.
    /// - Device cookies last 180 days.
    fn default() -> Self {
        let minute = TimeDelta::minutes(1);
        let hour = TimeDelta::hours(1);
        let account = steps(&[(5, minute), (10, TimeDelta::minutes(15)), (20, hour), (90, TimeDelta::days(30))]);
        let busy = steps(&[(30, minute), (300, hour)]);
        let mail = steps(&[(10, minute), (50, hour)]);
        Self {
            enabled: true,
            device: account.clone(),
            account,
            device_lifetime: TimeDelta::days(180),
            // In the order of `ClientAction::index`.
            clients: [busy.clone(), mail.clone(), mail.clone(), mail, busy],
            global: steps(&[(1000, minute)]),
        }
    }
}

impl ThrottlePolicy {
    /// No limits at all: unlimited online guessing of every password, and unlimited mail and
    /// registrations from one client. This weakens security badly; use it only where something in
    /// front of Torii does the same job, or in tests that are about something else.
    pub fn danger_disabled() -> Self {
        Self { enabled: false, ..Self::default() }
    }

    /// Sets the limits on password attempts per account (identified by its normalised address, known
    /// or not). An empty list removes the account limits.
    pub fn account_limits(mut self, limits: impl IntoIterator<Item = ThrottleStep>) -> Self {
        self.account = limits.into_iter().collect();
        self
    }

    /// Sets the limits on password attempts from a browser holding a valid device cookie for the
    /// account; they replace the account limits for that browser.
    pub fn device_limits(mut self, limits: impl IntoIterator<Item = ThrottleStep>) -> Self {
        self.device = limits.into_iter().collect();
        self
    }

    /// Sets how long a device cookie stays valid after the login that issued it.
    pub fn device_lifetime(mut self, lifetime: TimeDelta) -> Self {
        self.device_lifetime = lifetime.max(TimeDelta::minutes(1));
        self
    }

    /// Sets the limits on one kind of request per client address.
    pub fn client_limits(mut self, action: ClientAction, limits: impl IntoIterator<Item = ThrottleStep>) -> Self {
        self.clients[action.index()] = limits.into_iter().collect();
        self
    }

    /// Sets the ceiling on limited requests from all clients together.
    pub fn global_limits(mut self, limits: impl IntoIterator<Item = ThrottleStep>) -> Self {
        self.global = limits.into_iter().collect();
        self
    }

    /// False only for [`ThrottlePolicy::danger_disabled`].
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The limits per account.
    pub fn account_steps(&self) -> &[ThrottleStep] {
        &self.account
    }

    /// The limits per known device.
    pub fn device_steps(&self) -> &[ThrottleStep] {
        &self.device
    }

    /// How long a device cookie stays valid.
    pub fn device_cookie_lifetime(&self) -> TimeDelta {
        self.device_lifetime
    }

    /// The limits of one kind of request per client address.
    pub fn client_steps(&self, action: ClientAction) -> &[ThrottleStep] {
        &self.clients[action.index()]
    }

    /// The overall ceiling.
    pub fn global_steps(&self) -> &[ThrottleStep] {
        &self.global
    }

    /// Every action with its limits (for documentation and diagnostics).
    pub fn all_client_steps(&self) -> impl Iterator<Item = (ClientAction, &[ThrottleStep])> {
        ClientAction::ALL.into_iter().map(|action| (action, self.client_steps(action)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lock_well_before_one_hundred_consecutive_failures() {
        let policy = ThrottlePolicy::default();
        assert!(policy.is_enabled());
        let longest = policy.account_steps().iter().max_by_key(|s| s.window()).copied();
        assert!(longest.is_some_and(|s| s.max() < 100 && s.window() >= TimeDelta::days(30)));
        assert!(policy.account_steps().iter().any(|s| s.max() <= 5));
        for (action, steps) in policy.all_client_steps() {
            assert!(!steps.is_empty(), "{action:?}");
        }
        assert!(!ThrottlePolicy::danger_disabled().is_enabled());
    }

    #[test]
    fn tiny_windows_are_raised_to_a_second() {
        assert_eq!(ThrottleStep::new(1, TimeDelta::zero()).window(), TimeDelta::seconds(1));
    }
}
