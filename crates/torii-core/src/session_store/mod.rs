//! Key/value session data for your application: a cart, a locale, the step of a wizard.
//!
//! This is separate from Torii's login sessions ([`Session`](crate::Session), configured by
//! [`crate::SessionConfig`]): those say *who* is logged in and are issued by the coordinator; these
//! hold whatever else the application wants to remember about a visitor, logged in or not. Hence the
//! module has its own [`SessionConfig`]; import it as `session_store::SessionConfig` (or through a
//! `use` of this module) and the two never clash.
//!
//! - [`SessionData`]: string keys and values plus an expiry.
//! - [`SessionStore`]: the storage contract, object-safe so an application can hold an
//!   `Arc<dyn SessionStore>` and swap backends.
//! - [`InMemorySessionStore`]: a `HashMap`, for tests and single-instance development.
//! - [`CookieSessionStore`]: stateless; the data travels in an AES-256-GCM sealed cookie.
//! - Every Torii storage backend (`torii-storage-sqlite`, `torii-storage-postgres`,
//!   `torii-storage-seaorm`, `torii-storage-redis`) is a [`SessionStore`] too, keeping the data in its
//!   database, so it survives restarts and is shared by every instance.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use torii_core::session_store::{InMemorySessionStore, SessionData, SessionStore};
//!
//! let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new(Duration::from_secs(86_400)));
//!
//! let mut cart = SessionData::new(Duration::from_secs(3600));
//! cart.set("items", "3");
//! store.save("visitor-42", cart).await?;
//!
//! let cart = store.load("visitor-42").await?.expect("saved a moment ago");
//! assert_eq!(cart.get("items"), Some("3"));
//!
//! store.delete("visitor-42").await?;
//! assert!(store.load("visitor-42").await?.is_none());
//! # Ok::<(), torii_core::ToriiError>(())
//! # }).unwrap();
//! ```
//!
//! The identifier passed to a store is the application's business. For a server-side store it must be
//! unguessable when it is what a browser presents (generate it like a session token, with
//! [`generate_secret_token`](crate::token::generate_secret_token)). A cookie store's identifier is the
//! sealed cookie value itself; see [`CookieSessionStore`] for what its `save` and `delete` do.
//!
//! The cookie store can be configured from `SESSION_*` environment variables with
//! [`SessionConfig::from_env`]; the variables are listed with Torii's own in [`crate::settings`].

mod config;
mod cookie;
mod data;
mod error;
mod memory;

pub use self::config::{DEFAULT_COOKIE_NAME, DEFAULT_TTL_SECONDS, KEY_LEN, MAX_TTL_SECONDS, SessionConfig};
pub use self::cookie::{CookieSessionStore, MAX_COOKIE_BYTES};
pub use self::data::SessionData;
pub use self::error::SessionStoreError;
pub use self::memory::{InMemorySessionStore, SWEEP_INTERVAL};
/// The cookie codec's types, for reading cookies this module builds without another dependency.
pub use ::cookie::{Cookie, SameSite};

/// Result of the [`SessionStore`] methods: [`ToriiError`](crate::ToriiError) unless stated otherwise.
pub type Result<T, E = crate::ToriiError> = std::result::Result<T, E>;

/// Where session data is kept between requests.
///
/// The contract every implementation keeps:
///
/// - `load` returns what the last `save` under that id stored, and **never returns expired data**
///   (data whose [`SessionData::is_expired`] is true), whether or not it has been cleaned up yet;
/// - `save` replaces whatever was stored under the id; a store may shorten the data's expiry to its
///   own maximum lifetime, never lengthen it;
/// - `delete` of an unknown id succeeds, so deleting twice is harmless;
/// - errors are for the store being unusable (unreachable, misconfigured), not for an id that is
///   absent, which is `Ok(None)`.
///
/// It is a trait object (through [`async_trait`](crate::async_trait)) so the application can pick the
/// backend at start-up and pass `Arc<dyn SessionStore>` around. Map errors to HTTP responses at the edge
/// of the application, as with every [`ToriiError`](crate::ToriiError).
#[crate::async_trait]
pub trait SessionStore: Send + Sync {
    /// The data stored under `session_id`, or `None` when there is none or it has expired.
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>>;

    /// Stores `data` under `session_id`, replacing what was there.
    async fn save(&self, session_id: &str, data: SessionData) -> Result<()>;

    /// Removes what is stored under `session_id`, if anything.
    async fn delete(&self, session_id: &str) -> Result<()>;

    /// Removes expired data and returns how many entries went. Stores whose backend expires data by
    /// itself keep the default, which does nothing and returns 0.
    async fn cleanup_expired(&self) -> Result<usize> {
        Ok(0)
    }

    /// A cheap, synchronous health indication for readiness probes (for example "the connection pool
    /// has a live connection"). Defaults to `true`.
    fn is_healthy(&self) -> bool {
        true
    }
}
