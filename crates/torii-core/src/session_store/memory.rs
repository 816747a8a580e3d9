//! A session store in a `HashMap`: for tests and single-instance development.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

use super::data::{SessionData, expiry_after};
use super::{Result, SessionStore};
use crate::clock::{Clock, SystemClock};

/// How often, at most, a save also drops every expired entry. Loads never return expired data
/// whatever the sweep's timing; the sweep only bounds the memory that abandoned sessions hold.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Keeps session data in the process's memory.
///
/// Meant for tests and for development on one machine: **everything is lost when the process
/// restarts**, and two instances behind a load balancer do not see each other's sessions. Use a
/// cookie store or a database-backed store in production.
///
/// Each entry lives until the earlier of its data's own expiry and the store's TTL after it was last
/// saved; `load` never returns an entry past that time. Expired entries are dropped by
/// [`cleanup_expired`](SessionStore::cleanup_expired) and, at most once per [`SWEEP_INTERVAL`], as a
/// side effect of `save`, so memory stays bounded by the number of live sessions.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use torii_core::session_store::{InMemorySessionStore, SessionData, SessionStore};
///
/// let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new(Duration::from_secs(3600)));
/// let mut data = SessionData::new(Duration::from_secs(600));
/// data.set("step", "2");
/// store.save("visitor-1", data).await?;
/// assert_eq!(store.load("visitor-1").await?.unwrap().get("step"), Some("2"));
/// # Ok::<(), torii_core::ToriiError>(())
/// # }).unwrap();
/// ```
pub struct InMemorySessionStore {
    state: RwLock<State>,
    default_ttl: Duration,
    clock: Arc<dyn Clock>,
}

struct State {
    entries: HashMap<String, SessionData>,
    next_sweep: DateTime<Utc>,
}

impl std::fmt::Debug for InMemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemorySessionStore").field("default_ttl", &self.default_ttl).finish_non_exhaustive()
    }
}

impl InMemorySessionStore {
    /// An empty store whose entries live at most `default_ttl` after they were last saved.
    pub fn new(default_ttl: Duration) -> Self {
        Self::with_clock(default_ttl, Arc::new(SystemClock))
    }

    /// An empty store reading the time from `clock` (a [`ManualClock`](crate::ManualClock) in tests).
    pub fn with_clock(default_ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        let next_sweep = expiry_after(clock.now(), SWEEP_INTERVAL);
        Self { state: RwLock::new(State { entries: HashMap::new(), next_sweep }), default_ttl, clock }
    }

    /// The longest an entry lives after it was saved.
    pub fn default_ttl(&self) -> Duration {
        self.default_ttl
    }

    /// Empty data that expires after the store's TTL.
    pub fn new_data(&self) -> SessionData {
        SessionData::new_at(self.clock.now(), self.default_ttl)
    }

    /// How many entries are held, expired ones not yet swept included.
    pub async fn len(&self) -> usize {
        self.state.read().await.entries.len()
    }

    /// True when no entry is held.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}

impl State {
    fn sweep(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, data| !data.is_expired_at(now));
        self.next_sweep = expiry_after(now, SWEEP_INTERVAL);
        before - self.entries.len()
    }
}

#[crate::async_trait]
impl SessionStore for InMemorySessionStore {
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>> {
        let now = self.clock.now();
        let state = self.state.read().await;
        Ok(state.entries.get(session_id).filter(|data| !data.is_expired_at(now)).cloned())
    }

    async fn save(&self, session_id: &str, mut data: SessionData) -> Result<()> {
        let now = self.clock.now();
        data.cap_expiry(expiry_after(now, self.default_ttl));
        let mut state = self.state.write().await;
        if now >= state.next_sweep {
            state.sweep(now);
        }
        if data.is_expired_at(now) {
            // Saving already-expired data is a delete: keeping it would only hold memory.
            state.entries.remove(session_id);
        } else {
            state.entries.insert(session_id.to_owned(), data);
        }
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<()> {
        self.state.write().await.entries.remove(session_id);
        Ok(())
    }

    async fn cleanup_expired(&self) -> Result<usize> {
        let now = self.clock.now();
        Ok(self.state.write().await.sweep(now))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::clock::ManualClock;

    fn store(ttl_secs: u64) -> (Arc<ManualClock>, InMemorySessionStore) {
        let clock = Arc::new(ManualClock::starting_now());
        let store = InMemorySessionStore::with_clock(Duration::from_secs(ttl_secs), clock.clone());
        (clock, store)
    }

    fn data(clock: &ManualClock, ttl_secs: u64) -> SessionData {
        let mut data = SessionData::new_at(clock.now(), Duration::from_secs(ttl_secs));
        data.set("user_id", "123");
        data
    }

    #[tokio::test]
    async fn save_load_delete() {
        let (clock, store) = store(3600);
        assert_eq!(store.load("a").await.unwrap(), None);
        store.save("a", data(&clock, 60)).await.unwrap();
        assert_eq!(store.load("a").await.unwrap(), Some(data(&clock, 60)));
        assert_eq!(store.load("b").await.unwrap(), None);
        store.delete("a").await.unwrap();
        store.delete("a").await.unwrap();
        assert_eq!(store.load("a").await.unwrap(), None);
        assert!(store.is_healthy());
    }

    #[tokio::test]
    async fn expired_data_is_never_returned() {
        let (clock, store) = store(3600);
        store.save("a", data(&clock, 60)).await.unwrap();
        clock.advance(chrono::Duration::seconds(59));
        assert!(store.load("a").await.unwrap().is_some());
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(store.load("a").await.unwrap(), None);
        assert_eq!(store.len().await, 1, "not swept yet, but already invisible");
        assert_eq!(store.cleanup_expired().await.unwrap(), 1);
        assert!(store.is_empty().await);
    }

    #[tokio::test]
    async fn the_store_ttl_caps_the_data_expiry() {
        let (clock, store) = store(10);
        store.save("a", data(&clock, 3600)).await.unwrap();
        let loaded = store.load("a").await.unwrap().unwrap();
        assert_eq!(loaded.expires_at(), expiry_after(clock.now(), Duration::from_secs(10)));
        clock.advance(chrono::Duration::seconds(10));
        assert_eq!(store.load("a").await.unwrap(), None);
        assert_eq!(store.new_data().expires_at(), expiry_after(clock.now(), Duration::from_secs(10)));
    }

    #[tokio::test]
    async fn saving_again_renews_and_saving_expired_data_deletes() {
        let (clock, store) = store(10);
        store.save("a", data(&clock, 3600)).await.unwrap();
        clock.advance(chrono::Duration::seconds(8));
        store.save("a", data(&clock, 3600)).await.unwrap();
        clock.advance(chrono::Duration::seconds(8));
        assert!(store.load("a").await.unwrap().is_some());
        store.save("a", data(&clock, 0)).await.unwrap();
        assert!(store.is_empty().await);
    }

    #[tokio::test]
    async fn saves_sweep_expired_entries_once_per_interval() {
        let (clock, store) = store(3600);
        store.save("short", data(&clock, 1)).await.unwrap();
        store.save("long", data(&clock, 3600)).await.unwrap();
        clock.advance(chrono::Duration::seconds(2));
        store.save("other", data(&clock, 3600)).await.unwrap();
        assert_eq!(store.len().await, 3, "no sweep before the interval has passed");
        clock.advance(chrono::Duration::seconds(60));
        store.save("other", data(&clock, 3600)).await.unwrap();
        assert_eq!(store.len().await, 2);
        assert_eq!(store.load("short").await.unwrap(), None);
        assert!(store.load("long").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn usable_as_a_trait_object_across_tasks() {
        let store: Arc<dyn SessionStore> = Arc::new(InMemorySessionStore::new(Duration::from_secs(60)));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut data = SessionData::new(Duration::from_secs(60));
                    data.set("i", i.to_string());
                    store.save(&format!("s{i}"), data).await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        for i in 0..8 {
            assert_eq!(store.load(&format!("s{i}")).await.unwrap().unwrap().get("i"), Some(i.to_string().as_str()));
        }
    }
}
