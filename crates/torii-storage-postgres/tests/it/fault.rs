//! Faults: the database goes away under a running provider, or is not there at all.
//!
//! Only this test's own database is touched: its connections are terminated with
//! `pg_terminate_backend`, which is what a server restart, a failover or an administrator does to
//! them. The shared server itself keeps running.

use std::error::Error as _;
use std::time::{Duration, Instant};

use sqlx::{Executor as _, PgConnection};
use tokio::task::JoinSet;
use torii_core::storage::UserStorage as _;
use torii_core::{StorageError, User};
use torii_storage_postgres::{ACQUIRE_TIMEOUT, PostgresRepositoryProvider};
use torii_test_suite::fixtures::{new_user, unique_email};

use crate::database::TestDatabase;

/// How long to wait for the server to reach a state the test set up (a query blocked, a backend gone).
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

/// Makes the next read of `pg_stat_activity` current. Within a transaction PostgreSQL keeps showing the
/// activity as it was at the first read, and the admin connection reads it inside the transaction that
/// holds the lock.
async fn refresh_activity(admin: &mut PgConnection) {
    admin.execute("SELECT pg_stat_clear_snapshot()").await.unwrap();
}

/// Terminates every connection to `database` except `admin`'s own; returns how many were terminated.
async fn terminate_others(admin: &mut PgConnection, database: &str) -> usize {
    refresh_activity(admin).await;
    let terminated: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(database)
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    terminated.into_iter().filter(|done| *done).count()
}

/// Polls (every 20 ms, for at most [`SETTLE_LIMIT`]) until `sql`, a count over `pg_stat_activity`
/// for `database`, returns `expected`.
async fn wait_for_count(admin: &mut PgConnection, sql: &'static str, database: &str, expected: i64) {
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        refresh_activity(admin).await;
        let count: i64 = sqlx::query_scalar(sql).bind(database).fetch_one(&mut *admin).await.unwrap();
        if count == expected {
            return;
        }
        if Instant::now() >= deadline {
            // What every session of the database is doing, to show why it did not settle.
            let sessions: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT state, wait_event_type, left(query, 60) FROM pg_stat_activity WHERE datname = $1",
            )
            .bind(database)
            .fetch_all(&mut *admin)
            .await
            .unwrap();
            panic!("{sql}: still {count}, expected {expected}; sessions: {sessions:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sessions of `database` other than the caller's, and among them those waiting for a lock.
const OTHERS: &str = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()";
const WAITING_FOR_LOCK: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE datname = $1 AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'";

/// The SQLSTATE of the driver error behind a storage error, if it is a database error.
fn sqlstate(err: &StorageError) -> Option<String> {
    let source = err.source()?.downcast_ref::<sqlx::Error>()?;
    source.as_database_error()?.code().map(|code| code.into_owned())
}

/// Calls `get_user` until it succeeds (at most `attempts` times, 100 ms apart). Every failure on the
/// way must be `Unavailable`. Returns the user and how many attempts it took.
async fn get_user_when_back(db: &PostgresRepositoryProvider, user: &User, attempts: u32) -> (Option<User>, u32) {
    for attempt in 1..=attempts {
        match db.get_user(&user.id).await {
            Ok(found) => return (found, attempt),
            Err(err) if err.is_unavailable() => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(err) => panic!("while the database recovers, calls may only be Unavailable, got {err:?}"),
        }
    }
    panic!("service did not resume within {attempts} attempts");
}

/// The database terminates the pool's connections mid-run.
///
/// 1. Calls in flight when their connection is terminated fail at once with
///    `StorageError::Unavailable`, whose source is the server's `57P01` ("terminating connection due to
///    administrator command"). Nothing panics.
/// 2. Service resumes by itself: the pool drops the dead connections and opens new ones, so the next
///    call succeeds (within a bounded retry).
/// 3. Connections terminated while idle in the pool never reach a caller: the pool tests each one
///    before handing it out, so every call after that succeeds at the first attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_connections_fail_in_flight_calls_then_service_resumes() {
    let Some(database) = TestDatabase::create().await else { return };
    let db = database.migrated_provider().await;
    let user = db.create_user(&new_user(&unique_email("fault"))).await.unwrap();
    let mut admin = database.connection().await;

    // 1. Hold a lock that makes `get_user` wait inside the server, start calls, and terminate their
    //    connections while they wait.
    admin.execute("BEGIN").await.unwrap();
    admin.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let mut in_flight = JoinSet::new();
    for _ in 0..3 {
        let (db, id) = (db.clone(), user.id.clone());
        in_flight.spawn(async move { db.get_user(&id).await });
    }
    wait_for_count(&mut admin, WAITING_FOR_LOCK, database.name(), 3).await;
    assert!(terminate_others(&mut admin, database.name()).await >= 3);
    while let Some(joined) = in_flight.join_next().await {
        let result = joined.expect("a call must return an error, not panic");
        match result {
            Err(err @ StorageError::Unavailable(_)) => {
                assert_eq!(sqlstate(&err).as_deref(), Some("57P01"), "{err:?}");
                assert_eq!(err.to_string(), "storage unavailable");
            }
            other => panic!("a call whose connection was terminated must be Unavailable, got {other:?}"),
        }
    }
    admin.execute("ROLLBACK").await.unwrap();

    // 2. Service resumes by itself.
    let (found, attempts) = get_user_when_back(&db, &user, 50).await;
    assert_eq!(found, Some(user.clone()));
    eprintln!("service resumed after {attempts} attempt(s)");

    // 3. Open several connections, let them go idle, terminate them all and wait until they are gone.
    let mut calls = JoinSet::new();
    for _ in 0..6 {
        let (db, id) = (db.clone(), user.id.clone());
        calls.spawn(async move { db.get_user(&id).await });
    }
    while let Some(joined) = calls.join_next().await {
        assert_eq!(joined.unwrap().unwrap(), Some(user.clone()));
    }
    assert!(terminate_others(&mut admin, database.name()).await >= 1);
    wait_for_count(&mut admin, OTHERS, database.name(), 0).await;
    for _ in 0..10 {
        assert_eq!(db.get_user(&user.id).await.unwrap(), Some(user.clone()), "dead idle connections are replaced");
    }
    db.health_check().await.unwrap();
}

/// A server that is not listening is a quick, clear `Unavailable` (the pool's acquire timeout, five
/// seconds), not a hang and not a generic database error. Needs no server: it runs everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_unavailable_within_the_acquire_timeout() {
    // A loopback port nobody listens on: bind one, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let result = PostgresRepositoryProvider::connect(&format!("postgres://torii@127.0.0.1:{port}/torii")).await;
    let elapsed = started.elapsed();
    match result {
        Err(err @ StorageError::Unavailable(_)) => {
            let source = err.source().and_then(|s| s.downcast_ref::<sqlx::Error>());
            assert!(matches!(source, Some(sqlx::Error::PoolTimedOut)), "{err:?}");
        }
        other => panic!("an unreachable server must be Unavailable, got {other:?}"),
    }
    assert!(elapsed < ACQUIRE_TIMEOUT + Duration::from_secs(5), "took {elapsed:?}");
}
