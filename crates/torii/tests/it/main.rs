//! Integration tests of the facade against real SQLite storage. One test binary (faster to link) with a
//! module per concern.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

mod at_rest;
mod email_flows;
mod initialization;
mod interop;
mod jwt;
mod metrics;
#[cfg(feature = "passkey")]
mod passkey;
mod password_flows;
mod policies;
mod refresh;
mod seed_opaque_sessions;
mod seed_signatures;
mod session_store;
mod session_store_conformance;
mod sessions;
mod support;
