//! Tests of the example web app through its built binary: HTTP smoke tests (on SQLite, PostgreSQL and
//! MySQL/MariaDB), email links read from the console mailer's log, and the real-browser test (headless
//! Chromium driven by the Node script in `examples/web/e2e`). Also the SeaORM backend's getting-started code on all three databases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub)]

#[cfg(unix)]
mod browser;
mod email;
mod mysql;
mod oauth;
mod postgres;
mod seaorm_getting_started;
mod smoke;
mod support;
