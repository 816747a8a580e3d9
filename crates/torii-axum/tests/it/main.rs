//! HTTP tests of the auth routes and extractors, driving the real router over real SQLite storage.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

mod csrf;
mod email;
mod extractors;
mod jwt;
mod login;
mod oauth;
#[cfg(feature = "passkey")]
mod passkey;
mod rejections;
mod sessions;
mod support;
mod throttle;
