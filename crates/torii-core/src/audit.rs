//! The audit emitter: every security event goes to storage, to `tracing` and to the application's hooks.
//!
//! The coordinator records an [`AuditEvent`] for each security-relevant step of its flows (logins that
//! succeed or fail, sessions revoked, passwords changed, passkeys and providers added or removed, a
//! refresh token presented twice, ...). Each event goes three ways:
//!
//! 1. **Storage**, through [`AuditLogStorage`]: on by default, since every built-in backend implements
//!    it ([`crate::RepositoryProvider`] requires it). A storage failure is logged at `warn` and never
//!    fails the user's request: the login that was being recorded still happened.
//! 2. **`tracing`**, at target `torii::audit`, as fields (`kind`, `user_id`, `ip`, `user_agent`,
//!    `detail`), so a subscriber can route security events on their own.
//! 3. **Hooks** registered with [`Torii::on_event`]: they run on a dedicated thread, in order, behind a
//!    bounded queue, so a slow hook delays nothing and a panicking one is caught, logged and skipped.
//!
//! No event carries a secret (password, token, token hash, code, key): events name the method, the
//! provider, a session or passkey id, and the client's address and user agent.
//!
//! The client's address and user agent come from the call itself where the method takes them (password
//! and magic-link login), else from the [`ClientContext`] of the surrounding task, which `torii-axum`
//! sets for every auth route; other callers can set it with [`with_client_context`].
//!
//! ```
//! # async fn demo<R: torii_core::RepositoryProvider>(storage: std::sync::Arc<R>) -> Result<(), torii_core::ToriiError> {
//! use torii_core::audit::with_client_context;
//! use torii_core::storage::AuditEventKind;
//! use torii_core::{ClientContext, Torii};
//!
//! let torii = Torii::new(storage).on_event(|event| {
//!     if event.kind == AuditEventKind::REFRESH_TOKEN_REUSED {
//!         eprintln!("possible token theft on account {:?}", event.user_id);
//!     }
//! });
//! let client = ClientContext { ip_address: Some("203.0.113.7".into()), user_agent: Some("curl/8".into()) };
//! // Failed logins are recorded with the client's address, even for an unknown account.
//! let _ = with_client_context(client, torii.verify_password_login("nobody@example.com", "guess")).await;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender, TrySendError};

use crate::error::{StorageResult, ToriiError};
use crate::id::UserId;
use crate::managers::ClientContext;
pub use crate::storage::{AuditEvent, AuditEventKind, AuditLogStorage};
use crate::torii::Torii;

/// Most events a user can ask for at once with [`Torii::security_events_for_user`].
pub const MAX_SECURITY_EVENTS: u32 = 200;

/// Events waiting for the hooks; beyond this, events are not passed to hooks (they are still stored and
/// traced) until the hooks catch up.
const HOOK_QUEUE: usize = 1024;

/// Longest user agent kept in an event (the same cut `torii-axum` applies to sessions).
const MAX_USER_AGENT: usize = 512;

/// How someone proved who they are, recorded as `detail.method` of login events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// Email address and password.
    Password,
    /// A link sent by email.
    MagicLink,
    /// A WebAuthn passkey.
    Passkey,
    /// An OAuth / OpenID Connect provider.
    OAuth,
    /// A refresh token exchanged for a new token pair.
    Refresh,
}

impl AuthMethod {
    /// The method as it appears in events: `password`, `magic_link`, `passkey`, `oauth`, `refresh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::MagicLink => "magic_link",
            Self::Passkey => "passkey",
            Self::OAuth => "oauth",
            Self::Refresh => "refresh",
        }
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

tokio::task_local! {
    static CLIENT: ClientContext;
}

/// Runs `future` with `client` as the client of every audit event it records (unless a method is given
/// the client explicitly). `torii-axum` does this for its routes; call it around your own handlers
/// when you use the coordinator without it.
pub async fn with_client_context<F: Future>(client: ClientContext, future: F) -> F::Output {
    CLIENT.scope(client, future).await
}

/// The client set by [`with_client_context`] for the current task, if any.
pub fn current_client_context() -> Option<ClientContext> {
    CLIENT.try_with(Clone::clone).ok()
}

/// A function called with every audit event (see [`Torii::on_event`]).
pub type AuditHook = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

/// An object-safe view of [`AuditLogStorage::record_audit_event`], so the coordinator can write events
/// whatever its storage type.
trait AuditSink: Send + Sync {
    fn record<'a>(&'a self, event: &'a AuditEvent) -> Pin<Box<dyn Future<Output = StorageResult<()>> + Send + 'a>>;
}

impl<T: AuditLogStorage> AuditSink for T {
    fn record<'a>(&'a self, event: &'a AuditEvent) -> Pin<Box<dyn Future<Output = StorageResult<()>> + Send + 'a>> {
        Box::pin(self.record_audit_event(event))
    }
}

/// Where a coordinator's events go besides `tracing`.
#[derive(Clone, Default)]
pub(crate) struct Auditor {
    sink: Option<Arc<dyn AuditSink>>,
    hooks: Vec<AuditHook>,
    dispatcher: Option<Arc<HookDispatcher>>,
}

impl Auditor {
    /// Events written to `storage`.
    pub(crate) fn with_storage<T: AuditLogStorage>(storage: Arc<T>) -> Self {
        Self { sink: Some(storage), hooks: Vec::new(), dispatcher: None }
    }

    fn add_hook(&mut self, hook: AuditHook) {
        self.hooks.push(hook);
        // A new thread serves the whole list; the previous one ends once its queue is dropped.
        self.dispatcher = HookDispatcher::start(self.hooks.clone()).map(Arc::new);
    }
}

/// The thread that runs the hooks, one event at a time, in the order they were recorded.
struct HookDispatcher {
    queue: SyncSender<AuditEvent>,
}

impl HookDispatcher {
    fn start(hooks: Vec<AuditHook>) -> Option<Self> {
        let (queue, events) = mpsc::sync_channel::<AuditEvent>(HOOK_QUEUE);
        let spawned = std::thread::Builder::new().name("torii-audit-hooks".to_owned()).spawn(move || {
            // Ends when every coordinator holding the queue is gone.
            for event in events {
                for hook in &hooks {
                    // A hook is application code: its panic must not take the others (or later
                    // events) down with it.
                    if catch_unwind(AssertUnwindSafe(|| hook(&event))).is_err() {
                        tracing::warn!(target: "torii::audit", kind = %event.kind, event_id = %event.id, "an audit hook panicked");
                    }
                }
            }
        });
        match spawned {
            Ok(_) => Some(Self { queue }),
            Err(err) => {
                tracing::error!(target: "torii::audit", error = %err, "cannot start the audit hook thread: hooks will not run");
                None
            }
        }
    }

    fn dispatch(&self, event: AuditEvent) {
        match self.queue.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event)) => {
                tracing::warn!(target: "torii::audit", kind = %event.kind, event_id = %event.id, "audit hooks are behind: event not passed to them");
            }
            Err(TrySendError::Disconnected(event)) => {
                tracing::warn!(target: "torii::audit", kind = %event.kind, event_id = %event.id, "audit hooks stopped: event not passed to them");
            }
        }
    }
}

/// `{"method": ...}`, the detail of login events.
pub(crate) fn method_detail(method: AuthMethod) -> serde_json::Value {
    serde_json::json!({ "method": method.as_str() })
}

impl<S> Torii<S> {
    /// Calls `hook` with every audit event this coordinator records (after it was stored and traced).
    ///
    /// Hooks run on a dedicated thread, one event at a time in the order recorded, so a slow hook never
    /// delays a request; up to 1024 events wait for them, and events beyond that are not passed to hooks
    /// (a warning is logged; they are still stored and traced). A hook that panics is logged and the
    /// next event still reaches it. To do async work, send the event to a channel your own task reads.
    #[must_use]
    pub fn on_event(mut self, hook: impl Fn(&AuditEvent) + Send + Sync + 'static) -> Self {
        self.auditor.add_hook(Arc::new(hook));
        self
    }

    /// Writes audit events to `storage` instead of the coordinator's own storage (for a coordinator
    /// built with custom managers, whose storage keeps no log).
    #[must_use]
    pub fn with_audit_storage<T: AuditLogStorage>(mut self, storage: Arc<T>) -> Self {
        self.auditor.sink = Some(storage);
        self
    }

    /// Records an event: writes it to the audit storage, traces it at target `torii::audit` and passes it
    /// to the hooks. It never fails: a storage failure is logged at `warn`. Applications can record
    /// events of their own kinds the same way (see [`AuditEventKind::new`]); never put a secret in one.
    pub async fn record_audit_event(&self, event: AuditEvent) {
        let detail = if event.detail.is_null() { String::new() } else { event.detail.to_string() };
        let user_id = event.user_id.as_ref().map(|id| id.as_str());
        tracing::info!(
            target: "torii::audit",
            event_id = %event.id,
            kind = %event.kind,
            user_id,
            ip = event.ip_address.as_deref(),
            user_agent = event.user_agent.as_deref(),
            detail = %detail,
            "security event"
        );
        if let Some(sink) = &self.auditor.sink
            && let Err(err) = sink.record(&event).await
        {
            tracing::warn!(target: "torii::audit", kind = %event.kind, event_id = %event.id, error = %err, "could not store an audit event");
        }
        if let Some(dispatcher) = &self.auditor.dispatcher {
            dispatcher.dispatch(event);
        }
    }

    /// Builds and records an event of `kind` now, for `user_id`, from `client` (or the task's client, see
    /// [`with_client_context`]).
    pub(crate) async fn audit(
        &self,
        kind: AuditEventKind,
        user_id: Option<&UserId>,
        client: Option<&ClientContext>,
        detail: serde_json::Value,
    ) {
        let client = client.cloned().or_else(current_client_context).unwrap_or_default();
        let mut event = AuditEvent::new(kind, self.now());
        event.user_id = user_id.cloned();
        event.ip_address = client.ip_address.filter(|ip| !ip.is_empty());
        event.user_agent =
            client.user_agent.map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect());
        event.detail = detail;
        self.record_audit_event(event).await;
    }
}

impl<S: AuditLogStorage> Torii<S> {
    /// The user's most recent security events, newest first, at most `limit` (capped at
    /// [`MAX_SECURITY_EVENTS`]).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn security_events_for_user(&self, user_id: &UserId, limit: u32) -> Result<Vec<AuditEvent>, ToriiError> {
        let limit = limit.clamp(1, MAX_SECURITY_EVENTS);
        Ok(self.storage().list_audit_events_for_user(user_id, limit).await?)
    }
}
