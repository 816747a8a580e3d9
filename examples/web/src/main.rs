//! The Torii example web app: a page where a person can register, log in, see who they are, see and
//! revoke their sessions (devices), and log out. It is the documented `torii-axum` set-up (auth routes
//! under `/auth`, a `/protected` route behind the `AuthUser` extractor) plus a small server-rendered page.
//!
//! Run it with `cargo run -p example-web` and open <http://127.0.0.1:3000/>. Stop it with Ctrl-C (or
//! SIGTERM); requests in flight are finished first.
//!
//! Environment variables (all optional):
//! - `DATABASE_URL`: default `sqlite://torii-example.db?mode=rwc`, a file in the current directory,
//!   created and migrated at start-up. A `postgres://` (or `postgresql://`) URL uses PostgreSQL
//!   instead, for example `postgres://torii:secret@localhost/torii`; the database must exist, and its
//!   tables are created or upgraded at start-up. A `mysql://` URL uses MySQL or MariaDB through
//!   Torii's SeaORM backend, for example `mysql://root@127.0.0.1:3306/torii`; there too the database
//!   must exist and its tables are created or upgraded at start-up.
//! - `BIND_ADDR` and `PORT`: where to listen, default `127.0.0.1` and `3000`. `PORT=0` takes any free
//!   port; the start-up log line gives the URL.
//! - `TORII_SECURE_COOKIES`: unset or `0` uses `CookieConfig::development()`, a `torii_session` cookie
//!   without `Secure`, so logging in works over plain http on localhost. `1` uses the secure default
//!   (`__Host-torii_session`, `Secure`), which browsers keep only over HTTPS: use it when the app is
//!   served through a TLS-terminating proxy (one that passes the original `Host` header through, since
//!   cookie-authenticated requests must be same-origin).
//! - `JWT_SECRET`: when set, sessions are JWTs signed with this HS256 secret (at least 32 bytes; a
//!   shorter one stops the server at start-up with an error that does not echo it). JWT sessions are
//!   not listed server-side, so the page's device list stays empty; logout still revokes the token.
//! - `PASSKEY_RP_ID` and `PASSKEY_ORIGIN`: the passkey relying party, default `localhost` and
//!   `http://localhost:PORT` (the port actually listened on). Open the page at that origin to use
//!   passkeys: browsers refuse them on `http://127.0.0.1:PORT`, whose host cannot be a relying party.
//! - `SMTP_URL`: where mail goes. Unset, the console mailer writes each message's link to the log
//!   (`email (console mailer, development only: not sent)` lines with `link=...`) so you can open it
//!   from the terminal; it sends nothing and must not be used in production, since the log then
//!   holds live sign-in links. Set, messages go through SMTP: `smtp://host[:port]` (STARTTLS,
//!   required; port 587 by default), `smtps://host[:port]` (TLS from the first byte; 465), or
//!   `smtp+plain://host:port` (unencrypted, for a local mail catcher such as Mailpit on port 1025).
//!   Add `user:password@` before the host to log in (percent-encode `@`, `:` and `/` in them). The
//!   URL is never logged.
//! - `MAIL_FROM`: the sender address, default `noreply@example.com`.
//! - `APP_BASE_URL`: where links in messages point (scheme, host, port, optional path prefix), for
//!   example `https://app.example`. Default: the URL the server listens on (`http://127.0.0.1:PORT`,
//!   also when listening on `0.0.0.0`). Links are never built from the request's `Host` header.
//! - `TORII_OAUTH_PROVIDERS`: social login, a comma-separated list of provider names such as
//!   `google,github,keycloak`. Unset, the page offers no provider. Each listed `<NAME>` (upper-cased,
//!   `-` as `_`) is configured by `TORII_OAUTH_<NAME>_CLIENT_ID` (required), `..._CLIENT_SECRET`
//!   (required for GitHub, optional for OpenID Connect public clients), `..._REDIRECT_URL` (required:
//!   `<this app's URL>/auth/oauth/<name>/callback`, registered with the provider as is),
//!   `..._ISSUER_URL` (the OpenID Connect issuer; not needed for `google`), `..._SCOPES` (optional,
//!   separated by spaces or commas) and `..._KIND` (`oidc` or `github`; default `github` for the name
//!   `github`, `oidc` otherwise: any other name is an OpenID Connect provider found through
//!   discovery). A provider that is misconfigured or cannot be discovered stops the start-up with an
//!   error naming the variable, never quoting a secret. The page then shows "Sign in with ..." links,
//!   and a logged-in user's linked providers with "Unlink" buttons and "Link ..." links.
//! - `TORII_IDLE_TIMEOUT_MINUTES`: when set, an opaque session unused for this many minutes ends (the
//!   30-day lifetime still applies); unset, sessions end only after 30 days, at logout, or when the
//!   password changes. JWT sessions ignore it (nothing is recorded per request).
//! - `TORII_CONCEAL_EXISTING_ACCOUNTS`: on by default; signing up with an address that already has an
//!   account is answered like any other sign-up (201, no session) and the owner is mailed a notice.
//!   Nobody is logged in by signing up then: the page asks the new user to sign in. `0` restores the
//!   409 `email_taken` answer and the login at sign-up.
//! - `TORII_TRUSTED_PROXIES`: the reverse proxies (IP addresses or CIDRs, separated by commas or
//!   spaces, e.g. `10.0.0.0/8, fd00::/8`) whose `Forwarded` / `X-Forwarded-For` / `X-Real-IP`
//!   headers give the client's address. Unset, the socket's peer is the client and those headers are
//!   ignored (any client can forge them). The per-client guessing limits count by that address.
//! - `TORII_DEVICE_KEY`: the key (at least 32 bytes) that signs device cookies, which let a browser
//!   that logged in before keep trying while strangers have locked its account. Unset, each process
//!   makes a random one; set the same value on every instance behind one site.
//! - `RUST_LOG`: log filter, default `info,tower_http=warn`.
//!
//! Email: a new account is mailed a link that verifies its address; the page can email a sign-in
//! link, a password reset link, a new verification link, and change the password. The links open
//! pages served by the auth routes (`/auth/magic-link`, `/auth/verify-email`, `/auth/password/reset`)
//! whose button POSTs the token: opening a link, as mail scanners do, uses nothing up.
//!
//! Routes: `GET /` (the page, with `/app.js`, `/passkey.js`, `/email.js` and `/style.css`), `/auth/...`
//! (register, login, logout, user, session, sessions, health, passkey/..., passkeys, magic-link/...,
//! verify-email/..., password/..., reauthenticate/...), `GET /protected` (JSON `{user_id, email}`, or
//! 401), `GET /sensitive` (the same behind `FreshAuthUser`: 403 `reauthentication_required` once the
//! login is more than ten minutes old), and `GET /public` (the same answer without authentication, the
//! HTTP benchmark's baseline).
//!
//! Adding or removing a passkey, linking or unlinking a provider and changing the password need a
//! recent login: when the server asks for one, the page shows a "Confirm it's you" dialog (password or
//! passkey) and then carries on.

mod app;
mod config;
mod mail;
mod oauth;
mod page;
mod passkeys;
mod shutdown;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use torii::storage::{MagicLinkStorage, OAuthStorage, PasskeyStorage, TokenRevocationStorage};
use torii::{
    PostgresRepositoryProvider, RepositoryProvider, SeaORMStorage, SessionPolicy, SqliteRepositoryProvider, Torii,
};
use tracing_subscriber::EnvFilter;

use crate::config::{Backend, Config};

/// The log filter when `RUST_LOG` is not set.
const DEFAULT_LOG_FILTER: &str = "info,tower_http=warn";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logging();
    let config = Config::from_env()?;

    // The URL is not logged: it can carry a password. Every arm builds the same app; only the storage
    // type differs.
    match config.backend {
        Backend::Sqlite => {
            let repositories =
                SqliteRepositoryProvider::connect(&config.database_url).await.context("cannot open the database")?;
            serve(repositories, &config).await
        }
        Backend::Postgres => {
            let repositories = PostgresRepositoryProvider::connect(&config.database_url)
                .await
                .context("cannot connect to the PostgreSQL database")?;
            serve(repositories, &config).await
        }
        Backend::MySql => {
            let storage = SeaORMStorage::connect(&config.database_url)
                .await
                .context("cannot connect to the MySQL/MariaDB database")?;
            serve(storage.into_repository_provider(), &config).await
        }
    }
}

/// Creates or upgrades the schema, then serves the app on `repositories` until a shutdown signal.
async fn serve<R>(repositories: R, config: &Config) -> anyhow::Result<()>
where
    R: RepositoryProvider + TokenRevocationStorage + PasskeyStorage + MagicLinkStorage + OAuthStorage,
{
    let mail = mail::MailSettings::from_env()?;
    repositories.migrate().await.context("cannot create or upgrade the database schema")?;
    // Bound first: the passkey origin defaults to the port actually taken (PORT=0 picks any).
    let listener = TcpListener::bind(config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let torii = Torii::new(Arc::new(repositories)).with_passkeys(passkeys::from_env(addr.port())?)?;
    // Guessing limits are on by default; only the device-cookie key may need sharing between instances.
    let torii = match config.device_key.clone() {
        Some(key) => torii.with_device_key(key),
        None => torii,
    };
    let torii = oauth::with_providers_from_env(torii).await?;
    // JWT_SECRET switches to stateless JWT sessions (revocable through a denylist); without it sessions
    // are opaque tokens stored in the database.
    let torii = Arc::new(match (config.jwt.clone(), config.idle_timeout) {
        (Some(jwt), _) => torii.with_jwt_sessions(jwt),
        // Sessions last 30 days by default; an idle timeout ends the ones left unused for a while.
        (None, Some(idle)) => torii.with_session_policy(SessionPolicy::default().idle_timeout(idle)),
        (None, None) => torii,
    });

    let email = mail.flows(torii.clone(), addr)?;
    let app = app::router(torii, config.cookies.clone(), config.trusted_proxies.clone(), email.clone());
    tracing::info!(
        url = %format!("http://{addr}/"),
        mailer = mail.mailer_name(),
        secure_cookies = config.cookies.is_secure(),
        sessions = if config.jwt.is_some() { "jwt" } else { "opaque" },
        database = ?config.backend,
        "listening"
    );

    // Connect info gives the auth routes the client's IP address, which the sessions list shows.
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown::signal())
        .await
        .context("the server failed")?;
    // Mail queued by the last requests (retries included) is sent before the process exits.
    email.wait_idle().await;
    tracing::info!("stopped");
    Ok(())
}

/// Structured logs on stdout; colours only when a person is watching.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(std::io::stdout().is_terminal()).init();
}
