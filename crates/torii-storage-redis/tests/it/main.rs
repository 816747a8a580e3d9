//! Integration tests of the Redis storage against a real Redis server (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`): the conformance suite, Redis-specific behaviour (data at rest, expiry,
//! leftovers, failures), the coordinator with users in SQLite and sessions in Redis, and two
//! independent HTTP instances sharing one SQLite file and one Redis.
//!
//! Without a reachable Redis every test prints a `SKIPPED` line and passes, unless `CI` is set, in which
//! case it fails. Each test works under its own random key prefix and deletes its keys afterwards; none
//! ever flushes a database, since other tests share the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, unreachable_pub, missing_docs)]

mod conformance;
mod coordinator;
mod http;
mod redis_specific;
mod support;
mod two_instances;
