//! Hot-path benchmarks: validating an opaque session on SQLite with 100,000 live sessions in the table,
//! and a full password login (dominated by Argon2id by design).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p torii --bench sessions`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use torii::session_store::{CookieSessionStore, SessionConfig as StoreConfig, SessionData};
use torii::{JwtConfig, SessionId, SessionRecord, SessionToken, SqliteRepositoryProvider, Torii};

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

    // JWT sessions: signature and claims checked on the CPU, plus the revocation lookup (one indexed
    // query, skipped for a token seen within the cache TTL; both cases are measured).
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt");
    let read = |name: &str| std::fs::read(format!("{fixtures}/{name}")).expect("fixture");
    let jwt_configs = [
        ("HS256", JwtConfig::new_hs256(b"a-benchmark-secret-of-32-bytes!!".to_vec())),
        ("EdDSA", JwtConfig::new_eddsa(read("ed25519_private.pem"), read("ed25519_public.pem"))),
        ("RS256", JwtConfig::new_rs256(read("rsa_private.pem"), read("rsa_public.pem"))),
    ];
    let mut group = c.benchmark_group("jwt_sqlite");
    for (alg, config) in jwt_configs {
        for (label, ttl) in [("cached", chrono::Duration::seconds(3600)), ("uncached", chrono::Duration::zero())] {
            let jwt = torii.clone().with_jwt_sessions(config.clone().with_revocation_cache(ttl));
            let token = rt.block_on(async {
                let user = jwt.get_user_by_email("bench@example.com").await.expect("q").expect("user");
                jwt.create_session(&user.id, None, None).await.expect("session").token
            });
            group.bench_function(format!("get_session/{alg}/revocation_{label}"), |b| {
                b.to_async(&rt).iter(|| async { jwt.get_session(&token).await.expect("valid") });
            });
        }
    }
    group.finish();

    // Sealed-cookie sessions: the whole session is decrypted and checked from the cookie value.
    let store = CookieSessionStore::new(&StoreConfig {
        encryption_key: Some((0..64u8).map(|b| format!("{:02x}", b.wrapping_mul(37).wrapping_add(11))).collect()),
        ..Default::default()
    })
    .expect("store");
    let mut data = SessionData::new(std::time::Duration::from_secs(3600));
    data.set("user_id", "user_123");
    let sealed = store.seal(&data).expect("seal");
    let mut group = c.benchmark_group("sealed_cookie");
    group.bench_function("open", |b| b.iter(|| store.open(&sealed).expect("valid")));
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
