//! Hot-path benchmarks on PostgreSQL: validating an opaque session with 100,000 live sessions in the
//! table (one primary-key lookup), and a full password login (dominated by Argon2id by design).
//!
//! Needs a PostgreSQL server at `TORII_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, as for the tests) whose role may create databases;
//! without one it prints a message and measures nothing. It works in a fresh database of its own,
//! dropped at the end.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p torii-storage-postgres --bench postgres`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};
use torii_core::{SessionToken, Torii};
use torii_storage_postgres::PostgresRepositoryProvider;

const LIVE_SESSIONS: i64 = 100_000;
const PASSWORD: &str = "correct horse battery staple";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Connects to the server, or says why it cannot (without the password).
async fn connect(options: &PgConnectOptions) -> Result<PgConnection, String> {
    let server = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(format!("cannot connect to {server}: {err}")),
        Err(_) => Err(format!("no answer from {server} within 10 s")),
    }
}

fn bench_postgres(c: &mut Criterion) {
    let url = std::env::var("TORII_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let admin: PgConnectOptions = url.parse().expect("TORII_TEST_POSTGRES_URL must be a PostgreSQL URL");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    // The test databases' prefix, so the tests' sweep drops this one if a run is killed before the end.
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let name = format!("torii_t_{}_bench{}", since_epoch.as_secs(), since_epoch.subsec_nanos());
    let created = rt.block_on(async {
        let mut conn = connect(&admin).await?;
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).await.map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok::<_, String>(())
    });
    if let Err(reason) = created {
        eprintln!("PostgreSQL is unavailable ({reason}); skipping the PostgreSQL benchmarks");
        return;
    }

    let (torii, token) = rt.block_on(async {
        let pool = PostgresRepositoryProvider::pool_options()
            .connect_with(admin.clone().database(&name))
            .await
            .expect("connect to the benchmark database");
        let repositories = PostgresRepositoryProvider::new(pool);
        repositories.migrate().await.expect("migrate");
        let torii = Torii::new(Arc::new(repositories.clone()));
        let user = torii.register_user_with_password("bench@example.com", PASSWORD).await.expect("register");

        // Live sessions of other "devices", in one statement; then the one the benchmark validates.
        let now = torii.now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, id, user_id, user_agent, created_at, updated_at, expires_at) \
             SELECT md5('a' || g) || md5('b' || g), 'bench_' || g, $1, 'bench', $2, $2, $3 \
             FROM generate_series(1, $4) AS g",
        )
        .bind(user.id.as_str())
        .bind(now)
        .bind(now + chrono::Duration::days(30))
        .bind(LIVE_SESSIONS)
        .execute(repositories.pool())
        .await
        .expect("insert live sessions");
        repositories.pool().execute("ANALYZE sessions").await.expect("analyze");
        let session = torii.create_session(&user.id, None, None).await.expect("session");
        (torii, session.token)
    });

    let mut group = c.benchmark_group("opaque_postgres");
    group.bench_function("get_session/100k_live_sessions", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&token).await.expect("valid") });
    });
    let unknown = SessionToken::new_random();
    group.bench_function("get_session/unknown_token", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&unknown).await.expect_err("unknown") });
    });
    group.finish();

    let mut group = c.benchmark_group("password_postgres");
    group.sample_size(20);
    group.bench_function("login_user_with_password", |b| {
        b.to_async(&rt).iter(|| async {
            let (_, session) =
                torii.login_user_with_password("bench@example.com", PASSWORD, None, None).await.expect("login");
            // Keep the table from growing with every iteration.
            torii.delete_session(&session.token).await.expect("logout");
        });
    });
    group.finish();

    drop(torii);
    let dropped = rt.block_on(async {
        let mut conn = connect(&admin).await?;
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        conn.execute(AssertSqlSafe(sql)).await.map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok::<_, String>(())
    });
    if let Err(err) = dropped {
        eprintln!("could not drop the benchmark database {name}: {err}");
    }
}

criterion_group!(benches, bench_postgres);
criterion_main!(benches);
