//! Email address handling: trimming, validation, and the normalised form used as the uniqueness key.
//!
//! Validation is deliberately modest (RFC 5322 allows far more than any mail system delivers to) but
//! strict about what can do harm: control characters (CR/LF header injection), whitespace, and absurd
//! lengths are refused.

use unicode_normalization::UnicodeNormalization as _;

use crate::error::ToriiError;

/// Longest accepted address, per RFC 5321's path limit.
pub const MAX_EMAIL_LEN: usize = 254;

/// Trims and validates an email address, returning the trimmed form.
///
/// # Errors
/// [`ToriiError::InvalidEmail`] with a short reason.
pub fn validate_email(input: &str) -> Result<String, ToriiError> {
    let email = input.trim();
    if email.is_empty() {
        return Err(ToriiError::InvalidEmail("email is required"));
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(ToriiError::InvalidEmail("email is too long"));
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ToriiError::InvalidEmail("email contains whitespace or control characters"));
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(ToriiError::InvalidEmail("email must contain '@'"));
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(ToriiError::InvalidEmail("the part before '@' is invalid"));
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if !domain.contains('.') || !labels_ok {
        return Err(ToriiError::InvalidEmail("the domain is invalid"));
    }
    Ok(email.to_owned())
}

/// The uniqueness key of an address: the one form every lookup, uniqueness check and comparison of
/// addresses uses, so look-alike spellings of one address are one account.
///
/// It is the trimmed address, NFKC-normalised (compatibility forms such as full-width `ｆｗ` or the
/// KELVIN SIGN become `fw` and `K`), then lower-cased with Rust's full Unicode lower-casing (Unicode
/// case folding but for a few letters, such as `ß` and the final sigma, which keep their own key),
/// then NFKC-normalised again, because lower-casing can produce text that is not in NFKC. It is
/// computed here rather than by a database collation, so every backend agrees. The user's own
/// spelling is kept separately for display and is where mail goes.
pub fn normalize_email(email: &str) -> String {
    let composed: String = email.trim().nfkc().collect();
    composed.to_lowercase().nfkc().collect()
}

/// True when two addresses have the same uniqueness key (see [`normalize_email`]).
pub fn same_email(a: &str, b: &str) -> bool {
    normalize_email(a) == normalize_email(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims() {
        assert_eq!(validate_email("  Alice@Example.com \n").ok().as_deref(), Some("Alice@Example.com"));
        assert!(validate_email("a.b+tag@sub.example.co.uk").is_ok());
        assert!(validate_email("jörg@bücher.de").is_ok());
    }

    #[test]
    fn rejects_bad_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@example.com",
            "a@",
            "a@localhost",
            "a@exa mple.com",
            "a@example..com",
            "a@-example.com",
            "a\r\nBcc: victim@example.com@example.com",
            "a\0@example.com",
            "a b@example.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn normalises_case() {
        assert_eq!(normalize_email(" Alice@EXAMPLE.com"), "alice@example.com");
        assert_eq!(normalize_email("ÄRGER@example.com"), "ärger@example.com");
    }

    #[test]
    fn look_alike_spellings_share_one_key() {
        // Full-width letters, the KELVIN SIGN and a decomposed umlaut are compatibility or canonical
        // variants of plain letters.
        assert_eq!(normalize_email("ｆｗ@example.com"), "fw@example.com");
        assert_eq!(normalize_email("\u{212A}ate@example.com"), "kate@example.com");
        assert_eq!(normalize_email("A\u{0308}rger@example.com"), normalize_email("ärger@example.com"));
        assert_eq!(normalize_email("ＦＷ@ＥＸＡＭＰＬＥ.com"), "fw@example.com");
        assert!(same_email("\u{212A}ate@example.com", "KATE@example.com"));
        assert!(!same_email("kate@example.com", "kat@example.com"));
        // Normalising twice changes nothing.
        for input in ["ｆｗ@example.com", "\u{212A}ate@example.com", "İstanbul@example.com", "ΣΊΣΥΦΟΣ@example.com"]
        {
            let once = normalize_email(input);
            assert_eq!(normalize_email(&once), once, "{input}");
        }
    }
}
