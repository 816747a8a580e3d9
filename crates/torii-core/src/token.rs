//! Secret tokens: generation from the OS CSPRNG and hashing for storage.
//!
//! Every bearer secret Torii hands out (session tokens, and later magic-link, verification and reset
//! tokens) is 32 random bytes, base64url without padding. Only its SHA-256 is stored, so a leaked
//! database does not leak live sessions. SHA-256 without a salt is enough here because the input has
//! 256 bits of entropy: there is nothing to brute-force.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Fills an array from the operating system's CSPRNG.
///
/// The OS generator failing is not something a server can recover from (it means the kernel cannot
/// provide randomness), and issuing a predictable token would be far worse than stopping, so this aborts
/// the process in that case rather than returning a weak value.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if OsRng.try_fill_bytes(&mut bytes).is_err() {
        tracing::error!("the operating system's random number generator failed");
        std::process::abort();
    }
    bytes
}

/// A new secret token: 32 bytes from the OS CSPRNG, base64url without padding (43 characters).
pub fn generate_secret_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The SHA-256 of a secret token, hex-encoded: what storage keeps instead of the token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a secret token.
    pub fn of(token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: impl Into<String>) -> Self {
        Self(hex.into())
    }

    /// The hex text, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenHash {
    // The hash is not the token, but it is still the lookup key of a live session: keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_chars_and_distinct() {
        let a = generate_secret_token();
        let b = generate_secret_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).map(|v| v.len()).ok(), Some(32));
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256("abc"), from FIPS 180-2.
        assert_eq!(TokenHash::of("abc").as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(TokenHash::of("x").ct_eq(&TokenHash::of("x")));
        assert!(!TokenHash::of("x").ct_eq(&TokenHash::of("y")));
        assert_eq!(format!("{:?}", TokenHash::of("abc")), "TokenHash(..)");
    }
}
