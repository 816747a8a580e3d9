//! HTTP tests of the auth routes and extractors, driving the real router over real SQLite storage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

mod audit;
mod concealed_signup;
mod cookie_tossing;
mod csrf;
mod email;
mod extractors;
mod fresh_auth;
mod jwt;
mod jwt_crit;
mod login;
mod oauth;
#[cfg(feature = "passkey")]
mod passkey;
#[cfg(feature = "passkey")]
mod passkey_limits;
mod password_change;
mod prehijack;
mod rejections;
mod secrets_scan;
mod sessions;
mod support;
mod throttle;
mod timing;
