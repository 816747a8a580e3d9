//! The real OpenID Provider (`e2e/provider.mjs`, npm `oidc-provider`) and a Torii app serving the
//! auth routes over TCP, so a cookie-keeping HTTP client can walk every redirect of a flow.
//!
//! Without Node.js or the npm packages the end-to-end tests are skipped with a notice, unless `CI`
//! is set, where they fail (`.ci/run` installs the packages).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use torii_axum::{CookieConfig, OAuthRouteConfig};
use torii_core::{OAuthLinkPolicy, Torii};
use torii_oauth::{OidcConfig, OidcProvider};

pub const CLIENT_ID: &str = "torii-e2e";
pub const CLIENT_SECRET: &str = "torii-e2e-client-secret";
pub const PROVIDER: &str = "oidc";

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// True when the provider can run; otherwise prints a notice (or fails under `CI`).
pub fn prerequisites() -> bool {
    if !super::backend::available() {
        return false;
    }
    let node = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let packages = e2e_dir().join("node_modules/oidc-provider").is_dir();
    if node && packages {
        return true;
    }
    let missing = if node { "the npm packages" } else { "node" };
    let fix = "apt-get install -y nodejs npm && npm ci --prefix crates/torii-oauth/e2e";
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("the OIDC end-to-end tests cannot run: missing {missing}; run `{fix}` (as `.ci/run` does)");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED OIDC end-to-end test: missing {missing}; run `{fix}`");
    false
}

/// How the provider behaves.
#[derive(Clone)]
pub struct Account {
    pub sub: &'static str,
    pub email: &'static str,
    pub email_verified: bool,
    /// `aud`, `iss` or `nonce`: re-sign ID tokens with that claim changed.
    pub tamper: Option<&'static str>,
}

impl Default for Account {
    fn default() -> Self {
        Self { sub: "user-1", email: "ada@example.com", email_verified: true, tamper: None }
    }
}

/// A running `oidc-provider`; killed when dropped.
pub struct OidcPeer {
    pub issuer: String,
    child: Child,
}

impl OidcPeer {
    pub async fn start(redirect_uri: &str, account: &Account, port: u16) -> Self {
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(e2e_dir())
            .env("PORT", port.to_string())
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            .env("ACCOUNT_SUB", account.sub)
            .env("ACCOUNT_EMAIL", account.email)
            .env("ACCOUNT_EMAIL_VERIFIED", account.email_verified.to_string())
            .env("TAMPER", account.tamper.unwrap_or(""))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("oidc-provider: {line}");
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("provider output") {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    return issuer.to_owned();
                }
            }
            panic!("the provider exited before it was ready");
        })
        .await
        .expect("the provider starts within 30 s");
        // Keep draining its output: a closed pipe would kill it at its next log line.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("oidc-provider: {line}");
            }
        });
        Self { issuer: ready, child }
    }

    /// Stops the provider and waits until it has exited (its port is free again).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub use super::backend::Repo;

/// The app under test: Torii on the storage backend of the module this file is included in (a fresh
/// database), the auth routes (with OAuth) under `/auth`.
pub struct App {
    pub base: String,
    pub torii: Arc<Torii<Repo>>,
    pub issuer: String,
    pub peer: Option<OidcPeer>,
}

impl App {
    pub async fn start(account: Account) -> Self {
        Self::start_with(account, OAuthLinkPolicy::default(), 0).await
    }

    pub async fn start_with(account: Account, policy: OAuthLinkPolicy, provider_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener_port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{listener_port}");
        let redirect = format!("{base}/auth/oauth/{PROVIDER}/callback");
        let peer = OidcPeer::start(&redirect, &account, provider_port).await;
        let provider = OidcProvider::discover(
            OidcConfig::new(PROVIDER, &peer.issuer, CLIENT_ID, &redirect).with_client_secret(CLIENT_SECRET),
        )
        .await
        .expect("discovery");

        let repositories = super::backend::repositories().await;
        let torii = Arc::new(Torii::new(repositories).with_oauth_provider(provider).with_oauth_link_policy(policy));
        let auth = torii_axum::routes(torii.clone())
            .with_cookie_config(CookieConfig::development())
            .with_oauth_config(OAuthRouteConfig::default().with_default_redirect("/home"))
            .build();
        let app: Router = Router::new().nest("/auth", auth);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, torii, issuer: peer.issuer.clone(), peer: Some(peer) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Walks from `/auth/oauth/oidc/start?{query}` through the provider's redirects and stops at the
    /// redirect back to our callback, returning its URL (not yet visited).
    pub async fn authorize(&self, browser: &reqwest::Client, query: &str) -> Url {
        let mut url = Url::parse(&self.url(&format!("/auth/oauth/{PROVIDER}/start?{query}"))).unwrap();
        for _ in 0..10 {
            let response = browser.get(url.clone()).send().await.unwrap();
            assert!(response.status().is_redirection(), "{url} answered {}", response.status());
            let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
            let next = url.join(&location).unwrap();
            if next.as_str().starts_with(&self.url(&format!("/auth/oauth/{PROVIDER}/callback"))) {
                return next;
            }
            url = next;
        }
        panic!("the flow did not come back to the callback in 10 redirects");
    }
}

/// A browser: keeps cookies, follows no redirect (each hop is asserted).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A callback's answer.
pub struct Reply {
    pub status: StatusCode,
    pub location: Option<String>,
    pub referrer_policy: Option<String>,
    pub session_cookie: bool,
    pub body: String,
}

pub async fn visit(browser: &reqwest::Client, url: impl reqwest::IntoUrl) -> Reply {
    let response = browser.get(url).send().await.unwrap();
    let header = |name| {
        response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned)
    };
    let location = header(LOCATION.as_str());
    let referrer_policy = header("referrer-policy");
    let session_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("torii_session=") && !c.starts_with("torii_session=;"));
    let status = response.status();
    let body = response.text().await.unwrap();
    Reply { status, location, referrer_policy, session_cookie, body }
}

/// Replaces (or adds) one query parameter.
pub fn with_param(url: &Url, name: &str, value: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut out = url.clone();
    {
        let mut query = out.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    out
}

pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
