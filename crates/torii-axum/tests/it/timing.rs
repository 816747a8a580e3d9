//! Account enumeration by timing: "email me a link" requests must not answer faster for addresses
//! without an account. A statistical test: many requests, interleaved so load on the machine hits both
//! kinds alike, compared by their medians with a generous margin.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use crate::email::{App, app_on};
use crate::support::{post_json, register, send, torii};

/// Requests per kind of address and route.
const ROUNDS: usize = 300;

/// How far apart the two medians may be, as a share of the smaller one. The work that differs between
/// a known and an unknown address (lookups, token writes, rendering the message) took about as long
/// as the whole request for an unknown one, so a leak shows as a difference near 100%.
const MAX_RELATIVE_GAP: f64 = 0.25;

fn median(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

async fn timed(app: &App, path: &str, email: &str) -> Duration {
    let request = post_json(path, &json!({ "email": email }));
    let started = Instant::now();
    let reply = send(&app.router, request).await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
    // Whatever the request left for the background finishes outside the measured time, so it cannot
    // slow down the next request of either kind.
    app.flows.wait_idle().await;
    elapsed
}

#[tokio::test]
async fn link_requests_take_as_long_for_unknown_addresses_as_for_known_ones() {
    // Limits high enough that every request for the known address does the full work: the mail limit
    // raised, and the guessing limits (whose global ceiling 1,240 requests would reach) off.
    let torii = std::sync::Arc::new(
        (*torii().await).clone().with_throttle(torii_core::throttle::ThrottlePolicy::danger_disabled()),
    );
    let app = app_on(torii, |c| c.rate_limit(10_000, chrono::Duration::minutes(15)));
    register(&app.router, "ada@example.com").await;
    for path in ["/auth/password/forgot", "/auth/magic-link"] {
        // Warm up both paths (first-use allocations, statement caches).
        for _ in 0..20 {
            timed(&app, path, "ada@example.com").await;
            timed(&app, path, "bob@example.com").await;
        }
        let (mut known, mut unknown) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
        for round in 0..ROUNDS {
            if round % 2 == 0 {
                known.push(timed(&app, path, "ada@example.com").await);
                unknown.push(timed(&app, path, "bob@example.com").await);
            } else {
                unknown.push(timed(&app, path, "bob@example.com").await);
                known.push(timed(&app, path, "ada@example.com").await);
            }
        }
        let (known, unknown) = (median(&mut known), median(&mut unknown));
        let gap = (known - unknown).abs() / known.min(unknown);
        eprintln!("{path}: median {known:.0} µs for a known address, {unknown:.0} µs for an unknown one");
        assert!(
            gap <= MAX_RELATIVE_GAP,
            "{path}: known {known:.0} µs vs unknown {unknown:.0} µs ({:.0}% apart)",
            gap * 100.0
        );
    }
}
