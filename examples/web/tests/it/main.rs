//! Tests of the example web app through its built binary: HTTP smoke tests (on SQLite, and on
//! PostgreSQL), and the real-browser test (headless Chromium driven by the Node script in
//! `examples/web/e2e`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

#[cfg(unix)]
mod browser;
mod postgres;
mod smoke;
mod support;
