#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;

use super::*;
use crate::session::SessionProviderType;

const SECRET: &str = "correct-horse-battery-staple-and-more-words";

fn from(vars: &[(&str, &str)]) -> Result<SessionConfig, ToriiError> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    SessionConfig::from_lookup(|name| vars.get(name).cloned())
}

fn config_error(vars: &[(&str, &str)]) -> String {
    match from(vars) {
        Err(ToriiError::ConfigError(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

fn jwt(config: &SessionConfig) -> &JwtConfig {
    match &config.provider_type {
        SessionProviderType::Jwt(jwt) => jwt,
        other => panic!("expected JWT sessions, got {other:?}"),
    }
}

#[test]
fn nothing_set_gives_the_defaults() {
    assert_eq!(from(&[]).unwrap(), SessionConfig::default());
    assert_eq!(from(&[("TORII_SESSION_PROVIDER", "opaque"), ("JWT_SECRET", "")]).unwrap(), SessionConfig::default());
}

#[test]
fn durations_take_seconds_or_a_unit() {
    for (text, expected) in [
        ("86400", Duration::days(1)),
        ("90s", Duration::seconds(90)),
        ("15m", Duration::minutes(15)),
        (" 12h ", Duration::hours(12)),
        ("30d", Duration::days(30)),
        ("3650d", Duration::days(3650)),
    ] {
        assert_eq!(from(&[("TORII_SESSION_EXPIRES_IN", text)]).unwrap().expires_in, expected, "{text}");
    }
    for bad in ["0", "0d", "-5", "1.5h", "30 days", "d", "12w", "3651d", "99999999999999999999"] {
        let message = config_error(&[("TORII_SESSION_EXPIRES_IN", bad)]);
        assert!(message.starts_with("TORII_SESSION_EXPIRES_IN: "), "{message}");
    }
}

#[test]
fn a_secret_alone_selects_hs256_jwt_sessions() {
    let config = from(&[("JWT_SECRET", SECRET), ("JWT_ISSUER", "https://auth.example.com")]).unwrap();
    let jwt = jwt(&config);
    assert_eq!(jwt.algorithm(), JwtAlgorithm::HS256);
    assert_eq!(jwt.issuer(), Some("https://auth.example.com"));
    assert_eq!(config.expires_in, Duration::days(30));

    let explicit = from(&[("TORII_SESSION_PROVIDER", "JWT"), ("JWT_ALGORITHM", "hs256"), ("JWT_SECRET", SECRET)]);
    assert_eq!(self::jwt(&explicit.unwrap()).algorithm(), JwtAlgorithm::HS256);
}

#[test]
fn secret_errors_never_contain_the_secret() {
    let short = "only-20-bytes-secret";
    let message = config_error(&[("JWT_SECRET", short)]);
    assert!(message.starts_with("JWT_SECRET: ") && message.contains("32 bytes"), "{message}");
    assert!(!message.contains(short), "{message}");

    for vars in [
        &[("JWT_SECRET", SECRET), ("TORII_SESSION_PROVIDER", "opaque")][..],
        &[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "RS256")][..],
        &[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "none")][..],
        &[("JWT_SECRET", SECRET), ("TORII_SESSION_PROVIDER", "cookies")][..],
    ] {
        let message = config_error(vars);
        assert!(!message.contains(SECRET), "{message}");
    }
}

#[test]
fn contradictions_and_missing_keys_name_the_variable() {
    for (vars, variable) in [
        (&[("TORII_SESSION_PROVIDER", "jwt")][..], "JWT_SECRET"),
        (&[("TORII_SESSION_PROVIDER", "sometimes")][..], "TORII_SESSION_PROVIDER"),
        (&[("JWT_ISSUER", "me")][..], "JWT_ISSUER"),
        (&[("TORII_SESSION_PROVIDER", "opaque"), ("JWT_SECRET", SECRET)][..], "JWT_SECRET"),
        (&[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "PS512")][..], "JWT_ALGORITHM"),
        (&[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "EdDSA")][..], "JWT_SECRET"),
        (&[("JWT_SECRET", SECRET), ("JWT_PUBLIC_KEY_PATH", "/k.pem")][..], "JWT_PUBLIC_KEY_PATH"),
        (&[("JWT_PRIVATE_KEY_PATH", "/k.pem")][..], "JWT_PRIVATE_KEY_PATH"),
        (&[("JWT_PRIVATE_KEY_PATH", "/k.pem"), ("JWT_ALGORITHM", "RS256")][..], "JWT_PUBLIC_KEY_PATH"),
        (&[("TORII_SESSION_PROVIDER", "jwt"), ("JWT_ALGORITHM", "ES256")][..], "JWT_PRIVATE_KEY_PATH"),
    ] {
        let message = config_error(vars);
        assert!(message.starts_with(variable), "expected {variable}: {message}");
    }
}

#[test]
fn unreadable_key_files_are_reported_with_the_path() {
    let message = config_error(&[
        ("JWT_ALGORITHM", "RS256"),
        ("JWT_PRIVATE_KEY_PATH", "/nonexistent/torii/private.pem"),
        ("JWT_PUBLIC_KEY_PATH", "/nonexistent/torii/public.pem"),
    ]);
    assert!(message.starts_with("JWT_PRIVATE_KEY_PATH/JWT_PUBLIC_KEY_PATH: "), "{message}");
    assert!(message.contains("/nonexistent/torii/private.pem"), "{message}");
}

#[test]
fn flags_accept_the_usual_spellings() {
    for on in ["1", "true", "TRUE", "yes", "On"] {
        assert_eq!(parse_flag(on), Ok(true), "{on}");
    }
    for off in ["0", "false", "No", "off"] {
        assert_eq!(parse_flag(off), Ok(false), "{off}");
    }
    assert!(parse_flag("enabled").is_err());
}
