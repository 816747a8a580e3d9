//! Guessing limits over HTTP: per account (with the owner's device cookie), per client address (with
//! and without trusted proxies, IPv6 /64), overall; 429 answers identical for known and unknown
//! accounts; time moved with `ManualClock`, never slept.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use torii_axum::{ClientInfo, CookieConfig, TrustedProxies};
use torii_core::throttle::{ClientAction, ThrottlePolicy, ThrottleStep};
use torii_core::{ManualClock, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::support::{PASSWORD, Reply, Repo, assert_error, send};

const WRONG: &str = "definitely not the password";

/// A coordinator on a manual clock stopped at a whole hour, with `policy`.
async fn torii_with(policy: ThrottlePolicy) -> (Arc<Torii<Repo>>, Arc<ManualClock>) {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let start: DateTime<Utc> = "2031-03-04T05:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let torii = Torii::new(Arc::new(repositories)).with_clock(clock.clone()).with_throttle(policy);
    (Arc::new(torii), clock)
}

fn app(torii: &Arc<Torii<Repo>>, proxies: TrustedProxies) -> Router {
    let auth = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_trusted_proxies(proxies.clone())
        .build();
    Router::new()
        .nest("/auth", auth)
        .route("/whoami", axum::routing::get(|client: ClientInfo| async move { client.ip_address.unwrap_or_default() }))
        .layer(axum::Extension(proxies))
        .with_state(torii.clone())
}

/// A JSON POST from `peer` (the socket address), with extra headers.
fn post_from(peer: &str, uri: &str, body: &Value, headers: &[(&str, String)]) -> Request<Body> {
    let ip: IpAddr = peer.parse().unwrap();
    let mut builder = Request::builder().method(Method::POST).uri(uri).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let mut request = builder.body(Body::from(body.to_string())).unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    request
}

fn login_body(email: &str, password: &str) -> Value {
    json!({ "email": email, "password": password })
}

async fn login_from(app: &Router, peer: &str, email: &str, password: &str) -> Reply {
    send(app, post_from(peer, "/auth/login", &login_body(email, password), &[])).await
}

/// A different documentation address for every attempt, so only the account limit applies.
fn nth_peer(n: usize) -> String {
    format!("198.51.{}.{}", 100 + n / 250, 1 + n % 250)
}

/// The value of the cookie named `name` among the reply's Set-Cookie headers.
fn cookie_value(reply: &Reply, name: &str) -> Option<String> {
    reply.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|set| {
        let pair = set.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        (n == name && !v.is_empty()).then(|| v.to_owned())
    })
}

fn assert_too_many(reply: &Reply) -> u64 {
    assert_error(reply, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let header: u64 = reply.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!(header >= 1);
    assert_eq!(reply.body["retry_after"], header, "{}", reply.raw);
    header
}

async fn register_from(app: &Router, peer: &str, email: &str) {
    let reply = send(app, post_from(peer, "/auth/register", &login_body(email, PASSWORD), &[])).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
}

#[tokio::test]
async fn one_hundred_and_ten_wrong_passwords_lock_the_account_until_the_lock_expires() {
    let (torii, clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;

    let mut refused = 0;
    let mut checked = 0;
    for n in 0..110 {
        let reply = login_from(&app, &nth_peer(n), "ada@example.com", WRONG).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => checked += 1,
            _ => {
                assert_too_many(&reply);
                refused += 1;
            }
        }
        // Spread over a bit more than a day, as a patient attacker would.
        clock.advance(TimeDelta::minutes(15));
    }
    assert!(checked < 100, "NIST SP 800-63B: fewer than 100 consecutive failures ({checked} checked)");
    assert!(refused > 0);
    // The right password, from a fresh address, is refused too: the account is locked.
    let reply = login_from(&app, "203.0.113.77", "ada@example.com", PASSWORD).await;
    let wait = assert_too_many(&reply);
    assert!(wait <= 30 * 24 * 3600, "{wait}");
    assert!(cookie_value(&reply, "torii_session").is_none());

    // The lock is temporary.
    clock.advance(TimeDelta::seconds(i64::try_from(wait).unwrap() + 1));
    let reply = login_from(&app, "203.0.113.77", "ada@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
}

#[tokio::test]
async fn failures_bring_a_growing_delay_and_waiting_it_out_allows_another_try() {
    let (torii, clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    for n in 0..5 {
        let reply = login_from(&app, &nth_peer(n), "ada@example.com", WRONG).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    // The sixth attempt within the minute is not even checked, right password or not. The window
    // slides, so the wait is until enough of the burst is more than a minute old.
    let first_wait = assert_too_many(&login_from(&app, &nth_peer(5), "ada@example.com", PASSWORD).await);
    assert!(first_wait <= 120, "{first_wait}");
    // Waiting it out allows one more try; a try a minute keeps within the per-minute limit.
    clock.advance(TimeDelta::seconds(i64::try_from(first_wait).unwrap()));
    for n in 6..10 {
        let reply = login_from(&app, &nth_peer(n), "ada@example.com", WRONG).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
        clock.advance(TimeDelta::minutes(1));
    }
    // Ten tries in the quarter hour (the refused one counts too): now the wait is the quarter hour's,
    // longer than the first.
    let reply = login_from(&app, &nth_peer(10), "ada@example.com", WRONG).await;
    let second_wait = assert_too_many(&reply);
    assert!(second_wait > first_wait, "{first_wait} then {second_wait}");
}

#[tokio::test]
async fn a_successful_login_resets_the_count() {
    let (torii, _clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    for round in 0..3 {
        for n in 0..4 {
            let reply = login_from(&app, &nth_peer(round * 10 + n), "ada@example.com", WRONG).await;
            assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
        // Without the reset, the second round would pass five failures within the minute.
        let reply = login_from(&app, &nth_peer(round * 10 + 5), "ada@example.com", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "round {round}: {}", reply.raw);
    }
}

#[tokio::test]
async fn refusals_are_identical_for_known_and_unknown_accounts() {
    let (torii, _clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    let mut replies = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let mut sequence = Vec::new();
        for n in 0..8 {
            let reply = login_from(&app, &nth_peer(n), email, WRONG).await;
            sequence.push((reply.status, reply.headers.get(header::RETRY_AFTER).cloned(), reply.raw));
        }
        replies.push(sequence);
    }
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0][7].0, StatusCode::TOO_MANY_REQUESTS);
    assert!(!replies[0][7].2.contains("ada"), "no address in the body");
}

#[tokio::test]
async fn the_owner_with_a_device_cookie_logs_in_while_strangers_are_locked_out() {
    let (torii, _clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    register_from(&app, "192.0.2.66", "mallory@example.com").await;
    // Ada logs in from her browser and gets a device cookie.
    let reply = login_from(&app, "192.0.2.1", "ada@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    let device = cookie_value(&reply, "torii_device").expect("a device cookie");
    let set = reply.headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let set_device = set.iter().find(|c| c.starts_with("torii_device=")).unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_device.contains(attr), "{set_device}");
    }
    // Mallory has a device cookie of her own.
    let reply = login_from(&app, "192.0.2.66", "mallory@example.com", PASSWORD).await;
    let mallory_device = cookie_value(&reply, "torii_device").unwrap();

    // Strangers guess until the account is locked.
    for n in 0..25 {
        login_from(&app, &nth_peer(n), "ada@example.com", WRONG).await;
    }
    assert_too_many(&login_from(&app, "203.0.113.9", "ada@example.com", PASSWORD).await);
    // Mallory's own device cookie does not open Ada's account, nor does a forged one.
    for cookie in [mallory_device.clone(), format!("{device}x"), "v1.9999999999.dev.usr_x.AAAA".to_owned()] {
        let request = post_from(
            "192.0.2.66",
            "/auth/login",
            &login_body("ada@example.com", PASSWORD),
            &[("cookie", format!("torii_device={cookie}"))],
        );
        assert_too_many(&send(&app, request).await);
    }

    // Ada's browser is not locked: a typo is an ordinary failure, then she gets in.
    let from_ada = |password: &str| {
        post_from(
            "192.0.2.1",
            "/auth/login",
            &login_body("ada@example.com", password),
            &[("cookie", format!("torii_device={device}"))],
        )
    };
    assert_error(&send(&app, from_ada(WRONG)).await, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let reply = send(&app, from_ada(PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert!(cookie_value(&reply, "torii_session").is_some());
    assert!(cookie_value(&reply, "torii_device").is_some(), "the device cookie is renewed");
}

#[tokio::test]
async fn a_device_cookie_gets_its_own_failure_limit() {
    let (torii, _clock) = torii_with(ThrottlePolicy::default()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    let reply = login_from(&app, "192.0.2.1", "ada@example.com", PASSWORD).await;
    let device = cookie_value(&reply, "torii_device").unwrap();
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let request = post_from(
            "192.0.2.1",
            "/auth/login",
            &login_body("ada@example.com", WRONG),
            &[("cookie", format!("torii_device={device}"))],
        );
        statuses.push(send(&app, request).await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 5, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

/// Small per-client limits so tests need few requests.
fn tight_clients() -> ThrottlePolicy {
    let three = [ThrottleStep::new(3, TimeDelta::minutes(1))];
    ThrottlePolicy::default()
        .client_limits(ClientAction::Login, three)
        .client_limits(ClientAction::Register, three)
        .client_limits(ClientAction::PasswordReset, three)
        .client_limits(ClientAction::MagicLink, three)
}

#[tokio::test]
async fn forged_forwarding_headers_from_an_untrusted_peer_change_nothing() {
    let (torii, _clock) = torii_with(tight_clients()).await;
    let app = app(&torii, TrustedProxies::parse("10.0.0.0/8").unwrap());
    let forged = |n: usize| -> Vec<(&'static str, String)> {
        vec![
            ("x-forwarded-for", format!("10.9.9.{n}, 192.0.2.{n}")),
            ("x-real-ip", format!("192.0.2.{n}")),
            ("forwarded", format!("for=192.0.2.{n}")),
        ]
    };
    // A different account each time, so only the per-client limit can refuse.
    for n in 0..3 {
        let body = login_body(&format!("user{n}@example.com"), WRONG);
        let reply = send(&app, post_from("203.0.113.5", "/auth/login", &body, &forged(n))).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let body = login_body("user9@example.com", WRONG);
    assert_too_many(&send(&app, post_from("203.0.113.5", "/auth/login", &body, &forged(9))).await);
    // ClientInfo in the application's own routes ignores them too.
    let request = {
        let mut r =
            Request::builder().uri("/whoami").header("x-forwarded-for", "192.0.2.1").body(Body::empty()).unwrap();
        r.extensions_mut().insert(ConnectInfo(SocketAddr::new("203.0.113.5".parse().unwrap(), 1)));
        r
    };
    assert_eq!(send(&app, request).await.raw, "203.0.113.5");
}

#[tokio::test]
async fn behind_trusted_proxies_the_forwarded_client_address_is_counted() {
    let (torii, _clock) = torii_with(tight_clients()).await;
    let app = app(&torii, TrustedProxies::parse("10.0.0.0/8").unwrap());
    let via_proxy = |client: &str, n: usize| {
        let body = login_body(&format!("user{n}@example.com"), WRONG);
        // The left-most entry is whatever the client claimed; our proxy appended the real address.
        post_from("10.0.0.2", "/auth/login", &body, &[("x-forwarded-for", format!("1.1.1.{n}, {client}"))])
    };
    for n in 0..3 {
        assert_eq!(send(&app, via_proxy("198.51.100.1", n)).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_too_many(&send(&app, via_proxy("198.51.100.1", 3)).await);
    // Another client behind the same proxy is not affected.
    assert_eq!(send(&app, via_proxy("198.51.100.2", 4)).await.status, StatusCode::UNAUTHORIZED);
    // RFC 7239 too, and ClientInfo agrees.
    let body = login_body("user5@example.com", WRONG);
    let request = post_from("10.0.0.2", "/auth/login", &body, &[("forwarded", "for=198.51.100.1".to_owned())]);
    assert_too_many(&send(&app, request).await);
    let mut request =
        Request::builder().uri("/whoami").header("x-forwarded-for", "198.51.100.3").body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::new("10.0.0.2".parse().unwrap(), 1)));
    assert_eq!(send(&app, request).await.raw, "198.51.100.3");
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_slash_64() {
    let (torii, _clock) = torii_with(tight_clients()).await;
    let app = app(&torii, TrustedProxies::none());
    for (n, peer) in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"].into_iter().enumerate() {
        let reply = login_from(&app, peer, &format!("user{n}@example.com"), WRONG).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.raw);
    }
    assert_too_many(&login_from(&app, "2001:db8:1:2::abcd", "user3@example.com", WRONG).await);
    let reply = login_from(&app, "2001:db8:1:3::1", "user4@example.com", WRONG).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "another /64 is another client");
    // IPv4 addresses stand alone.
    for n in 0..3 {
        login_from(&app, "192.0.2.10", &format!("v4user{n}@example.com"), WRONG).await;
    }
    assert_too_many(&login_from(&app, "192.0.2.10", "v4user9@example.com", WRONG).await);
    assert_eq!(login_from(&app, "192.0.2.11", "v4user9@example.com", WRONG).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn registrations_are_limited_per_client_and_the_limit_passes() {
    let (torii, clock) = torii_with(tight_clients()).await;
    let app = app(&torii, TrustedProxies::none());
    for n in 0..3 {
        register_from(&app, "192.0.2.20", &format!("new{n}@example.com")).await;
    }
    let body = login_body("new3@example.com", PASSWORD);
    let wait = assert_too_many(&send(&app, post_from("192.0.2.20", "/auth/register", &body, &[])).await);
    assert!(torii.get_user_by_email("new3@example.com").await.unwrap().is_none());
    clock.advance(TimeDelta::seconds(i64::try_from(wait).unwrap()));
    register_from(&app, "192.0.2.20", "new3@example.com").await;
}

#[tokio::test]
async fn a_global_ceiling_holds_whatever_the_addresses() {
    let policy = ThrottlePolicy::default().global_limits([ThrottleStep::new(4, TimeDelta::minutes(1))]);
    let (torii, _clock) = torii_with(policy).await;
    let app = app(&torii, TrustedProxies::none());
    for n in 0..4 {
        let reply = login_from(&app, &nth_peer(n), &format!("user{n}@example.com"), WRONG).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_too_many(&login_from(&app, &nth_peer(9), "user9@example.com", WRONG).await);
}

#[tokio::test]
async fn turning_the_limits_off_is_possible_but_explicit() {
    let (torii, _clock) = torii_with(ThrottlePolicy::danger_disabled()).await;
    let app = app(&torii, TrustedProxies::none());
    register_from(&app, "192.0.2.1", "ada@example.com").await;
    for _ in 0..12 {
        let reply = login_from(&app, "192.0.2.1", "ada@example.com", WRONG).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&app, "192.0.2.1", "ada@example.com", PASSWORD).await.status, StatusCode::OK);
}

mod email {
    //! The account lock never blocks the ways in that prove the address: magic links and reset mail.

    use std::sync::Arc;

    use axum::Router;
    use axum::http::StatusCode;
    use serde_json::json;
    use torii_axum::CookieConfig;
    use torii_core::email_flows::{EmailConfig, EmailFlows, MessageKind, OutboxMailer};
    use torii_core::throttle::ThrottlePolicy;

    use super::{WRONG, assert_too_many, login_from, nth_peer, post_from, register_from, tight_clients, torii_with};
    use crate::support::{PASSWORD, send};

    async fn app(policy: ThrottlePolicy) -> (Router, EmailFlows<crate::support::Repo>, OutboxMailer) {
        let (torii, _clock) = torii_with(policy).await;
        let outbox = OutboxMailer::new();
        let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
        let flows = EmailFlows::new(torii.clone(), config, Arc::new(outbox.clone()));
        let auth = torii_axum::routes(torii.clone())
            .with_cookie_config(CookieConfig::development())
            .with_email_flows(flows.clone())
            .build();
        (Router::new().nest("/auth", auth).with_state(torii), flows, outbox)
    }

    fn token(outbox: &OutboxMailer, kind: MessageKind) -> String {
        let message = outbox.last_to("ada@example.com").expect("a message");
        assert_eq!(message.kind(), kind);
        message.link().unwrap().split_once("?token=").unwrap().1.to_owned()
    }

    #[tokio::test]
    async fn magic_links_and_password_reset_work_while_the_account_is_locked() {
        let (app, flows, outbox) = app(ThrottlePolicy::default()).await;
        register_from(&app, "192.0.2.1", "ada@example.com").await;
        for n in 0..25 {
            login_from(&app, &nth_peer(n), "ada@example.com", WRONG).await;
        }
        assert_too_many(&login_from(&app, "192.0.2.1", "ada@example.com", PASSWORD).await);

        let ask = post_from("192.0.2.1", "/auth/magic-link", &json!({ "email": "ada@example.com" }), &[]);
        assert_eq!(send(&app, ask).await.status, StatusCode::ACCEPTED);
        flows.wait_idle().await;
        let link = token(&outbox, MessageKind::MagicLink);
        let reply = send(&app, post_from("192.0.2.1", "/auth/magic-link/verify", &json!({ "token": link }), &[])).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);

        let ask = post_from("192.0.2.1", "/auth/password/forgot", &json!({ "email": "ada@example.com" }), &[]);
        assert_eq!(send(&app, ask).await.status, StatusCode::ACCEPTED);
        flows.wait_idle().await;
        let reset = token(&outbox, MessageKind::PasswordReset);
        let body = json!({ "token": reset, "new_password": "a brand new passphrase" });
        let reply = send(&app, post_from("192.0.2.1", "/auth/password/reset", &body, &[])).await;
        assert!(reply.status.is_success(), "{}", reply.raw);
    }

    #[tokio::test]
    async fn reset_and_magic_link_requests_are_limited_per_client() {
        let (app, _flows, _outbox) = app(tight_clients()).await;
        for (uri, n) in [("/auth/magic-link", 0), ("/auth/password/forgot", 10)] {
            for i in 0..3 {
                let body = json!({ "email": format!("someone{}@example.com", n + i) });
                assert_eq!(send(&app, post_from("192.0.2.30", uri, &body, &[])).await.status, StatusCode::ACCEPTED);
            }
            let body = json!({ "email": "someone99@example.com" });
            assert_too_many(&send(&app, post_from("192.0.2.30", uri, &body, &[])).await);
            // The same for an address with an account: nothing tells them apart.
            let body = json!({ "email": "ada@example.com" });
            assert_too_many(&send(&app, post_from("192.0.2.30", uri, &body, &[])).await);
        }
    }
}
