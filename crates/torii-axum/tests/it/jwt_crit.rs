//! A JWT whose header lists critical extensions (`crit`, RFC 7515 §4.1.11) is refused even when it is
//! correctly signed with the application's key: Torii understands no extension, so it must not guess.

use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::Value;
use torii_axum::CookieConfig;
use torii_core::{JwtConfig, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::support::*;

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes";

/// The claims of a token Torii issued, re-signed with the same key under `header`.
fn resign(token: &str, header: &Header) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    encode(header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

#[tokio::test]
async fn tokens_with_critical_header_extensions_are_refused() {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let jwt = JwtConfig::new_hs256(SECRET.to_vec()).with_issuer("it");
    let torii = Arc::new(Torii::new(Arc::new(repositories)).with_jwt_sessions(jwt));
    let app = seed_app(torii, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;

    // The same claims under a plain header still work: only `crit` makes the difference.
    let plain = resign(&token, &Header::new(Algorithm::HS256));
    assert_eq!(send(&app, get_with_cookie("/protected", &plain)).await.status, StatusCode::OK);

    for names in [vec!["exp".to_owned()], vec!["b64".to_owned()], Vec::new()] {
        let header = Header { crit: Some(names.clone()), ..Header::new(Algorithm::HS256) };
        let forged = resign(&token, &header);
        assert_eq!(
            send(&app, get_with_cookie("/protected", &forged)).await.status,
            StatusCode::UNAUTHORIZED,
            "{names:?}"
        );
        assert_eq!(
            send(&app, get_with_bearer("/auth/user", &forged)).await.status,
            StatusCode::UNAUTHORIZED,
            "{names:?}"
        );
    }
}
