//! Argon2id hashing, run off the async executor behind a concurrency cap.
//!
//! Each hash takes tens of milliseconds of CPU and ~19 MiB of memory. Running it inline would stall
//! every other request on the same executor thread, and running an unbounded number at once would let a
//! login flood exhaust memory. So hashing happens on tokio's blocking pool, and a semaphore sized from
//! the number of cores limits how many run at once; the rest wait their turn.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OnceCell, Semaphore};

use crate::error::ToriiError;
use crate::token::random_bytes;

/// Argon2id cost parameters. The defaults are OWASP's recommendation (m = 19 MiB, t = 2, p = 1); they
/// cannot be set lower. Raising them later is safe: existing hashes keep working and are upgraded at the
/// user's next successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Argon2Params {
    /// OWASP's minimum memory cost, in KiB.
    pub const MIN_MEMORY_KIB: u32 = 19_456;
    /// OWASP's minimum iteration count at that memory cost.
    pub const MIN_ITERATIONS: u32 = 2;

    /// Parameters at or above the OWASP floor.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when any value is below the floor or unusable.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, ToriiError> {
        if memory_kib < Self::MIN_MEMORY_KIB || iterations < Self::MIN_ITERATIONS || parallelism == 0 {
            return Err(ToriiError::ConfigError(format!(
                "Argon2id parameters must be at least m={} KiB, t={}, p=1",
                Self::MIN_MEMORY_KIB,
                Self::MIN_ITERATIONS
            )));
        }
        Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| ToriiError::ConfigError(format!("invalid Argon2id parameters: {e}")))?;
        Ok(Self { memory_kib, iterations, parallelism })
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Iterations (time cost).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Lanes (parallelism).
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    fn hasher(&self) -> Result<Argon2<'static>, ToriiError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| ToriiError::ConfigError(format!("invalid Argon2id parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// True when a stored PHC hash was made with weaker settings than these (other algorithm or version,
    /// or any lower cost), so it should be replaced after a successful login.
    pub fn is_weaker_hash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        if parsed.algorithm != Algorithm::Argon2id.ident() || parsed.version != Some(Version::V0x13 as u32) {
            return true;
        }
        match Params::try_from(&parsed) {
            Ok(p) => p.m_cost() < self.memory_kib || p.t_cost() < self.iterations || p.p_cost() < self.parallelism,
            Err(_) => true,
        }
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self { memory_kib: Self::MIN_MEMORY_KIB, iterations: Self::MIN_ITERATIONS, parallelism: 1 }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password matched.
    pub valid: bool,
    /// The stored hash used weaker parameters than configured and should be replaced.
    pub needs_rehash: bool,
}

/// Hashes and verifies passwords. Cheap to clone; clones share the concurrency cap.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Argon2Params,
    permits: Arc<Semaphore>,
    dummy_hash: Arc<OnceCell<String>>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(Argon2Params::default())
    }
}

impl PasswordHasher {
    /// A hasher with these parameters and one concurrent hash per CPU core.
    pub fn new(params: Argon2Params) -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self::with_concurrency(params, cores)
    }

    /// A hasher allowing at most `max_concurrent` hashes at once (at least one).
    pub fn with_concurrency(params: Argon2Params, max_concurrent: usize) -> Self {
        Self { params, permits: Arc::new(Semaphore::new(max_concurrent.max(1))), dummy_hash: Arc::new(OnceCell::new()) }
    }

    /// The configured parameters.
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// Hashes an (already policy-checked and normalised) password into a PHC string with a fresh
    /// 128-bit salt.
    ///
    /// # Errors
    /// [`ToriiError::Internal`] when the hashing task fails.
    pub async fn hash(&self, password: String) -> Result<String, ToriiError> {
        let params = self.params;
        self.run(move || {
            let salt = SaltString::encode_b64(&random_bytes::<16>())
                .map_err(|e| ToriiError::Internal(format!("salt encoding failed: {e}")))?;
            params
                .hasher()?
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ToriiError::Internal(format!("password hashing failed: {e}")))
        })
        .await
    }

    /// Verifies a (normalised) password against a stored hash. When there is no stored hash (unknown
    /// user, or an account without a password), a dummy hash is verified instead so the call costs the
    /// same either way and timing does not reveal whether the account exists; the result is then always
    /// invalid.
    ///
    /// # Errors
    /// [`ToriiError::Internal`] when the hashing task fails.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<Verification, ToriiError> {
        let (target, real) = match stored {
            Some(hash) => (hash, true),
            None => (self.dummy().await?, false),
        };
        let params = self.params;
        self.run(move || {
            let valid = match PasswordHash::new(&target) {
                Ok(parsed) => {
                    // Verify with the parameters recorded in the hash, not the configured ones, so
                    // hashes made before a parameter change keep working.
                    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
                }
                Err(_) => false,
            };
            let valid = valid && real;
            Ok(Verification { valid, needs_rehash: valid && params.is_weaker_hash(&target) })
        })
        .await
    }

    async fn dummy(&self) -> Result<String, ToriiError> {
        self.dummy_hash
            .get_or_try_init(|| async {
                // A random password nobody knows; only its cost matters.
                let secret = crate::token::generate_secret_token();
                self.hash(secret).await
            })
            .await
            .cloned()
    }

    async fn run<T, F>(&self, work: F) -> Result<T, ToriiError>
    where
        F: FnOnce() -> Result<T, ToriiError> + Send + 'static,
        T: Send + 'static,
    {
        let _permit =
            self.permits.acquire().await.map_err(|_| ToriiError::Internal("password hasher is shut down".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ToriiError::Internal(format!("password hashing task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_with_owasp_parameters() -> Result<(), ToriiError> {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash("a long enough password".into()).await?;
        let parsed = PasswordHash::new(&hash).map_err(|e| ToriiError::Internal(e.to_string()))?;
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.version, Some(0x13));
        let params = Params::try_from(&parsed).map_err(|e| ToriiError::Internal(e.to_string()))?;
        assert!(params.m_cost() >= 19_456);
        assert!(params.t_cost() >= 2);
        assert_eq!(params.p_cost(), 1);
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        // A fresh salt every time.
        assert_ne!(hash, hasher.hash("a long enough password".into()).await?);
        Ok(())
    }

    #[tokio::test]
    async fn verify_accepts_right_and_rejects_wrong_or_missing() -> Result<(), ToriiError> {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash("right password here".into()).await?;
        let ok = hasher.verify("right password here".into(), Some(hash.clone())).await?;
        assert_eq!(ok, Verification { valid: true, needs_rehash: false });
        let bad = hasher.verify("wrong password here".into(), Some(hash)).await?;
        assert!(!bad.valid);
        // No stored hash: still does the work, never valid, even for the dummy's own secret.
        let none = hasher.verify("right password here".into(), None).await?;
        assert!(!none.valid);
        // Garbage in the hash column is a failed verification, not an error.
        assert!(!hasher.verify("x".into(), Some("not a phc string".into())).await?.valid);
        Ok(())
    }

    #[tokio::test]
    async fn weaker_stored_parameters_ask_for_a_rehash() -> Result<(), ToriiError> {
        let old = PasswordHasher::default();
        let stronger = PasswordHasher::new(Argon2Params::new(19_456, 3, 1)?);
        let hash = old.hash("a long enough password".into()).await?;
        let v = stronger.verify("a long enough password".into(), Some(hash.clone())).await?;
        assert_eq!(v, Verification { valid: true, needs_rehash: true });
        // A wrong password never asks for a rehash.
        let v = stronger.verify("another password".into(), Some(hash)).await?;
        assert_eq!(v, Verification { valid: false, needs_rehash: false });
        assert!(Argon2Params::default().is_weaker_hash("$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
        Ok(())
    }

    #[test]
    fn parameters_below_owasp_are_refused() {
        assert!(Argon2Params::new(4096, 2, 1).is_err());
        assert!(Argon2Params::new(19_456, 1, 1).is_err());
        assert!(Argon2Params::new(19_456, 2, 0).is_err());
        assert!(Argon2Params::new(65_536, 3, 2).is_ok());
    }
}
