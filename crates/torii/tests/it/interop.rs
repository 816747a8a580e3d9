//! JWT interoperability with an independent implementation (Python's PyJWT): tokens Torii signs verify
//! there, and tokens signed there verify here, for HS256, RS256 and EdDSA.
//!
//! Needs `python3` with `pyjwt[crypto]` (`.ci/run` installs it). Without it the test prints a SKIPPED
//! notice, or fails when `CI` is set.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use torii::{JwtConfig, SessionToken, Torii};

use crate::support::{PASSWORD, setup_test_repositories};

const ISSUER: &str = "interop-test";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt")
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyjwt_interop.py")
}

fn pyjwt_available() -> bool {
    let ok =
        Command::new("python3").args(["-c", "import jwt, cryptography"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty());
        assert!(!ci, "python3 with pyjwt[crypto] is required under CI (pip install 'pyjwt[crypto]')");
        eprintln!("SKIPPED JWT interop: python3 with pyjwt[crypto] is missing; run pip install 'pyjwt[crypto]'");
    }
    ok
}

fn python(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .arg(script())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(output.status.success(), "pyjwt failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

struct Case {
    alg: &'static str,
    config: JwtConfig,
    verify_key: PathBuf,
    sign_key: PathBuf,
}

fn cases(secret_file: &std::path::Path) -> Vec<Case> {
    let read = |name: &str| std::fs::read(fixtures().join(name)).expect("fixture");
    vec![
        Case {
            alg: "HS256",
            config: JwtConfig::new_hs256(std::fs::read(secret_file).expect("secret")),
            verify_key: secret_file.to_owned(),
            sign_key: secret_file.to_owned(),
        },
        Case {
            alg: "RS256",
            config: JwtConfig::new_rs256(read("rsa_private.pem"), read("rsa_public.pem")),
            verify_key: fixtures().join("rsa_public.pem"),
            sign_key: fixtures().join("rsa_private.pem"),
        },
        Case {
            alg: "EdDSA",
            config: JwtConfig::new_eddsa(read("ed25519_private.pem"), read("ed25519_public.pem")),
            verify_key: fixtures().join("ed25519_public.pem"),
            sign_key: fixtures().join("ed25519_private.pem"),
        },
    ]
}

#[tokio::test]
async fn tokens_round_trip_with_pyjwt() {
    if !pyjwt_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("hs256.key");
    std::fs::write(&secret_file, b"an-interop-secret-of-at-least-32-bytes").expect("write secret");

    for case in cases(&secret_file) {
        let config = case.config.with_issuer(ISSUER).with_metadata(true);
        // Ours, verified by PyJWT.
        let torii = Torii::new(setup_test_repositories().await).with_jwt_sessions(config.clone());
        let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.expect("register");
        let session =
            torii.create_session(&user.id, Some("UA".into()), Some("10.0.0.1".into())).await.expect("session");
        let verified: Value = serde_json::from_str(&python(
            &["verify", case.alg, case.verify_key.to_str().expect("path"), ISSUER],
            session.token.as_str(),
        ))
        .expect("claims json");
        assert_eq!(verified["sub"], user.id.as_str(), "{}", case.alg);
        assert_eq!(verified["jti"], session.id.as_str(), "{}", case.alg);
        assert_eq!(verified["metadata"]["ip_address"], "10.0.0.1", "{}", case.alg);

        // Theirs, verified by us.
        let now = Utc::now().timestamp();
        let claims = json!({
            "sub": "user_from_pyjwt", "iat": now, "exp": now + Duration::minutes(5).num_seconds(),
            "iss": ISSUER, "jti": "pyjwt-1", "typ": "session",
        });
        let token = python(&["sign", case.alg, case.sign_key.to_str().expect("path")], &claims.to_string());
        let ours = SessionToken::new(&token).verify_jwt(&config).unwrap_or_else(|e| panic!("{}: {e}", case.alg));
        assert_eq!(ours.sub, "user_from_pyjwt");
        assert_eq!(ours.jti, "pyjwt-1");

        // And a PyJWT token for another issuer is refused.
        let wrong =
            json!({ "sub": "x", "iat": now, "exp": now + 60, "iss": "someone-else", "jti": "j", "typ": "session" });
        let token = python(&["sign", case.alg, case.sign_key.to_str().expect("path")], &wrong.to_string());
        assert!(SessionToken::new(&token).verify_jwt(&config).is_err(), "{}", case.alg);
    }
}
