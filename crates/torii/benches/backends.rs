//! The same two hot paths on every storage backend: validating an opaque session (`Torii::get_session`)
//! with many live sessions in the table, and a full password login (`login_user_with_password`,
//! dominated by Argon2id by design). Backends: SQLite and PostgreSQL through sqlx, and SQLite, PostgreSQL
//! and MySQL/MariaDB through SeaORM.
//!
//! SQLite works in a temporary file. The server backends each work in a fresh database, dropped at the
//! end, on the servers the tests use: `TORII_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `TORII_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`), whose accounts must be allowed to create databases. A server that
//! cannot be reached is reported and its backends are skipped.
//!
//! `TORII_BENCH_LIVE_SESSIONS` sets the number of live sessions (default 10,000); they are written
//! through the backend's own `SessionStorage::create_session`, by a few concurrent writers.
//!
//! Run with `cargo xtask bench`, or
//! `cargo bench -p torii --bench backends --features postgres,seaorm-sqlite,seaorm-postgres,seaorm-mysql`
//! (add `-- --measurement-time 3 --warm-up-time 1` for a quicker run).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use torii::seaorm::sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection};
use torii::{
    PostgresRepositoryProvider, RepositoryProvider, SeaORMStorage, SessionId, SessionRecord, SessionToken,
    SqliteRepositoryProvider, Torii,
};

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "bench@example.com";
const DEFAULT_LIVE_SESSIONS: usize = 10_000;
/// Concurrent writers filling the sessions table (SQLite serialises them; the servers commit in parallel).
const WRITERS: usize = 8;

fn live_sessions() -> usize {
    std::env::var("TORII_BENCH_LIVE_SESSIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_LIVE_SESSIONS)
}

/// A database server.
#[derive(Clone, Copy)]
enum Server {
    Postgres,
    MySql,
}

impl Server {
    fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
        }
    }

    fn admin_url(self) -> String {
        let (variable, default) = match self {
            Self::Postgres => ("TORII_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
            Self::MySql => ("TORII_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
        };
        std::env::var(variable).ok().filter(|url| !url.is_empty()).unwrap_or_else(|| default.to_owned())
    }

    fn create_sql(self, name: &str) -> String {
        match self {
            Self::Postgres => format!("CREATE DATABASE {name}"),
            Self::MySql => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        }
    }

    fn drop_sql(self, name: &str) -> String {
        match self {
            Self::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Self::MySql => format!("DROP DATABASE IF EXISTS {name}"),
        }
    }
}

/// `url` with its database (the path) replaced by `name`, keeping credentials, host and parameters.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut result = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// One administrative connection with a short timeout. The error names the server, never the URL (which
/// can carry a password).
async fn admin(server: Server) -> Result<DatabaseConnection, String> {
    let mut options = ConnectOptions::new(server.admin_url());
    options.max_connections(1).connect_timeout(Duration::from_secs(5)).sqlx_logging(false);
    Database::connect(options).await.map_err(|err| format!("{} cannot be reached: {err}", server.label()))
}

/// A database created for this run, dropped (with its open connections on PostgreSQL) by [`Self::remove`].
struct FreshDatabase {
    server: Server,
    name: String,
    url: String,
}

impl FreshDatabase {
    /// Creates an empty database, or says why the server cannot be used.
    async fn create(server: Server) -> Result<Self, String> {
        let admin = admin(server).await?;
        // The storage crates' test prefix and a creation time, so their sweep drops it if a run is killed.
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let name =
            format!("torii_so_{}_bench{}x{}", since_epoch.as_secs(), std::process::id(), since_epoch.subsec_nanos());
        admin
            .execute_unprepared(&server.create_sql(&name))
            .await
            .map_err(|err| format!("cannot create {name}: {err}"))?;
        let _ = admin.close().await;
        let url = with_database(&server.admin_url(), &name);
        Ok(Self { server, name, url })
    }

    async fn remove(self) {
        let dropped = async {
            let admin = admin(self.server).await?;
            admin.execute_unprepared(&self.server.drop_sql(&self.name)).await.map_err(|err| err.to_string())?;
            admin.close().await.map_err(|err| err.to_string())
        };
        if let Err(err) = dropped.await {
            eprintln!("could not drop the benchmark database {}: {err}", self.name);
        }
    }
}

/// Migrates `repositories`, registers the benchmark user, fills the sessions table, then measures
/// `get_session` and `login_user_with_password` in the group `label`.
fn bench_backend<R: RepositoryProvider>(c: &mut Criterion, rt: &Runtime, label: &str, repositories: R) {
    let live = live_sessions();
    let repositories = Arc::new(repositories);
    let (torii, token) = rt.block_on(async {
        repositories.migrate().await.expect("migrate");
        let torii = Torii::new(Arc::clone(&repositories));
        let user = torii.register_user_with_password(EMAIL, PASSWORD).await.expect("register");

        // Live sessions of other "devices", written by the backend itself; then the one validated.
        let started = Instant::now();
        let now = torii.now();
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..WRITERS {
            let (repositories, user_id) = (Arc::clone(&repositories), user.id.clone());
            let count = live / WRITERS + usize::from(writer < live % WRITERS);
            writers.spawn(async move {
                for _ in 0..count {
                    let record = SessionRecord {
                        id: SessionId::new_random(),
                        token_hash: SessionToken::new_random().hash(),
                        user_id: user_id.clone(),
                        user_agent: Some("bench".into()),
                        ip_address: None,
                        created_at: now,
                        updated_at: now,
                        expires_at: now + chrono::Duration::days(30),
                    };
                    repositories.create_session(&record).await.expect("insert a live session");
                }
            });
        }
        while let Some(done) = writers.join_next().await {
            done.expect("writer");
        }
        eprintln!("{label}: {live} live sessions written in {:.1} s", started.elapsed().as_secs_f64());
        let session = torii.create_session(&user.id, None, None).await.expect("session");
        (torii, session.token)
    });

    let mut group = c.benchmark_group(format!("backends/{label}"));
    group.bench_function(format!("get_session/{live}_live_sessions"), |b| {
        b.to_async(rt).iter(|| async { torii.get_session(&token).await.expect("valid") });
    });
    group.sample_size(10);
    group.bench_function("login_user_with_password", |b| {
        b.to_async(rt).iter(|| async {
            let (_, session) = torii.login_user_with_password(EMAIL, PASSWORD, None, None).await.expect("login");
            // Keep the table from growing with every iteration.
            torii.delete_session(&session.token).await.expect("logout");
        });
    });
    group.finish();
}

/// Benchmarks the sqlx and SeaORM backends of `server` on fresh databases, or reports why it cannot.
fn bench_server(c: &mut Criterion, rt: &Runtime, server: Server) {
    if let Err(reason) = rt.block_on(admin(server)) {
        eprintln!("{reason}; skipping its benchmarks");
        return;
    }
    if let Server::Postgres = server {
        let database = rt.block_on(FreshDatabase::create(server)).expect("a fresh database");
        let repositories = rt.block_on(PostgresRepositoryProvider::connect(&database.url)).expect("connect");
        bench_backend(c, rt, "sqlx-postgres", repositories);
        rt.block_on(database.remove());
    }
    let database = rt.block_on(FreshDatabase::create(server)).expect("a fresh database");
    let storage = rt.block_on(SeaORMStorage::connect(&database.url)).expect("connect");
    let label = match server {
        Server::Postgres => "seaorm-postgres",
        Server::MySql => "seaorm-mysql",
    };
    bench_backend(c, rt, label, storage.into_repository_provider());
    rt.block_on(database.remove());
}

fn bench_backends(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("sqlx.db").display());
    let repositories = rt.block_on(SqliteRepositoryProvider::connect(&url)).expect("connect");
    bench_backend(c, &rt, "sqlx-sqlite", repositories);

    let url = format!("sqlite://{}?mode=rwc", dir.path().join("seaorm.db").display());
    let storage = rt.block_on(SeaORMStorage::connect(&url)).expect("connect");
    bench_backend(c, &rt, "seaorm-sqlite", storage.into_repository_provider());

    bench_server(c, &rt, Server::Postgres);
    bench_server(c, &rt, Server::MySql);
}

criterion_group!(benches, bench_backends);
criterion_main!(benches);
