//! Registration refuses credential ids longer than WebAuthn Level 3 allows (1023 bytes), for a new
//! account and for a passkey added to an existing one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::passkey::{Device, app, post_with_cookie};
use crate::support::{assert_error, post_json, send};
use axum::http::StatusCode;

/// The value of `authData` inside a CBOR attestation object (a byte string under that text key).
fn auth_data(object: &[u8]) -> Vec<u8> {
    let key = b"\x68authData";
    let at = object.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let (len, start) = match object[at] {
        0x58 => (usize::from(object[at + 1]), at + 2),
        0x59 => (usize::from(u16::from_be_bytes([object[at + 1], object[at + 2]])), at + 3),
        other => panic!("unexpected CBOR header {other:#x}"),
    };
    object[start..start + len].to_vec()
}

/// Rewrites an authenticator's registration response so its credential id is `id`. The attestation
/// becomes `none` (nothing signs the authenticator data then), which a relying party that asks for no
/// attestation accepts: exactly what a misbehaving client can send.
fn with_credential_id(response: &Value, id: &[u8]) -> Value {
    let object = URL_SAFE_NO_PAD.decode(response["response"]["attestationObject"].as_str().unwrap()).unwrap();
    let data = auth_data(&object);
    // rpIdHash (32), flags (1), signCount (4), aaguid (16), credentialIdLength (2), credentialId, key...
    let old_len = usize::from(u16::from_be_bytes([data[53], data[54]]));
    let mut forged = data[..53].to_vec();
    forged.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
    forged.extend_from_slice(id);
    forged.extend_from_slice(&data[55 + old_len..]);
    // {"fmt": "none", "attStmt": {}, "authData": forged}
    let mut object = b"\xa3\x63fmt\x64none\x67attStmt\xa0\x68authData\x59".to_vec();
    object.extend_from_slice(&u16::try_from(forged.len()).unwrap().to_be_bytes());
    object.extend_from_slice(&forged);
    let mut response = response.clone();
    response["response"]["attestationObject"] = json!(URL_SAFE_NO_PAD.encode(&object));
    response["id"] = json!(URL_SAFE_NO_PAD.encode(id));
    response["rawId"] = json!(URL_SAFE_NO_PAD.encode(id));
    response
}

async fn sign_up_with_id(id_len: usize, email: &str) -> crate::support::Reply {
    let app = app().await;
    let mut device = Device::new();
    let start = send(&app, post_json("/auth/passkey/register/start", &json!({ "email": email }))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = with_credential_id(&device.create(&start.body["options"]), &vec![0x5a; id_len]);
    let body = json!({ "email": email, "challenge_id": start.body["challenge_id"], "response": response });
    send(&app, post_json("/auth/passkey/register/finish", &body)).await
}

#[tokio::test]
async fn credential_ids_over_1023_bytes_are_refused_at_sign_up() {
    // The forged response is otherwise acceptable: at the limit, it creates the account.
    let at_limit = sign_up_with_id(1023, "ada@example.com").await;
    assert_eq!(at_limit.status, StatusCode::CREATED, "{}", at_limit.raw);

    let over = sign_up_with_id(1024, "bob@example.com").await;
    assert_error(&over, StatusCode::BAD_REQUEST, "passkey_rejected");
    assert!(over.set_cookie().is_none());
}

#[tokio::test]
async fn credential_ids_over_1023_bytes_are_refused_when_adding_a_passkey() {
    let app = app().await;
    let mut device = Device::new();
    let start = send(&app, post_json("/auth/passkey/register/start", &json!({ "email": "ada@example.com" }))).await;
    let response = device.create(&start.body["options"]);
    let body = json!({ "email": "ada@example.com", "challenge_id": start.body["challenge_id"], "response": response });
    let token = send(&app, post_json("/auth/passkey/register/finish", &body)).await.cookie_token().unwrap();

    let mut second = Device::new();
    let start = send(&app, post_with_cookie("/auth/passkey/register/start", &token, &json!({}))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.raw);
    let response = with_credential_id(&second.create(&start.body["options"]), &[0xa5; 2048]);
    let body = json!({ "challenge_id": start.body["challenge_id"], "response": response });
    let added = send(&app, post_with_cookie("/auth/passkey/register/finish", &token, &body)).await;
    assert_error(&added, StatusCode::BAD_REQUEST, "passkey_rejected");
}
