//! Values to store: fresh users, sessions, provider links, passkeys, challenges and tokens, plus strings
//! that are awkward for databases. Public so backends can use them in their own tests.
//!
//! Every timestamp is a whole number of microseconds, the precision the storage contract promises, so a
//! value written and read back compares equal with `==`.

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use torii_core::storage::{
    CeremonyKind, OAuthAccount, OAuthState, OneTimeToken, PasskeyChallenge, PasskeyCredential, TokenPurpose,
};
use torii_core::{ChallengeId, NewUser, SessionId, SessionRecord, TokenHash, UserId};

/// The current time, truncated to whole microseconds.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now)
}

/// The instant `micros` microseconds after the Unix epoch.
///
/// # Panics
/// When the value is outside chrono's range (about ±262,000 years).
pub fn at_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).expect("timestamp within chrono's range")
}

/// A random lower-case suffix, so values made by concurrent tests on a shared database never collide.
pub fn random_suffix() -> String {
    UserId::new_random().into_inner().to_lowercase()
}

/// A fresh email address, `<label>.<random>@example.com`, unique even on a shared database.
pub fn unique_email(label: &str) -> String {
    format!("{label}.{}@example.com", random_suffix())
}

/// A fresh user with a random id, no name, an unverified email, created [`now`].
pub fn new_user(email: &str) -> NewUser {
    NewUser::new(email, now())
}

/// A fresh random token hash (the hash of a random token, as Torii stores it).
pub fn token_hash() -> TokenHash {
    TokenHash::of(&torii_core::token::generate_secret_token())
}

/// A session of `user_id` with a random id and token hash, expiring at `expires_at`, created and last
/// active one hour before that, without user agent or IP address.
pub fn session_for(user_id: &UserId, expires_at: DateTime<Utc>) -> SessionRecord {
    let created_at = expires_at - TimeDelta::hours(1);
    SessionRecord {
        id: SessionId::new_random(),
        token_hash: token_hash(),
        user_id: user_id.clone(),
        user_agent: None,
        ip_address: None,
        created_at,
        updated_at: created_at,
        expires_at,
    }
}

/// A link of `user_id` to (`provider`, `subject`), created [`now`].
pub fn oauth_account(user_id: &UserId, provider: &str, subject: &str) -> OAuthAccount {
    let now = now();
    OAuthAccount {
        user_id: user_id.clone(),
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        email: Some(unique_email("oauth")),
        email_verified: true,
        created_at: now,
        updated_at: now,
    }
}

/// The state of an authorization-code flow with every optional field set, expiring at `expires_at`.
pub fn oauth_state(expires_at: DateTime<Utc>) -> OAuthState {
    OAuthState {
        state_hash: token_hash(),
        provider: "github".to_owned(),
        pkce_verifier: torii_core::token::generate_secret_token(),
        nonce: Some(torii_core::token::generate_secret_token()),
        redirect_to: Some("/settings?tab=accounts&x='1'".to_owned()),
        link_user_id: None,
        created_at: expires_at - TimeDelta::minutes(10),
        expires_at,
    }
}

/// A passkey of `user_id` with a random credential id, created [`now`], never used.
pub fn passkey_for(user_id: &UserId) -> PasskeyCredential {
    PasskeyCredential {
        credential_id: format!("cred-{}", random_suffix()),
        user_id: user_id.clone(),
        name: "YubiKey 5".to_owned(),
        data: r#"{"cred":{"type":"public-key","counter":0}}"#.to_owned(),
        sign_count: 0,
        backup_eligible: true,
        backup_state: false,
        created_at: now(),
        last_used_at: None,
    }
}

/// A ceremony challenge of `kind` with a random id, expiring at `expires_at`, with no user or email.
pub fn challenge(kind: CeremonyKind, expires_at: DateTime<Utc>) -> PasskeyChallenge {
    PasskeyChallenge {
        id: ChallengeId::new_random(),
        kind,
        user_id: None,
        email: None,
        state: r#"{"challenge":"c2VjcmV0","rp":"example.com"}"#.to_owned(),
        created_at: expires_at - TimeDelta::minutes(5),
        expires_at,
    }
}

/// An unused one-time token for `email` and `purpose`, expiring at `expires_at`, with no user.
pub fn one_time_token(email: &str, purpose: TokenPurpose, expires_at: DateTime<Utc>) -> OneTimeToken {
    OneTimeToken {
        token_hash: token_hash(),
        purpose,
        email: email.to_owned(),
        user_id: None,
        created_at: expires_at - TimeDelta::minutes(15),
        expires_at,
        used_at: None,
    }
}

/// Strings that trip up careless storage code: SQL metacharacters, quoting and escaping characters,
/// Unicode (emoji, right-to-left text, combining marks, zero-width characters), line breaks, the empty
/// string, surrounding spaces, and 10 KB values. Each must round-trip exactly. None contains a NUL byte
/// (see [`NUL_STRING`]).
pub fn awkward_strings() -> Vec<String> {
    vec![
        "'; DROP TABLE users; --".to_owned(),
        "Robert'); DELETE FROM sessions WHERE ('1'='1".to_owned(),
        r#"back\slash \\ "double" `tick` $1 ? :name %_ LIKE wildcards"#.to_owned(),
        "emoji 🦀🔐 family 👩‍👩‍👧 flag 🇳🇴".to_owned(),
        "RTL שלום עולם مرحبا بالعالم".to_owned(),
        "combining e\u{301} vs \u{e9}, a\u{308}\u{332}; zero\u{200b}width; bom \u{feff}".to_owned(),
        "line one\nline two\r\n\ttabbed".to_owned(),
        String::new(),
        "  surrounded by spaces  ".to_owned(),
        "x".repeat(10 * 1024),
        "é🦀ש".repeat(1024),
    ]
}

/// A string with a NUL byte. Some databases (PostgreSQL) cannot store one in text; a backend must then
/// refuse it with `StorageError::InvalidData` rather than fail otherwise or store something else.
pub const NUL_STRING: &str = "before\0after";
