//! JSON Web Token sessions: stateless tokens signed with HS256, RS256, ES256 or EdDSA, with revocation.

mod claims;
mod config;
mod manager;

pub use claims::{JwtClaims, JwtMetadata, SESSION_TOKEN_TYPE};
pub use config::{DEFAULT_LEEWAY_SECS, JwtAlgorithm, JwtConfig, MAX_LEEWAY_SECS, MIN_HS256_KEY_LEN, VerificationKey};
pub use manager::JwtSessionManager;

pub(crate) use claims::{sign, verify};
