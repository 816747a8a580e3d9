//! JWT sessions: the documented flows, every attack the verifier must refuse, rotation and revocation.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use torii::{JwtConfig, ManualClock, Session, SessionConfig, SessionToken, Torii, ToriiError, UserId, VerificationKey};

use crate::support::{PASSWORD, setup_test_repositories};

const SECRET: &[u8] = b"test-secret-key-32-bytes-long!!!";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/jwt/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn hs256() -> JwtConfig {
    JwtConfig::new_hs256(SECRET.to_vec()).with_issuer("test-app").with_metadata(true)
}

fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, claims)
}

/// Signs arbitrary claims with an arbitrary header: what an attacker with (or without) a key can send.
fn forge(header: Header, claims: &Value, key: &EncodingKey) -> SessionToken {
    SessionToken::new(&jsonwebtoken::encode(&header, claims, key).unwrap())
}

fn valid_claims(user: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({ "sub": user, "iat": now, "exp": now + 3600, "iss": "test-app", "jti": "j1", "typ": "session" })
}

#[tokio::test]
async fn test_jwt_session_flow() -> Result<(), ToriiError> {
    // The documented test, with a passphrase in place of the refused "password123".
    let repositories = setup_test_repositories().await;
    let jwt_config =
        JwtConfig::new_hs256(b"test-secret-key-32-bytes-long!!!".to_vec()).with_issuer("test-app").with_metadata(true);
    let torii = Torii::new(repositories).with_jwt_sessions(jwt_config);

    let user = torii.register_user_with_password("test@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, Some("Test Agent".to_string()), Some("127.0.0.1".to_string())).await?;

    assert!(session.token.as_str().contains('.')); // JWTs contain dots
    assert!(matches!(session.token, SessionToken::Jwt(_)));

    let validated_session = torii.get_session(&session.token).await?;
    assert_eq!(validated_session.user_id, user.id);
    assert_eq!(validated_session.user_agent, Some("Test Agent".to_string()));
    assert_eq!(validated_session.ip_address, Some("127.0.0.1".to_string()));
    Ok(())
}

#[tokio::test]
async fn claims_are_exactly_as_documented_plus_jti_and_typ() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await)
        .with_session_config(SessionConfig::default().with_jwt(hs256()).expires_in(Duration::hours(2)));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (_, session) =
        torii.login_user_with_password("ada@example.com", PASSWORD, Some("UA".into()), Some("10.0.0.1".into())).await?;
    let (header, claims) = parts(session.token.as_str());
    assert_eq!(header["alg"], "HS256");
    let keys: Vec<_> = claims.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["exp", "iat", "iss", "jti", "metadata", "sub", "typ"]);
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["iss"], "test-app");
    assert_eq!(claims["typ"], "session");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 7200);
    assert_eq!(claims["metadata"], json!({ "user_agent": "UA", "ip_address": "10.0.0.1" }));
    assert_eq!(claims["jti"], session.id.as_str());

    // Without metadata, none is embedded.
    let plain = Torii::new(setup_test_repositories().await).with_jwt_sessions(JwtConfig::new_hs256(SECRET.to_vec()));
    let user = plain.register_user_with_password("bob@example.com", PASSWORD).await?;
    let session = plain.create_session(&user.id, Some("UA".into()), None).await?;
    let (_, claims) = parts(session.token.as_str());
    assert!(claims.get("metadata").is_none() && claims.get("iss").is_none());
    Ok(())
}

#[tokio::test]
async fn manual_jwt_operations_as_documented() -> Result<(), ToriiError> {
    let user_id = UserId::new("user_123");
    let jwt_config = JwtConfig::new_hs256(b"your-secret-key-32-bytes-long!!!".to_vec());
    let session = Session::builder().user_id(user_id).expires_at(Utc::now() + Duration::hours(2)).build()?;

    let claims = session.to_jwt_claims(Some("your-app".to_string()), true);
    let jwt_token = SessionToken::new_jwt(&claims, &jwt_config)?;

    let verified_claims = jwt_token.verify_jwt(&jwt_config)?;
    println!("User: {}, Expires: {}", verified_claims.sub, verified_claims.exp);
    assert_eq!(verified_claims.sub, "user_123");
    assert_eq!(verified_claims.iss.as_deref(), Some("your-app"));
    assert!(SessionToken::new(jwt_token.as_str()).is_jwt());
    assert!(Session::builder().expires_at(Utc::now()).build().is_err(), "user_id is required");
    Ok(())
}

#[tokio::test]
async fn short_hs256_keys_fail_clearly_and_never_work() -> Result<(), ToriiError> {
    let weak = JwtConfig::new_hs256(b"my-secret-key".to_vec());
    assert!(matches!(weak.validate(), Err(ToriiError::ConfigError(_))));
    let torii = Torii::new(setup_test_repositories().await).with_jwt_sessions(weak.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let created = torii.create_session(&user.id, None, None).await;
    assert!(matches!(created, Err(ToriiError::ConfigError(_))), "{created:?}");
    let login = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(login, Err(ToriiError::ConfigError(_))));

    // A token signed with the same short secret elsewhere is not accepted either.
    let forged = forge(Header::new(Algorithm::HS256), &valid_claims("x"), &EncodingKey::from_secret(b"my-secret-key"));
    assert!(matches!(forged.verify_jwt(&weak), Err(ToriiError::ConfigError(_))));
    assert!(torii.get_session(&forged).await.is_err());
    Ok(())
}

#[tokio::test]
async fn asymmetric_algorithms_round_trip() -> Result<(), ToriiError> {
    let dir = format!("{}/tests/fixtures/jwt", env!("CARGO_MANIFEST_DIR"));
    let configs = [
        ("RS256", JwtConfig::from_rs256_pem_files(format!("{dir}/rsa_private.pem"), format!("{dir}/rsa_public.pem"))?),
        ("ES256", JwtConfig::new_es256(fixture("ec_private.pem"), fixture("ec_public.pem"))),
        ("EdDSA", JwtConfig::new_eddsa(fixture("ed25519_private.pem"), fixture("ed25519_public.pem"))),
    ];
    for (alg, config) in configs {
        config.validate()?;
        let torii = Torii::new(setup_test_repositories().await).with_jwt_sessions(config.with_issuer("your-app"));
        let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
        let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
        assert_eq!(parts(session.token.as_str()).0["alg"], alg);
        assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
    }
    let missing = JwtConfig::from_rs256_pem_files("/nonexistent/private.pem", "/nonexistent/public.pem");
    assert!(matches!(missing, Err(ToriiError::ConfigError(_))));
    let garbage = JwtConfig::new_rs256(b"not a key".to_vec(), b"not a key".to_vec());
    assert!(matches!(garbage.validate(), Err(ToriiError::ConfigError(_))));
    Ok(())
}

#[tokio::test]
async fn the_verifier_refuses_every_classic_attack() {
    let config = hs256();
    let key = EncodingKey::from_secret(SECRET);
    let claims = valid_claims("user_1");
    let ok = forge(Header::new(Algorithm::HS256), &claims, &key);
    assert!(ok.verify_jwt(&config).is_ok(), "the baseline token must verify");

    let refused = |token: &SessionToken, why: &str| {
        let result = token.verify_jwt(&config);
        assert!(matches!(result, Err(ToriiError::InvalidToken(_))), "{why}: {result:?}");
    };

    // alg: none, unsigned.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    refused(&SessionToken::new(&format!("{none_header}.{body}.")), "alg none, empty signature");
    refused(&SessionToken::new(&format!("{none_header}.{body}.c2ln")), "alg none");

    // Tampered payload.
    let mut tampered = ok.as_str().split('.').map(str::to_owned).collect::<Vec<_>>();
    tampered[1] = URL_SAFE_NO_PAD.encode(valid_claims("admin").to_string());
    refused(&SessionToken::new(&tampered.join(".")), "tampered payload");

    // Wrong key, wrong issuer, audience we don't expect, expired, missing exp, future nbf, wrong typ.
    refused(
        &forge(Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"another-secret-of-32-bytes-long!")),
        "wrong key",
    );
    let mut c = claims.clone();
    c["iss"] = json!("someone-else");
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "wrong issuer");
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("iss");
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "missing issuer");
    let mut c = claims.clone();
    c["aud"] = json!("another-service");
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "unexpected audience");
    let mut c = claims.clone();
    c["exp"] = json!(Utc::now().timestamp() - 60);
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "expired");
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("exp");
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "missing exp");
    let mut c = claims.clone();
    c["nbf"] = json!(Utc::now().timestamp() + 3600);
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "future nbf");
    let mut c = claims.clone();
    c["typ"] = json!("refresh");
    refused(&forge(Header::new(Algorithm::HS256), &c, &key), "not a session token");

    // Headers that bring their own key.
    for field in ["jku", "x5u"] {
        let mut header = Header::new(Algorithm::HS256);
        if field == "jku" {
            header.jku = Some("https://attacker.example/jwks.json".into());
        } else {
            header.x5u = Some("https://attacker.example/cert.pem".into());
        }
        refused(&forge(header, &claims, &key), field);
    }
    let mut header = Header::new(Algorithm::HS256);
    header.x5c = Some(vec!["MIIB".into()]);
    refused(&forge(header, &claims, &key), "x5c");
    let jwk_header = URL_SAFE_NO_PAD.encode(
        json!({ "alg": "HS256", "typ": "JWT", "jwk": { "kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET) } })
            .to_string(),
    );
    let signing_input = format!("{jwk_header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256).unwrap();
    refused(&SessionToken::new(&format!("{signing_input}.{signature}")), "jwk header");
}

#[tokio::test]
async fn hs256_rs256_key_confusion_is_refused() {
    // An RS256 verifier must not accept an HS256 token "signed" with its public key as HMAC secret.
    let config = JwtConfig::new_rs256(fixture("rsa_private.pem"), fixture("rsa_public.pem")).with_issuer("test-app");
    let confused = forge(
        Header::new(Algorithm::HS256),
        &valid_claims("admin"),
        &EncodingKey::from_secret(&fixture("rsa_public.pem")),
    );
    assert!(matches!(confused.verify_jwt(&config), Err(ToriiError::InvalidToken(_))));
    // And a token from another RSA key is refused.
    let other = forge(
        Header::new(Algorithm::RS256),
        &valid_claims("admin"),
        &EncodingKey::from_rsa_pem(&fixture("rsa2_private.pem")).unwrap(),
    );
    assert!(matches!(other.verify_jwt(&config), Err(ToriiError::InvalidToken(_))));
}

#[tokio::test]
async fn audience_is_written_and_required_when_configured() -> Result<(), ToriiError> {
    let config = hs256().with_audience("api.example");
    let torii = Torii::new(setup_test_repositories().await).with_jwt_sessions(config.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    assert_eq!(parts(session.token.as_str()).1["aud"], "api.example");
    torii.get_session(&session.token).await?;
    let mut c = valid_claims("x");
    c["aud"] = json!("other.example");
    let wrong = forge(Header::new(Algorithm::HS256), &c, &EncodingKey::from_secret(SECRET));
    assert!(wrong.verify_jwt(&config).is_err());
    let missing = forge(Header::new(Algorithm::HS256), &valid_claims("x"), &EncodingKey::from_secret(SECRET));
    assert!(missing.verify_jwt(&config).is_err(), "aud is required once configured");
    Ok(())
}

#[tokio::test]
async fn keys_rotate_by_kid() -> Result<(), ToriiError> {
    let old_secret = b"the-old-secret-that-is-32-bytes!".to_vec();
    let new_secret = b"the-new-secret-that-is-32-bytes!".to_vec();
    let old = JwtConfig::new_hs256(old_secret.clone()).with_key_id("2025-01");
    let new = JwtConfig::new_hs256(new_secret)
        .with_key_id("2026-01")
        .with_previous_key("2025-01", VerificationKey::hs256(&old_secret));

    let user = UserId::new("user_1");
    let session = Session::builder().user_id(user).expires_at(Utc::now() + Duration::hours(1)).build()?;
    let old_token = SessionToken::new_jwt(&session.to_jwt_claims(None, false), &old)?;
    let new_token = SessionToken::new_jwt(&session.to_jwt_claims(None, false), &new)?;
    assert_eq!(parts(new_token.as_str()).0["kid"], "2026-01");
    assert!(old_token.verify_jwt(&new).is_ok(), "tokens of the previous key still verify");
    assert!(new_token.verify_jwt(&new).is_ok());
    assert!(new_token.verify_jwt(&old).is_err(), "the old config does not know the new key");

    // A kid we do not know is refused, even if the signature would match the current key.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("unknown".into());
    let mut claims = valid_claims("x");
    claims.as_object_mut().unwrap().remove("iss");
    let stray = forge(header, &claims, &EncodingKey::from_secret(b"the-new-secret-that-is-32-bytes!"));
    assert!(matches!(stray.verify_jwt(&new), Err(ToriiError::InvalidToken(_))));
    Ok(())
}

#[tokio::test]
async fn logout_revokes_a_jwt_and_logout_everywhere_revokes_older_ones() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await)
        .with_clock(clock.clone())
        .with_jwt_sessions(hs256().with_revocation_cache(Duration::zero()));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (_, a) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    let (_, b) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;

    torii.delete_session(&a.token).await?;
    assert!(torii.get_session(&a.token).await.is_err(), "a revoked JWT is refused although its signature is valid");
    assert!(a.token.verify_jwt(&hs256()).is_ok(), "the token itself is still well-formed");
    torii.get_session(&b.token).await?;

    torii.delete_sessions_for_user(&user.id).await?;
    assert!(torii.get_session(&b.token).await.is_err());
    // A login right after (same second) still gets a working token.
    let (_, c) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    torii.get_session(&c.token).await?;
    clock.advance(Duration::seconds(3));
    torii.get_session(&c.token).await?;
    Ok(())
}

#[tokio::test]
async fn jwt_expiry_follows_the_injected_clock() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await)
        .with_clock(clock.clone())
        .with_session_config(SessionConfig::default().with_jwt(hs256()).expires_in(Duration::minutes(10)));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    clock.advance(Duration::minutes(10));
    torii.get_session(&session.token).await?; // within the 5 s leeway
    clock.advance(Duration::seconds(6));
    assert!(matches!(torii.get_session(&session.token).await, Err(ToriiError::SessionExpired)));
    Ok(())
}

#[tokio::test]
async fn opaque_and_jwt_tokens_are_not_interchangeable() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let opaque = Torii::new(repositories.clone());
    let jwt = Torii::new(repositories).with_jwt_sessions(hs256());
    let user = opaque.register_user_with_password("ada@example.com", PASSWORD).await?;
    let o = opaque.create_session(&user.id, None, None).await?;
    let j = jwt.create_session(&user.id, None, None).await?;
    assert!(jwt.get_session(&o.token).await.is_err());
    assert!(opaque.get_session(&j.token).await.is_err());
    Ok(())
}

#[tokio::test]
async fn deleting_a_user_kills_its_jwts_and_ids_cannot_revoke_them() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await)
        .with_clock(clock.clone())
        .with_jwt_sessions(hs256().with_revocation_cache(Duration::zero()));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    // Revoking by id is refused: the id alone proves nothing about whose session it is.
    let by_id = torii.delete_session_by_id(&user.id, &session.id).await;
    assert!(matches!(by_id, Err(ToriiError::Unsupported(_))), "{by_id:?}");
    torii.get_session(&session.token).await?;

    clock.advance(Duration::seconds(2));
    assert!(torii.delete_user(&user.id).await?);
    assert!(torii.get_session(&session.token).await.is_err(), "a deleted user's JWT dies at once");
    Ok(())
}
