//! Settings that an integration attaches to a coordinator, so every part of it reads one value.
//!
//! The core knows no HTTP framework, yet an integration such as `torii-axum` has settings (the session
//! cookie's name, for one) that its routes and its extractors must agree on. Giving the setting to the
//! coordinator once, here, is what keeps them from disagreeing: every clone of a [`crate::Torii`] shares
//! the same [`Extensions`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

/// A small map from a type to one value of that type, shared by every clone of a coordinator.
///
/// ```
/// use torii_core::extensions::Extensions;
///
/// #[derive(Debug, PartialEq)]
/// struct CookieName(&'static str);
///
/// let extensions = Extensions::default();
/// assert!(extensions.get::<CookieName>().is_none());
/// extensions.insert(CookieName("session"));
/// assert_eq!(*extensions.get::<CookieName>().unwrap(), CookieName("session"));
/// ```
#[derive(Default)]
pub struct Extensions {
    values: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.values.read().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("Extensions").field("len", &len).finish_non_exhaustive()
    }
}

impl Extensions {
    /// Stores `value`, replacing (and returning) the previous value of the same type.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) -> Option<Arc<T>> {
        // A panic while the lock was held cannot leave the map half-written (insert is one step), so a
        // poisoned lock is still safe to use.
        let previous =
            self.values.write().unwrap_or_else(PoisonError::into_inner).insert(TypeId::of::<T>(), Arc::new(value));
        previous.and_then(|value| value.downcast::<T>().ok())
    }

    /// The stored value of type `T`, if any.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        values.get(&TypeId::of::<T>()).cloned().and_then(|value| value.downcast::<T>().ok())
    }
}
