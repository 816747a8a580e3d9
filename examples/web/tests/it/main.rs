//! Tests of the example web app through its built binary: HTTP smoke tests, and the real-browser test
//! (headless Chromium driven by the Node script in `examples/web/e2e`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

#[cfg(unix)]
mod browser;
mod smoke;
mod support;
