//! Integration tests: the flow and linking rules with a scripted provider (`flow.rs`), and the real
//! thing end to end against `oidc-provider` through the HTTP routes (`e2e.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

mod e2e;
mod flow;
mod github;
mod peer;
