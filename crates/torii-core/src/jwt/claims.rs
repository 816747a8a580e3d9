//! JWT claims, signing, and verification.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};

use super::config::{JwtConfig, VerificationKey};
use crate::error::ToriiError;

/// The `typ` claim of Torii session tokens. Tokens of any other type (for example a refresh token or
/// another system's JWT signed with a shared key) are refused as sessions.
pub const SESSION_TOKEN_TYPE: &str = "session";

/// Session metadata carried in the token when [`JwtConfig::with_metadata`] is on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwtMetadata {
    /// User agent of the client that created the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// IP address of the client that created the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

/// The claims of a Torii JWT session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwtClaims {
    /// Subject: the user id.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Not before (Unix seconds). Torii does not set it but honours it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Token id: the session's public id, used for revocation.
    pub jti: String,
    /// Token type; [`SESSION_TOKEN_TYPE`] for sessions.
    pub typ: String,
    /// User agent and IP address, when metadata is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JwtMetadata>,
}

/// Why a JWT was refused. The reasons are fixed strings: never the token or key material.
fn refused(reason: &'static str) -> ToriiError {
    ToriiError::InvalidToken(reason)
}

/// Signs the claims, filling `iss` and `aud` from the configuration when they are unset.
pub(crate) fn sign(claims: &JwtClaims, config: &JwtConfig) -> Result<String, ToriiError> {
    let key = config.signing.key.as_ref().map_err(|e| ToriiError::ConfigError(e.clone()))?;
    let mut header = Header::new(config.signing.algorithm.to_jwt());
    header.kid.clone_from(&config.key_id);
    let mut claims = claims.clone();
    if claims.iss.is_none() {
        claims.iss.clone_from(&config.issuer);
    }
    if claims.aud.is_none() {
        claims.aud.clone_from(&config.audience);
    }
    encode(&header, &claims, key).map_err(|e| ToriiError::Internal(format!("JWT signing failed: {}", e.kind_name())))
}

trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for jsonwebtoken::errors::Error {
    fn kind_name(&self) -> &'static str {
        match self.kind() {
            ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => "invalid key",
            _ => "crypto error",
        }
    }
}

/// Verifies a token against the configuration.
///
/// The algorithm is pinned to the key: the header's `alg` must equal the algorithm the selected key is
/// configured for, so `none`, HS256-with-an-RSA-public-key and similar confusions fail. Headers that
/// name their own key (`jku`, `jwk`, `x5u`, `x5c`) or list critical extensions (`crit`) are refused
/// outright. `exp` is required, `nbf` is honoured, and `iss`/`aud` must match when configured. Times
/// are judged against `now` (Unix seconds, from Torii's clock) with the configured leeway.
pub(crate) fn verify(token: &str, config: &JwtConfig, now: i64) -> Result<JwtClaims, ToriiError> {
    let header = decode_header(token).map_err(|_| refused("malformed token"))?;
    if header.jku.is_some() || header.jwk.is_some() || header.x5u.is_some() || header.x5c.is_some() {
        return Err(refused("token header names its own key"));
    }
    // RFC 7515 §4.1.11: a recipient that does not understand every extension `crit` names must refuse
    // the token. Torii understands none, and tokens it signs never carry `crit`.
    if header.crit.is_some() {
        return Err(refused("token header has critical extensions"));
    }
    let key = select_key(config, header.kid.as_deref())?;
    let decoding = key.key.as_ref().map_err(|e| ToriiError::ConfigError(e.clone()))?;
    let mut validation = Validation::new(key.algorithm.to_jwt());
    // Expiry is checked below against Torii's clock (injectable), not the library's system-time check.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let mut required = vec!["exp", "iat", "sub"];
    if let Some(issuer) = &config.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &config.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // A token that names an audience is meant for someone: without one configured, it is not us.
        None => validation.validate_aud = true,
    }
    validation.set_required_spec_claims(&required);
    let data = decode::<JwtClaims>(token, decoding, &validation).map_err(|e| match e.kind() {
        ErrorKind::InvalidIssuer => refused("wrong issuer"),
        ErrorKind::InvalidAudience => refused("wrong audience"),
        ErrorKind::InvalidAlgorithm => refused("algorithm not allowed for this key"),
        ErrorKind::InvalidSignature => refused("bad signature"),
        ErrorKind::MissingRequiredClaim(_) => refused("missing required claim"),
        _ => refused("malformed token"),
    })?;
    let claims = data.claims;
    let leeway = i64::try_from(config.leeway_secs).unwrap_or(0);
    if claims.exp <= now - leeway {
        return Err(refused("token expired"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Err(refused("token not yet valid"));
    }
    if claims.typ != SESSION_TOKEN_TYPE {
        return Err(refused("not a session token"));
    }
    Ok(claims)
}

fn select_key<'a>(config: &'a JwtConfig, kid: Option<&str>) -> Result<&'a VerificationKey, ToriiError> {
    match kid {
        None => Ok(&config.verifying),
        Some(kid) if config.key_id.as_deref() == Some(kid) => Ok(&config.verifying),
        Some(kid) => config
            .previous_keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, key)| key)
            // Without a configured key id, a token with a kid can still be ours (signed before ids were
            // introduced); the pinned algorithm and signature check decide.
            .or_else(|| config.key_id.is_none().then_some(&config.verifying))
            .ok_or_else(|| refused("unknown key id")),
    }
}
