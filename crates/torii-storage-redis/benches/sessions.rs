//! Hot-path benchmark: `Torii::get_session` for opaque sessions stored in Redis (users in in-memory
//! SQLite, combined with `Torii::with_storages`), for a live token and an unknown one. Validation is one
//! `HMGET` of the session hash (plus, at most once per session per five minutes, a "last seen" write).
//!
//! Needs a Redis server at `REDIS_URL` (default `redis://127.0.0.1:6379`); without one it prints a
//! message and measures nothing. Its keys live under a random prefix, deleted at the end.
//!
//! Run with `cargo bench -p torii-storage-redis --bench sessions`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use redis::Commands as _;
use torii_core::{SessionToken, Torii};
use torii_storage_redis::RedisSessionStorage;
use torii_storage_sqlite::SqliteRepositoryProvider;

const PASSWORD: &str = "correct horse battery staple";

fn bench_sessions(c: &mut Criterion) {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("torii-bench:{}:", torii_test_suite::fixtures::random_suffix());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");

    let sessions = match rt.block_on(RedisSessionStorage::connect(&url)) {
        Ok(sessions) => sessions.with_key_prefix(prefix.clone()),
        Err(err) => {
            eprintln!("Redis is unreachable at {url} ({err}); skipping the Redis session benchmarks");
            return;
        }
    };
    let (torii, token) = rt.block_on(async {
        let users = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("open SQLite");
        users.migrate().await.expect("migrate");
        let torii = Torii::with_storages(Arc::new(users), Arc::new(sessions));
        let user = torii.register_user_with_password("bench@example.com", PASSWORD).await.expect("register");
        let session = torii.create_session(&user.id, None, None).await.expect("session");
        (torii, session.token)
    });

    let mut group = c.benchmark_group("opaque_redis");
    group.bench_function("get_session/live_token", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&token).await.expect("valid") });
    });
    let unknown = SessionToken::new_random();
    group.bench_function("get_session/unknown_token", |b| {
        b.to_async(&rt).iter(|| async { torii.get_session(&unknown).await.expect_err("unknown") });
    });
    group.finish();

    delete_keys(&url, &prefix);
}

/// Deletes the benchmark's keys (SCAN, never KEYS or FLUSHDB: the server may be shared).
fn delete_keys(url: &str, prefix: &str) {
    let result = redis::Client::open(url).and_then(|client| {
        let mut connection = client.get_connection()?;
        let keys: Vec<String> = connection.scan_match::<_, String>(format!("{prefix}*"))?.collect::<Result<_, _>>()?;
        if !keys.is_empty() {
            let _: u64 = connection.del(keys)?;
        }
        Ok(())
    });
    if let Err(err) = result {
        eprintln!("could not delete the benchmark's keys under {prefix}: {err}");
    }
}

criterion_group!(benches, bench_sessions);
criterion_main!(benches);
