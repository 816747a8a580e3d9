//! Hot-path benchmarks: validating an opaque session on SQLite with 100,000 live sessions in the table,
//! and a full password login (dominated by Argon2id by design).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p torii --bench sessions`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use torii::{SessionId, SessionRecord, SessionToken, SqliteRepositoryProvider, Torii};

const LIVE_SESSIONS: usize = 100_000;
const PASSWORD: &str = "correct horse battery staple";

fn bench_sessions(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());

    let (torii, repositories, token) = rt.block_on(async {
        let repositories = Arc::new(SqliteRepositoryProvider::connect(&url).await.expect("connect"));
        repositories.migrate().await.expect("migrate");
        let torii = Torii::new(Arc::clone(&repositories));
        let user = torii.register_user_with_password("bench@example.com", PASSWORD).await.expect("register");

        // Fill the table with live sessions of other "devices" in one transaction, then make the one
        // the benchmark validates.
        let now = torii.now();
        let mut tx = repositories.pool().begin().await.expect("begin");
        for _ in 0..LIVE_SESSIONS {
            let record = SessionRecord {
                id: SessionId::new_random(),
                token_hash: SessionToken::new_random().hash(),
                user_id: user.id.clone(),
                user_agent: Some("bench".into()),
                ip_address: None,
                created_at: now,
                updated_at: now,
                expires_at: now + chrono::Duration::days(30),
            };
            let micros = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros();
            sqlx::query(
                "INSERT INTO sessions (token_hash, id, user_id, user_agent, ip_address, created_at, updated_at, \
                 expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(record.token_hash.as_str())
            .bind(record.id.as_str())
            .bind(record.user_id.as_str())
            .bind(record.user_agent.as_deref())
            .bind(record.ip_address.as_deref())
            .bind(micros(record.created_at))
            .bind(micros(record.updated_at))
            .bind(micros(record.expires_at))
            .execute(&mut *tx)
            .await
            .expect("insert");
        }
        tx.commit().await.expect("commit");
        let session = torii.create_session(&user.id, None, None).await.expect("session");
        (torii, repositories, session.token)
    });
    drop(repositories);

    let mut group = c.benchmark_group("opaque_sqlite");
    group.bench_function("get_session/100k_live_sessions", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&token).await.expect("valid") });
    });
    let unknown = SessionToken::new_random();
    group.bench_function("get_session/unknown_token", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&unknown).await.expect_err("unknown") });
    });
    group.finish();

    let mut group = c.benchmark_group("password");
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
}

criterion_group!(benches, bench_sessions);
criterion_main!(benches);
