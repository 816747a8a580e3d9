//! JWT signing and verification keys, parsed once when the configuration is built.

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::error::ToriiError;

/// Minimum HS256 secret length in bytes (RFC 7518 §3.2: at least the hash output size).
pub const MIN_HS256_KEY_LEN: usize = 32;

/// Default clock-skew allowance for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 5;

/// Largest accepted leeway, in seconds: more than this stops meaning "clock skew".
pub const MAX_LEEWAY_SECS: u64 = 60;

/// The signature algorithms Torii issues and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 (shared secret).
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwtAlgorithm {
    pub(crate) fn to_jwt(self) -> Algorithm {
        match self {
            Self::HS256 => Algorithm::HS256,
            Self::RS256 => Algorithm::RS256,
            Self::ES256 => Algorithm::ES256,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// A key that verifies tokens, bound to the one algorithm it may be used with.
#[derive(Clone)]
pub struct VerificationKey {
    pub(crate) algorithm: JwtAlgorithm,
    pub(crate) key: Result<Arc<DecodingKey>, String>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// An HS256 secret (at least 32 bytes).
    pub fn hs256(secret: &[u8]) -> Self {
        let key = if secret.len() < MIN_HS256_KEY_LEN {
            Err(format!("HS256 keys must be at least {MIN_HS256_KEY_LEN} bytes long (got {})", secret.len()))
        } else {
            Ok(Arc::new(DecodingKey::from_secret(secret)))
        };
        Self { algorithm: JwtAlgorithm::HS256, key }
    }

    /// An RSA public key (PEM) for RS256.
    pub fn rs256_pem(public_pem: &[u8]) -> Self {
        Self::parsed(JwtAlgorithm::RS256, DecodingKey::from_rsa_pem(public_pem), "RSA public key")
    }

    /// A P-256 public key (PEM) for ES256.
    pub fn es256_pem(public_pem: &[u8]) -> Self {
        Self::parsed(JwtAlgorithm::ES256, DecodingKey::from_ec_pem(public_pem), "EC public key")
    }

    /// An Ed25519 public key (PEM) for EdDSA.
    pub fn eddsa_pem(public_pem: &[u8]) -> Self {
        Self::parsed(JwtAlgorithm::EdDSA, DecodingKey::from_ed_pem(public_pem), "Ed25519 public key")
    }

    fn parsed(algorithm: JwtAlgorithm, key: jsonwebtoken::errors::Result<DecodingKey>, what: &str) -> Self {
        Self { algorithm, key: key.map(Arc::new).map_err(|e| format!("invalid {what}: {e}")) }
    }
}

#[derive(Clone)]
pub(crate) struct SigningKey {
    pub(crate) algorithm: JwtAlgorithm,
    pub(crate) key: Result<Arc<EncodingKey>, String>,
}

/// How JWT sessions are signed and verified.
///
/// Built with one of the constructors and the chainable `with_*` settings. Keys are parsed once here,
/// not per token. A bad key (an HS256 secret shorter than 32 bytes, an unparsable PEM) never panics and
/// never yields a working weak configuration: every signing and verification with it fails with
/// [`ToriiError::ConfigError`], [`JwtConfig::validate`] reports it, and Torii logs it when the
/// configuration is installed.
#[derive(Clone)]
pub struct JwtConfig {
    pub(crate) signing: SigningKey,
    pub(crate) verifying: VerificationKey,
    pub(crate) key_id: Option<String>,
    pub(crate) previous_keys: Vec<(String, VerificationKey)>,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) include_metadata: bool,
    pub(crate) leeway_secs: u64,
    pub(crate) revocation_cache_ttl: chrono::Duration,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("algorithm", &self.signing.algorithm)
            .field("key_id", &self.key_id)
            .field("previous_key_ids", &self.previous_keys.iter().map(|(kid, _)| kid).collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("include_metadata", &self.include_metadata)
            .field("leeway_secs", &self.leeway_secs)
            .field("revocation_cache_ttl", &self.revocation_cache_ttl)
            .finish_non_exhaustive()
    }
}

impl PartialEq for JwtConfig {
    /// Two configurations are equal when they have the same settings and share the same parsed keys.
    fn eq(&self, other: &Self) -> bool {
        fn same<T>(a: &Result<Arc<T>, String>, b: &Result<Arc<T>, String>) -> bool {
            match (a, b) {
                (Ok(a), Ok(b)) => Arc::ptr_eq(a, b),
                (Err(a), Err(b)) => a == b,
                _ => false,
            }
        }
        self.signing.algorithm == other.signing.algorithm
            && same(&self.signing.key, &other.signing.key)
            && same(&self.verifying.key, &other.verifying.key)
            && self.key_id == other.key_id
            && self.previous_keys.len() == other.previous_keys.len()
            && self.issuer == other.issuer
            && self.audience == other.audience
            && self.include_metadata == other.include_metadata
            && self.leeway_secs == other.leeway_secs
            && self.revocation_cache_ttl == other.revocation_cache_ttl
    }
}

impl JwtConfig {
    fn from_parts(signing: SigningKey, verifying: VerificationKey) -> Self {
        Self {
            signing,
            verifying,
            key_id: None,
            previous_keys: Vec::new(),
            issuer: None,
            audience: None,
            include_metadata: false,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            revocation_cache_ttl: chrono::Duration::seconds(1),
        }
    }

    /// HS256 with a shared secret of at least 32 bytes (use 32+ random bytes, not a passphrase).
    pub fn new_hs256(secret: Vec<u8>) -> Self {
        let verifying = VerificationKey::hs256(&secret);
        let key = match &verifying.key {
            Ok(_) => Ok(Arc::new(EncodingKey::from_secret(&secret))),
            Err(e) => Err(e.clone()),
        };
        Self::from_parts(SigningKey { algorithm: JwtAlgorithm::HS256, key }, verifying)
    }

    /// RS256 with an RSA key pair in PEM (PKCS#1 or PKCS#8), as `openssl genrsa` writes it.
    pub fn new_rs256(private_pem: Vec<u8>, public_pem: Vec<u8>) -> Self {
        let key =
            EncodingKey::from_rsa_pem(&private_pem).map(Arc::new).map_err(|e| format!("invalid RSA private key: {e}"));
        Self::from_parts(SigningKey { algorithm: JwtAlgorithm::RS256, key }, VerificationKey::rs256_pem(&public_pem))
    }

    /// ES256 with a P-256 key pair in PEM (the private key in PKCS#8).
    pub fn new_es256(private_pem: Vec<u8>, public_pem: Vec<u8>) -> Self {
        let key =
            EncodingKey::from_ec_pem(&private_pem).map(Arc::new).map_err(|e| format!("invalid EC private key: {e}"));
        Self::from_parts(SigningKey { algorithm: JwtAlgorithm::ES256, key }, VerificationKey::es256_pem(&public_pem))
    }

    /// EdDSA with an Ed25519 key pair in PEM (`openssl genpkey -algorithm ed25519`).
    pub fn new_eddsa(private_pem: Vec<u8>, public_pem: Vec<u8>) -> Self {
        let key = EncodingKey::from_ed_pem(&private_pem)
            .map(Arc::new)
            .map_err(|e| format!("invalid Ed25519 private key: {e}"));
        Self::from_parts(SigningKey { algorithm: JwtAlgorithm::EdDSA, key }, VerificationKey::eddsa_pem(&public_pem))
    }

    /// RS256 with the key pair read from two PEM files.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when a file cannot be read or a key cannot be parsed.
    pub fn from_rs256_pem_files(
        private_path: impl AsRef<Path>,
        public_path: impl AsRef<Path>,
    ) -> Result<Self, ToriiError> {
        let (private, public) = read_pair(private_path.as_ref(), public_path.as_ref())?;
        let config = Self::new_rs256(private, public);
        config.validate()?;
        Ok(config)
    }

    /// EdDSA with the key pair read from two PEM files.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when a file cannot be read or a key cannot be parsed.
    pub fn from_eddsa_pem_files(
        private_path: impl AsRef<Path>,
        public_path: impl AsRef<Path>,
    ) -> Result<Self, ToriiError> {
        let (private, public) = read_pair(private_path.as_ref(), public_path.as_ref())?;
        let config = Self::new_eddsa(private, public);
        config.validate()?;
        Ok(config)
    }

    /// ES256 with the key pair read from two PEM files.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when a file cannot be read or a key cannot be parsed.
    pub fn from_es256_pem_files(
        private_path: impl AsRef<Path>,
        public_path: impl AsRef<Path>,
    ) -> Result<Self, ToriiError> {
        let (private, public) = read_pair(private_path.as_ref(), public_path.as_ref())?;
        let config = Self::new_es256(private, public);
        config.validate()?;
        Ok(config)
    }

    /// Sets the `iss` claim written into tokens and required of tokens verified.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the `aud` claim written into tokens and required of tokens verified.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Includes the session's user agent and IP address in the token (`metadata` claim).
    pub fn with_metadata(mut self, include: bool) -> Self {
        self.include_metadata = include;
        self
    }

    /// Names the signing key (`kid` header), so it can later be rotated out while its tokens still verify.
    pub fn with_key_id(mut self, kid: impl Into<String>) -> Self {
        self.key_id = Some(kid.into());
        self
    }

    /// Keeps accepting tokens signed by an earlier key, identified by their `kid` header. Key rotation:
    /// sign with a new key (new `kid`), keep the old one here until its last tokens have expired.
    pub fn with_previous_key(mut self, kid: impl Into<String>, key: VerificationKey) -> Self {
        self.previous_keys.push((kid.into(), key));
        self
    }

    /// Clock-skew allowance for `exp`/`nbf`, in seconds (default 5, at most 60).
    pub fn with_leeway_secs(mut self, secs: u64) -> Self {
        self.leeway_secs = secs.min(MAX_LEEWAY_SECS);
        self
    }

    /// How long a token found not revoked is trusted without asking storage again (default 1 s; zero
    /// checks on every request). Revocations made through the same process take effect at once; those
    /// made by another instance are seen within this time.
    pub fn with_revocation_cache(mut self, ttl: chrono::Duration) -> Self {
        self.revocation_cache_ttl = ttl.max(chrono::Duration::zero());
        self
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.signing.algorithm
    }

    /// The configured issuer.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether tokens carry the session metadata.
    pub fn includes_metadata(&self) -> bool {
        self.include_metadata
    }

    /// Checks that every key parsed and is strong enough.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] describing the first problem (never containing key material).
    pub fn validate(&self) -> Result<(), ToriiError> {
        if let Err(e) = &self.signing.key {
            return Err(ToriiError::ConfigError(e.clone()));
        }
        if let Err(e) = &self.verifying.key {
            return Err(ToriiError::ConfigError(e.clone()));
        }
        for (kid, key) in &self.previous_keys {
            if let Err(e) = &key.key {
                return Err(ToriiError::ConfigError(format!("previous key {kid:?}: {e}")));
            }
        }
        Ok(())
    }
}

fn read_pair(private: &Path, public: &Path) -> Result<(Vec<u8>, Vec<u8>), ToriiError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| ToriiError::ConfigError(format!("cannot read key file {}: {e}", p.display())))
    };
    Ok((read(private)?, read(public)?))
}
