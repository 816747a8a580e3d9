//! What the conformance suite cannot see: the data as Redis holds it, the safety-net expiry, index
//! entries left behind, atomicity under races, and how failures are reported.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use redis::AsyncCommands as _;
use torii_core::storage::{RateLimitStorage as _, SessionStorage as _, TokenRevocationStorage as _};
use torii_core::{SessionId, SessionRecord, SessionToken, StorageError, UserId};
use torii_storage_redis::RedisSessionStorage;
use torii_test_suite::fixtures::{at_micros, now};

use crate::support::{keys_under, redis, redis_url};

fn session(user_id: &UserId, token: &SessionToken, created_at: chrono::DateTime<chrono::Utc>) -> SessionRecord {
    SessionRecord {
        id: SessionId::new_random(),
        token_hash: token.hash(),
        user_id: user_id.clone(),
        user_agent: Some("Mozilla/5.0".to_owned()),
        ip_address: Some("192.0.2.1".to_owned()),
        created_at,
        updated_at: created_at,
        expires_at: created_at + TimeDelta::hours(1),
    }
}

fn micros(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_micros()
}

/// Every key name and every value stored under the storage's prefix, as text.
async fn everything_stored(storage: &RedisSessionStorage) -> Vec<String> {
    let mut connection = storage.connection().clone();
    let mut seen = Vec::new();
    for key in keys_under(&redis_url(), storage.key_prefix()).unwrap() {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut connection).await.unwrap();
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "hash" => connection
                .hgetall::<_, Vec<(Vec<u8>, Vec<u8>)>>(&key)
                .await
                .unwrap()
                .into_iter()
                .flat_map(|(f, v)| [f, v])
                .collect(),
            "zset" => connection.zrange(&key, 0, -1).await.unwrap(),
            "string" => vec![connection.get(&key).await.unwrap()],
            other => panic!("unexpected key type {other}"),
        };
        seen.push(key);
        seen.extend(values.into_iter().map(|v| String::from_utf8_lossy(&v).into_owned()));
    }
    seen
}

#[tokio::test]
async fn tokens_never_reach_redis_only_their_hashes() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let token = SessionToken::new_random();
    storage.create_session(&session(&UserId::new("u1"), &token, now())).await.unwrap();
    let stored = everything_stored(&storage).await;
    assert!(stored.iter().any(|text| text.contains(token.hash().as_str())), "the hash is the key");
    assert!(stored.iter().all(|text| !text.contains(token.as_str())), "the token itself must never be stored");
}

#[tokio::test]
async fn layout_and_safety_net_expiry() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let prefix = storage.key_prefix().to_owned();
    let mut connection = storage.connection().clone();
    let user = UserId::new("u1");
    // Created in the year 2000 by Torii's clock: Redis must still keep it for its whole lifetime.
    let created_at = at_micros(946_684_800_000_001);
    let record = session(&user, &SessionToken::new_random(), created_at);
    storage.create_session(&record).await.unwrap();

    let hash = record.token_hash.as_str();
    let session_key = format!("{prefix}session:{hash}");
    let fields: Vec<(String, String)> = connection.hgetall(&session_key).await.unwrap();
    assert!(fields.contains(&("created_at".to_owned(), micros(created_at).to_string())), "{fields:?}");
    let id_target: String = connection.get(format!("{prefix}session_id:{}", record.id)).await.unwrap();
    assert_eq!(id_target, hash);
    let created_score: f64 = connection.zscore(format!("{prefix}user:u1:sessions"), hash).await.unwrap();
    assert_eq!(created_score, micros(created_at) as f64);
    let expiry_score: f64 = connection.zscore(format!("{prefix}sessions:by_expiry"), hash).await.unwrap();
    assert_eq!(expiry_score, micros(record.expires_at) as f64);

    // The lifetime (one hour) plus the five-minute margin, counted from the write.
    let hour = 3_600_000_i64;
    for key in [session_key, format!("{prefix}session_id:{}", record.id), format!("{prefix}user:u1:sessions")] {
        let ttl: i64 = connection.pttl(&key).await.unwrap();
        assert!(ttl > hour && ttl <= hour + 300_000, "{key}: {ttl} ms");
    }
    assert_eq!(storage.get_session(&record.token_hash, created_at).await.unwrap(), Some(record.clone()));

    // Denylist entries expire (by Redis's clock) five minutes after their token.
    let expires = now() + TimeDelta::hours(1);
    storage.revoke_token_id("jti-1", &user, expires).await.unwrap();
    let ttl: i64 = connection.pttl(format!("{prefix}revoked:jti-1")).await.unwrap();
    assert!(ttl > hour && ttl <= hour + 300_000, "denylist entry: {ttl} ms");
    storage.revoke_all_before(&user, now()).await.unwrap();
    let ttl: i64 = connection.pttl(format!("{prefix}not_before:u1")).await.unwrap();
    assert_eq!(ttl, -1, "a not-before time must not expire");
}

#[tokio::test]
async fn deleting_sessions_leaves_no_key_behind() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let (alice, bob) = (UserId::new("alice"), UserId::new("bob:sessions"));
    let now = now();
    let mut records = Vec::new();
    for (i, user) in [&alice, &alice, &alice, &alice, &bob, &bob].into_iter().enumerate() {
        let record = session(user, &SessionToken::new_random(), now - TimeDelta::minutes(i as i64));
        storage.create_session(&record).await.unwrap();
        records.push(record);
    }
    assert!(storage.delete_session(&records[0].token_hash).await.unwrap());
    assert!(storage.delete_session_by_id(&alice, &records[1].id).await.unwrap());
    assert_eq!(storage.delete_sessions_for_user(&alice, Some(&records[2].id)).await.unwrap(), 1);
    assert_eq!(storage.delete_sessions_for_user(&alice, None).await.unwrap(), 1);
    // Bob's sessions expire and are cleaned up.
    assert_eq!(storage.cleanup_expired_sessions(now + TimeDelta::hours(2), 10).await.unwrap(), 2);

    // Denylist entries go with their cleanup too.
    storage.revoke_token_id("jti-gone", &alice, now - TimeDelta::minutes(1)).await.unwrap();
    assert_eq!(storage.cleanup_revoked_tokens(now, 10).await.unwrap(), 1);

    let left = keys_under(&redis_url(), storage.key_prefix()).unwrap();
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

#[tokio::test]
async fn sessions_dropped_by_redis_are_cleaned_from_the_indexes() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let prefix = storage.key_prefix().to_owned();
    let mut connection = storage.connection().clone();
    let user = UserId::new("u1");
    let now = now();
    let record = session(&user, &SessionToken::new_random(), now);
    storage.create_session(&record).await.unwrap();
    // What Redis's own expiry does: the session hash and id key vanish, the sets keep their members.
    let _: u64 = connection
        .del(&[format!("{prefix}session:{}", record.token_hash.as_str()), format!("{prefix}session_id:{}", record.id)])
        .await
        .unwrap();

    assert_eq!(storage.get_session(&record.token_hash, now).await.unwrap(), None);
    assert!(storage.list_sessions_for_user(&user, now).await.unwrap().is_empty());
    assert!(!storage.touch_session(&record.token_hash, now).await.unwrap(), "no stray hash is created");
    assert_eq!(storage.cleanup_expired_sessions(record.expires_at, 10).await.unwrap(), 1);
    let left = keys_under(&redis_url(), &prefix).unwrap();
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

#[tokio::test]
async fn racing_creates_of_one_token_store_exactly_one() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let token = SessionToken::new_random();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let storage = storage.clone();
        let record = session(&UserId::new("u1"), &token, now());
        tasks.spawn(async move { storage.create_session(&record).await });
    }
    let (mut stored, mut conflicts) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(()) => stored += 1,
            Err(StorageError::Conflict(_)) => conflicts += 1,
            Err(err) => panic!("unexpected error: {err:?}"),
        }
    }
    assert_eq!((stored, conflicts), (1, 19));
    assert_eq!(storage.list_sessions_for_user(&UserId::new("u1"), now()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn racing_cleanups_count_each_session_once() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let long_ago = at_micros(946_684_800_000_000);
    for _ in 0..30 {
        storage.create_session(&session(&UserId::new("u1"), &SessionToken::new_random(), long_ago)).await.unwrap();
    }
    let (a, b) = tokio::join!(
        storage.cleanup_expired_sessions(long_ago + TimeDelta::days(1), 20),
        storage.cleanup_expired_sessions(long_ago + TimeDelta::days(1), 20),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 30);
}

#[tokio::test]
async fn corrupt_values_are_reported_without_quoting_them() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let prefix = storage.key_prefix().to_owned();
    let mut connection = storage.connection().clone();
    let record = session(&UserId::new("u1"), &SessionToken::new_random(), now());
    storage.create_session(&record).await.unwrap();
    let key = format!("{prefix}session:{}", record.token_hash.as_str());
    let _: u64 = connection.hset(&key, "expires_at", "not-a-time-secret").await.unwrap();
    match storage.get_session(&record.token_hash, now()).await {
        Err(StorageError::Corrupt(message)) => assert!(!message.contains("secret"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }

    let _: () = connection.set(format!("{prefix}not_before:u1"), "yesterday-secret").await.unwrap();
    match storage.revoked_before(&UserId::new("u1")).await {
        Err(StorageError::Corrupt(message)) => assert!(!message.contains("secret"), "{message}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }

    // A key of the wrong type is a database error that names no key.
    let other = SessionToken::new_random();
    let _: () = connection.set(format!("{prefix}session:{}", other.hash().as_str()), "x").await.unwrap();
    match storage.get_session(&other.hash(), now()).await {
        Err(err @ StorageError::Database(_)) => {
            let text = format!("{err} {:?}", std::error::Error::source(&err));
            assert!(!text.contains(other.hash().as_str()), "{text}");
        }
        other => panic!("expected Database, got {other:?}"),
    }
}

/// Needs no server: nothing listens on port 1.
#[tokio::test]
async fn unreachable_redis_is_a_quick_unavailable_error() {
    let started = Instant::now();
    let err = RedisSessionStorage::connect("redis://127.0.0.1:1").await.expect_err("nothing listens on port 1");
    assert!(err.is_unavailable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(std::error::Error::source(&err).is_some(), "the driver's error is kept");
}

/// Application session data is one string key per id, `{prefix}data:{id}`, holding the data as JSON and
/// expiring in Redis with the data; deleting it leaves nothing behind.
#[tokio::test]
async fn session_data_is_one_key_that_expires_with_the_data() {
    use torii_core::session_store::{SessionData, SessionStore as _};

    let Some((storage, _cleanup)) = redis().await else { return };
    let mut data = SessionData::new(Duration::from_secs(600));
    data.set("cart", "3");
    storage.save("visitor-1", data.clone()).await.unwrap();

    let key = format!("{}data:visitor-1", storage.key_prefix());
    assert_eq!(keys_under(&redis_url(), storage.key_prefix()).unwrap(), std::slice::from_ref(&key));
    let mut connection = storage.connection().clone();
    let json: Vec<u8> = connection.get(&key).await.unwrap();
    assert_eq!(serde_json::from_slice::<SessionData>(&json).unwrap(), data);
    let ttl: i64 = connection.pttl(&key).await.unwrap();
    assert!(ttl > 590_000 && ttl <= 600_000, "the key expires with the data: {ttl} ms left");

    storage.delete("visitor-1").await.unwrap();
    assert!(keys_under(&redis_url(), storage.key_prefix()).unwrap().is_empty());
}

/// Rate-limit keys (email addresses, here) never reach Redis, only their hashes; the counter has a
/// safety-net expiry; a reset and a cleanup leave no key behind.
#[tokio::test]
async fn rate_limit_keys_are_hashed_and_leave_nothing_behind() {
    let Some((storage, _cleanup)) = redis().await else { return };
    let mut connection = storage.connection().clone();
    let now = now();
    let window = TimeDelta::minutes(15);
    storage.hit_rate_limit("mail:ada@example.com", now, window, 3).await.unwrap();
    storage.hit_rate_limit("mail:bob@example.com", now - TimeDelta::hours(1), window, 3).await.unwrap();
    let stored = everything_stored(&storage).await;
    assert!(!stored.iter().any(|text| text.contains("example.com")), "keys must be stored hashed: {stored:?}");
    let counter =
        format!("{}rate_limit:{}", storage.key_prefix(), torii_core::TokenHash::of("mail:ada@example.com").as_str());
    let ttl: i64 = connection.pttl(&counter).await.unwrap();
    // It outlives its window by one more, while it weighs on the next window's decisions.
    let most = (window * 2 + TimeDelta::minutes(5)).num_milliseconds();
    assert!(ttl > window.num_milliseconds() && ttl <= most, "the counter expires after the next window (ttl {ttl} ms)");

    storage.reset_rate_limit("mail:ada@example.com").await.unwrap();
    assert_eq!(storage.cleanup_expired_rate_limits(now, 10).await.unwrap(), 1, "Bob's counter has expired");
    let left = keys_under(&redis_url(), storage.key_prefix()).unwrap();
    assert!(left.is_empty(), "keys left behind: {left:?}");
}
