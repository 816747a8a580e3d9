//! Social login in the example app, end to end: the server binary configured through its
//! `TORII_OAUTH_*` variables against a real OpenID Provider (npm `oidc-provider`, started from
//! `crates/torii-oauth/e2e/provider.mjs`), walked by a cookie-keeping HTTP client that follows each
//! redirect by hand: start → provider (it signs the test account in at once) → callback → `/protected`.
//!
//! Without Node.js or the npm packages the test is skipped with a notice, unless `CI` is set, where it
//! fails (`.ci/run` installs the packages).

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::header::{ACCEPT, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde_json::json;

use crate::support::Server;

const CLIENT_ID: &str = "torii-example";
const CLIENT_SECRET: &str = "torii-example-client-secret";

/// What a browser sends when it follows a link.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../crates/torii-oauth/e2e")
}

/// True when the provider can run; otherwise prints a notice (or fails under `CI`).
fn prerequisites() -> bool {
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let packages = provider_dir().join("node_modules/oidc-provider").is_dir();
    if node && packages {
        return true;
    }
    let missing = if node { "the npm packages" } else { "node" };
    let fix = "apt-get install -y nodejs npm && npm ci --prefix crates/torii-oauth/e2e";
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("the social-login test cannot run: missing {missing}; run `{fix}` (as `.ci/run` does)");
    }
    // Written to the real stderr, past the test harness's capture, so a skip is never silent.
    let _ = writeln!(std::io::stderr(), "SKIPPED social-login test: missing {missing}; run `{fix}`");
    false
}

/// A running `oidc-provider` whose one client may redirect to `redirect_uri`; killed when dropped.
struct OidcProvider {
    issuer: String,
    child: Child,
}

impl OidcProvider {
    fn start(redirect_uri: &str) -> Self {
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(provider_dir())
            .env("PORT", "0")
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            .env("ACCOUNT_SUB", "ada-1815")
            .env("ACCOUNT_EMAIL", "ada@example.com")
            .env("ACCOUNT_EMAIL_VERIFIED", "true")
            .env_remove("TAMPER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start node: {err}"));
        let stdout = child.stdout.take().unwrap();
        let (ready, issuer) = mpsc::channel();
        // Keeps reading after start-up, so the provider never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("oidc-provider| {line}");
                if let Some(issuer) = line.strip_prefix("READY ") {
                    let _ = ready.send(issuer.to_owned());
                }
            }
        });
        let mut provider = Self { issuer: String::new(), child };
        provider.issuer = issuer.recv_timeout(Duration::from_secs(30)).expect("the provider starts within 30 s");
        provider
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now, for the server to take: the provider must know the callback
/// URL before the server starts (the server discovers the provider at start-up).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A browser: keeps cookies, follows no redirect (each hop is checked), asks for HTML.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers([(ACCEPT, BROWSER_ACCEPT.parse().unwrap())].into_iter().collect())
        .build()
        .unwrap()
}

/// Follows redirects from `url` until the next one would enter `stop_at`; returns that URL unvisited.
async fn follow_until(browser: &reqwest::Client, mut url: Url, stop_at: &str) -> Url {
    for _ in 0..10 {
        let response = browser.get(url.clone()).send().await.unwrap();
        assert!(response.status().is_redirection(), "{url} answered {}", response.status());
        let next = url.join(response.headers()[LOCATION].to_str().unwrap()).unwrap();
        if next.as_str().starts_with(stop_at) {
            return next;
        }
        url = next;
    }
    panic!("no redirect to {stop_at} within 10 hops");
}

fn sets_session(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("torii_session=") && !c.starts_with("torii_session=;"))
}

#[tokio::test]
async fn sign_in_with_an_openid_provider_configured_from_the_environment() {
    if !prerequisites() {
        return;
    }
    let port = free_port().to_string();
    let base = format!("http://127.0.0.1:{port}");
    let callback = format!("{base}/auth/oauth/corp-sso/callback");
    let provider = OidcProvider::start(&callback);
    let server = Server::start_with_env(&[
        ("PORT", &port),
        ("TORII_OAUTH_PROVIDERS", "corp-sso"),
        ("TORII_OAUTH_CORP_SSO_CLIENT_ID", CLIENT_ID),
        ("TORII_OAUTH_CORP_SSO_CLIENT_SECRET", CLIENT_SECRET),
        ("TORII_OAUTH_CORP_SSO_ISSUER_URL", &provider.issuer),
        ("TORII_OAUTH_CORP_SSO_REDIRECT_URL", &callback),
    ]);
    assert_eq!(server.addr, format!("127.0.0.1:{port}"));
    let browser = browser();
    let url = |path: &str| Url::parse(&format!("{base}{path}")).unwrap();

    // The page's script finds the provider here and shows "Sign in with corp-sso".
    let providers: serde_json::Value =
        browser.get(url("/auth/oauth/providers")).send().await.unwrap().json().await.unwrap();
    assert_eq!(providers, json!({ "providers": ["corp-sso"] }));
    assert_eq!(browser.get(url("/protected")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // The link the page shows: the server sends the browser to the provider, which signs the
    // account in and sends it back to the callback with a code.
    let back = follow_until(&browser, url("/auth/oauth/corp-sso/start?next=/"), &callback).await;
    assert_eq!(
        back.query_pairs().find(|(k, _)| k == "iss").map(|(_, v)| v.into_owned()),
        Some(provider.issuer.clone())
    );
    let finished = browser.get(back.clone()).send().await.unwrap();
    assert_eq!(finished.status(), StatusCode::SEE_OTHER);
    assert_eq!(finished.headers()[LOCATION], "/");
    assert_eq!(finished.headers()["referrer-policy"], "no-referrer");
    assert!(sets_session(&finished), "the callback logs the browser in");

    let me = browser.get(url("/protected")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");

    let linked: serde_json::Value =
        browser.get(url("/auth/oauth/accounts")).send().await.unwrap().json().await.unwrap();
    assert_eq!(linked["accounts"][0]["provider"], "corp-sso");
    assert_eq!(linked["accounts"][0]["email"], "ada@example.com");
    assert_eq!(linked["providers"], json!(["corp-sso"]));

    // Replaying the callback (a reload, or a leaked URL) lands on the page with a fixed error code,
    // sets no session, and leaves the one the browser has alone.
    let replayed = browser.get(back).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert_eq!(replayed.headers()[LOCATION], "/?oauth_error=oauth_invalid_state");
    assert!(!sets_session(&replayed));
    assert_eq!(browser.get(url("/protected")).send().await.unwrap().status(), StatusCode::OK);

    // The provider is this user's only way in: unlinking it is refused.
    let unlink = browser
        .delete(url("/auth/oauth/accounts/corp-sso"))
        .header("content-type", "application/json")
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(unlink.status(), StatusCode::CONFLICT);
    assert_eq!(unlink.json::<serde_json::Value>().await.unwrap()["code"], "oauth_last_login_method");
}

#[test]
fn without_providers_the_page_offers_none() {
    let server = Server::start();
    let providers = server.get("/auth/oauth/providers");
    assert_eq!(providers.status, 200);
    assert_eq!(providers.json(), json!({ "providers": [] }));
    assert_eq!(server.get("/auth/oauth/nope/start").status, 404);
    // The script that renders the links is served, and writes text as text only.
    let script = server.get("/oauth.js");
    assert_eq!(script.status, 200);
    assert!(script.body.contains("/oauth/providers") && !script.body.contains("innerHTML"));
}
