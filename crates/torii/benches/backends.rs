//! The same two hot paths on every storage backend: validating an opaque session (`Torii::get_session`)
//! with many live sessions in the table, and a full password login (`login_user_with_password`,
//! dominated by Argon2id by design). Backends: SQLite and PostgreSQL through sqlx, and SQLite, PostgreSQL
//! and MySQL/MariaDB through SeaORM.
//!
//! SQLite works in a temporary file. The server backends each work in a fresh database, dropped at the
//! end, on the servers the tests use: `TORII_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `TORII_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`), whose accounts must be allowed to create databases. A server that
//! cannot be reached is reported and its backends are skipped (with `CI` set, it fails instead). Fresh
//! databases come from `torii-test-backends`, as in the flow tests.
//!
//! `TORII_BENCH_LIVE_SESSIONS` sets the number of live sessions (default 10,000); they are written
//! through the backend's own `SessionStorage::create_session`, by a few concurrent writers.
//!
//! Run with `cargo xtask bench`, or
//! `cargo bench -p torii --bench backends --features postgres,seaorm-sqlite,seaorm-postgres,seaorm-mysql`
//! (add `-- --measurement-time 3 --warm-up-time 1` for a quicker run).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use torii::{
    PostgresRepositoryProvider, RepositoryProvider, SeaORMStorage, SessionId, SessionRecord, SessionToken,
    SqliteRepositoryProvider, Torii,
};
use torii_test_backends::{FreshDatabase, Server};

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "bench@example.com";
const DEFAULT_LIVE_SESSIONS: usize = 10_000;
/// Concurrent writers filling the sessions table (SQLite serialises them; the servers commit in parallel).
const WRITERS: usize = 8;

fn live_sessions() -> usize {
    std::env::var("TORII_BENCH_LIVE_SESSIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_LIVE_SESSIONS)
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
    if let Server::Postgres = server {
        // `None`: the server cannot be reached, which `FreshDatabase::create` has reported.
        let Some(database) = rt.block_on(FreshDatabase::create(server)) else { return };
        let repositories = rt.block_on(PostgresRepositoryProvider::connect(&database.url())).expect("connect");
        bench_backend(c, rt, "sqlx-postgres", repositories);
    }
    let Some(database) = rt.block_on(FreshDatabase::create(server)) else { return };
    let storage = rt.block_on(SeaORMStorage::connect(&database.url())).expect("connect");
    let label = match server {
        Server::Postgres => "seaorm-postgres",
        Server::MySql => "seaorm-mysql",
    };
    bench_backend(c, rt, label, storage.into_repository_provider());
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
