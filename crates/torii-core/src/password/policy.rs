//! The password policy, following NIST SP 800-63B: length matters, composition rules don't, and known
//! breached passwords are refused.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use unicode_normalization::UnicodeNormalization as _;

/// The common-password list shipped with the crate (see `data/README.md`).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/common-passwords.txt").lines().collect());

/// Number of entries in the built-in common-password list.
pub fn common_password_count() -> usize {
    COMMON_PASSWORDS.len()
}

/// Why a password was refused. The messages are safe to show to the user: they never echo the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// Shorter than the minimum (counted in Unicode code points after normalisation).
    #[error("password must be at least {min} characters long")]
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// Longer than the maximum.
    #[error("password must be at most {max} characters long")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// On the list of common or breached passwords.
    #[error("this password is too common; choose a less predictable one")]
    Common,
    /// The same as the account's email address.
    #[error("password must not be the same as the email address")]
    SameAsEmail,
}

/// Rules a new password must satisfy.
///
/// Defaults: 8 to 128 characters (Unicode code points, after NFKC normalisation), no composition rules,
/// the built-in list of ~20,000 common passwords refused, and the email address refused as a password.
/// Passwords are never truncated.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    min_length: usize,
    max_length: usize,
    check_common: bool,
    extra_blocked: Arc<HashSet<String>>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 8, max_length: 128, check_common: true, extra_blocked: Arc::new(HashSet::new()) }
    }
}

impl PasswordPolicy {
    /// Sets the minimum length in characters. Values below 8 are raised to 8, the floor NIST sets.
    pub fn min_length(mut self, min: usize) -> Self {
        self.min_length = min.max(8);
        self.max_length = self.max_length.max(self.min_length);
        self
    }

    /// Sets the maximum length in characters. Values below 64 are raised to 64 so passphrases fit; values
    /// above 4096 are lowered to it so a single login cannot ask the hasher to chew megabytes.
    pub fn max_length(mut self, max: usize) -> Self {
        self.max_length = max.clamp(64, 4096).max(self.min_length);
        self
    }

    /// Turns the built-in common-password check on or off (on by default).
    pub fn check_common_passwords(mut self, on: bool) -> Self {
        self.check_common = on;
        self
    }

    /// Adds words of your own to refuse (compared ignoring case), such as the product's name.
    pub fn block_words<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = (*self.extra_blocked).clone();
        set.extend(words.into_iter().map(|w| normalize_password(w.as_ref()).to_lowercase()));
        self.extra_blocked = Arc::new(set);
        self
    }

    /// The configured maximum length in characters.
    pub fn max_len(&self) -> usize {
        self.max_length
    }

    /// The configured minimum length in characters.
    pub fn min_len(&self) -> usize {
        self.min_length
    }

    /// A cheap upper bound on the input's byte length, checked before any normalisation or hashing so a
    /// megabyte-long "password" is refused without work. NFKC can expand text, so the real check on
    /// characters comes after normalisation.
    pub(crate) fn max_input_bytes(&self) -> usize {
        self.max_length.saturating_mul(4)
    }

    /// Checks a new password and returns its normalised (NFKC) form, which is what gets hashed.
    ///
    /// # Errors
    /// The first rule the password breaks.
    pub fn check(&self, password: &str, email: Option<&str>) -> Result<String, PasswordPolicyError> {
        if password.len() > self.max_input_bytes() {
            return Err(PasswordPolicyError::TooLong { max: self.max_length });
        }
        let normalized = normalize_password(password);
        let chars = normalized.chars().count();
        if chars < self.min_length {
            return Err(PasswordPolicyError::TooShort { min: self.min_length });
        }
        if chars > self.max_length {
            return Err(PasswordPolicyError::TooLong { max: self.max_length });
        }
        let lowered = normalized.to_lowercase();
        if self.check_common && COMMON_PASSWORDS.contains(lowered.as_str()) {
            return Err(PasswordPolicyError::Common);
        }
        if self.extra_blocked.contains(&lowered) {
            return Err(PasswordPolicyError::Common);
        }
        if let Some(email) = email {
            let email = email.trim().to_lowercase();
            let local = email.split('@').next().unwrap_or_default();
            if lowered == email || (local.chars().count() >= self.min_length && lowered == local) {
                return Err(PasswordPolicyError::SameAsEmail);
            }
        }
        Ok(normalized)
    }
}

/// Unicode NFKC normalisation, so the same password typed on different keyboards (composed vs.
/// decomposed accents, full-width digits) hashes the same.
pub fn normalize_password(password: &str) -> String {
    password.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: &str = "correct horse battery staple";

    #[test]
    fn accepts_long_unremarkable_passwords_without_composition_rules() {
        let policy = PasswordPolicy::default();
        assert!(policy.check(STRONG, None).is_ok());
        assert!(policy.check("zq8-Lm0v", None).is_ok());
        assert!(policy.check("alllowercaseletters", None).is_ok());
    }

    #[test]
    fn length_is_counted_in_code_points() {
        let policy = PasswordPolicy::default();
        // Seven 4-byte emoji are 28 bytes but only 7 characters: too short.
        assert_eq!(policy.check("🔥🔥🔥🔥🔥🔥🔥", None), Err(PasswordPolicyError::TooShort { min: 8 }));
        // Eight of them are fine.
        assert!(policy.check("🔥🔥🔥🔥🔥🔥🔥🔥", None).is_ok());
        // Eight accented characters (2 bytes each) are 8 characters, not 16.
        assert!(policy.check("ééééüüüü", None).is_ok());
        assert_eq!(policy.check("ééé", None), Err(PasswordPolicyError::TooShort { min: 8 }));
    }

    #[test]
    fn maximum_is_enforced_and_huge_inputs_are_refused_cheaply() {
        let policy = PasswordPolicy::default();
        let at_max = "x1".repeat(64);
        assert_eq!(at_max.chars().count(), 128);
        assert!(policy.check(&at_max, None).is_ok());
        let over = format!("{at_max}y");
        assert_eq!(policy.check(&over, None), Err(PasswordPolicyError::TooLong { max: 128 }));
        let megabyte = "a".repeat(1 << 20);
        assert_eq!(policy.check(&megabyte, None), Err(PasswordPolicyError::TooLong { max: 128 }));
        // The maximum can never be configured below 64.
        assert_eq!(PasswordPolicy::default().max_length(10).max_len(), 64);
    }

    #[test]
    fn nfkc_normalisation_makes_equivalent_inputs_equal() {
        let policy = PasswordPolicy::default();
        // "é" precomposed (U+00E9) vs "e" + combining acute (U+0301).
        let composed = policy.check("caf\u{e9} au lait!", None).ok();
        let decomposed = policy.check("cafe\u{301} au lait!", None).ok();
        assert!(composed.is_some());
        assert_eq!(composed, decomposed);
        // Full-width digits fold to ASCII under NFKC.
        assert_eq!(normalize_password("ｐａｓｓ１２３"), "pass123");
    }

    #[test]
    fn common_passwords_are_refused_case_insensitively() {
        let policy = PasswordPolicy::default();
        assert!(common_password_count() >= 10_000, "{}", common_password_count());
        for common in ["password123", "PASSWORD123", "12345678", "qwertyuiop", "iloveyou"] {
            assert_eq!(policy.check(common, None), Err(PasswordPolicyError::Common), "{common}");
        }
        // Full-width "password123" normalises to the common one.
        assert_eq!(policy.check("ｐａｓｓｗｏｒｄ１２３", None), Err(PasswordPolicyError::Common));
        // The check can be turned off.
        assert!(PasswordPolicy::default().check_common_passwords(false).check("password123", None).is_ok());
    }

    #[test]
    fn custom_words_and_email_are_refused() {
        let policy = PasswordPolicy::default().block_words(["ToriiRocks2026"]);
        assert_eq!(policy.check("toriirocks2026", None), Err(PasswordPolicyError::Common));
        assert_eq!(policy.check("Alice@Example.com", Some("alice@example.com")), Err(PasswordPolicyError::SameAsEmail));
        assert_eq!(policy.check("alexandra.k", Some("alexandra.k@example.com")), Err(PasswordPolicyError::SameAsEmail));
    }

    #[test]
    fn errors_never_echo_the_password() {
        let policy = PasswordPolicy::default();
        let err = policy.check("password123", None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!err.contains("password123"));
    }
}
