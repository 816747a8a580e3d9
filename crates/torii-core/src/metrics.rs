//! Counters and histograms through the `metrics` facade, so an app can export them (for example to
//! Prometheus with `metrics-exporter-prometheus`). With no recorder installed they cost next to nothing.
//!
//! | Metric | Kind | Labels |
//! |---|---|---|
//! | `torii_sessions_created_total` | counter | `kind` (`opaque`, `jwt`) |
//! | `torii_sessions_validated_total` | counter | `kind`, `result` (`valid`, `rejected`, `error`) |
//! | `torii_session_validation_duration_seconds` | histogram | `kind` |
//! | `torii_sessions_revoked_total` | counter | `kind` |
//! | `torii_sessions_cleaned_total` | counter | `kind` |
//! | `torii_password_logins_total` | counter | `result` (`success`, `failure`) |

use std::time::Instant;

use crate::error::ToriiError;

/// Which session provider recorded the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Opaque,
    Jwt,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
        }
    }
}

pub(crate) fn session_created(kind: Kind) {
    metrics::counter!("torii_sessions_created_total", "kind" => kind.label()).increment(1);
}

/// Records one validation: its outcome and how long it took.
pub(crate) fn session_validated<T>(kind: Kind, started: Instant, result: &Result<T, ToriiError>) {
    let outcome = match result {
        Ok(_) => "valid",
        Err(err) if err.is_unauthenticated() => "rejected",
        Err(_) => "error",
    };
    metrics::counter!("torii_sessions_validated_total", "kind" => kind.label(), "result" => outcome).increment(1);
    metrics::histogram!("torii_session_validation_duration_seconds", "kind" => kind.label())
        .record(started.elapsed().as_secs_f64());
}

pub(crate) fn sessions_revoked(kind: Kind, count: u64) {
    metrics::counter!("torii_sessions_revoked_total", "kind" => kind.label()).increment(count);
}

pub(crate) fn sessions_cleaned(kind: Kind, count: u64) {
    metrics::counter!("torii_sessions_cleaned_total", "kind" => kind.label()).increment(count);
}

pub(crate) fn password_login(success: bool) {
    let result = if success { "success" } else { "failure" };
    metrics::counter!("torii_password_logins_total", "result" => result).increment(1);
}
