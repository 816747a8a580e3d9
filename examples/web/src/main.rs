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
//!   tables are created or upgraded at start-up. MySQL is served by Torii's SeaORM backend, which
//!   this example does not use: a `mysql://` URL stops it at start-up with an error saying so.
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
//! - `RUST_LOG`: log filter, default `info,tower_http=warn`.
//!
//! Routes: `GET /` (the page, with `/app.js`, `/passkey.js` and `/style.css`), `/auth/...` (register,
//! login, logout, user, session, sessions, health, passkey/..., passkeys), `GET /protected` (JSON `{user_id, email}`, or 401), and `GET /public`
//! (the same answer without authentication, the HTTP benchmark's baseline).

mod app;
mod config;
mod page;
mod passkeys;
mod shutdown;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use torii::storage::{PasskeyStorage, TokenRevocationStorage};
use torii::{PostgresRepositoryProvider, RepositoryProvider, SqliteRepositoryProvider, Torii};
use tracing_subscriber::EnvFilter;

use crate::config::{Backend, Config};

/// The log filter when `RUST_LOG` is not set.
const DEFAULT_LOG_FILTER: &str = "info,tower_http=warn";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logging();
    let config = Config::from_env()?;

    // The URL is not logged: it can carry a password. Both arms build the same app; only the storage
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
    }
}

/// Creates or upgrades the schema, then serves the app on `repositories` until a shutdown signal.
async fn serve<R>(repositories: R, config: &Config) -> anyhow::Result<()>
where
    R: RepositoryProvider + TokenRevocationStorage + PasskeyStorage,
{
    repositories.migrate().await.context("cannot create or upgrade the database schema")?;
    // Bound first: the passkey origin defaults to the port actually taken (PORT=0 picks any).
    let listener = TcpListener::bind(config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let torii = Torii::new(Arc::new(repositories)).with_passkeys(passkeys::from_env(addr.port())?)?;
    // JWT_SECRET switches to stateless JWT sessions (revocable through a denylist); without it sessions
    // are opaque tokens stored in the database.
    let torii = Arc::new(match config.jwt.clone() {
        Some(jwt) => torii.with_jwt_sessions(jwt),
        None => torii,
    });

    let app = app::router(torii, config.cookies.clone());
    tracing::info!(
        url = %format!("http://{addr}/"),
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
    tracing::info!("stopped");
    Ok(())
}

/// Structured logs on stdout; colours only when a person is watching.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(std::io::stdout().is_terminal()).init();
}
