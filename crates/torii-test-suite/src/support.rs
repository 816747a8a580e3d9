//! Assertion helpers shared by the checks. They take the already-awaited result so `#[track_caller]`
//! points a failure at the line of the check that made the call.

use std::error::Error as _;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use tokio::sync::Barrier;
use tokio::task::JoinSet;
use torii_core::{StorageError, StorageResult};

/// How many tasks race in the concurrency checks.
pub(crate) const RACERS: usize = 50;

/// The error with its whole source chain: the driver's message is usually in a source, and it is what
/// a developer needs to see when a check fails.
pub(crate) fn describe(err: &StorageError) -> String {
    let mut text = format!("{err} [{err:?}]");
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!("; caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// The value of a call that must succeed.
#[track_caller]
pub(crate) fn ok<T>(result: StorageResult<T>, call: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{call} should succeed, but failed: {}", describe(&err)),
    }
}

/// Asserts that a call was refused with `StorageError::Conflict`.
#[track_caller]
pub(crate) fn expect_conflict<T: Debug>(result: StorageResult<T>, call: &str) {
    match result {
        Err(StorageError::Conflict(_)) => {}
        Err(err) => panic!("{call} should fail with StorageError::Conflict, but failed with {}", describe(&err)),
        Ok(value) => panic!("{call} should fail with StorageError::Conflict, but succeeded with {value:?}"),
    }
}

/// Asserts that a call was refused with `StorageError::NotFound`.
#[track_caller]
pub(crate) fn expect_not_found<T: Debug>(result: StorageResult<T>, call: &str) {
    match result {
        Err(StorageError::NotFound(_)) => {}
        Err(err) => panic!("{call} should fail with StorageError::NotFound, but failed with {}", describe(&err)),
        Ok(value) => panic!("{call} should fail with StorageError::NotFound, but succeeded with {value:?}"),
    }
}

/// For writes of a value containing a NUL byte: `true` when it was stored (and must then read back
/// exactly), `false` when it was refused with `StorageError::InvalidData`. Any other error fails.
#[track_caller]
pub(crate) fn stored_or_invalid_data<T>(result: StorageResult<T>, call: &str) -> bool {
    match result {
        Ok(_) => true,
        Err(StorageError::InvalidData(_)) => false,
        Err(err) => panic!(
            "{call} with a NUL byte should either store it exactly or fail with StorageError::InvalidData, \
             but failed with {}",
            describe(&err)
        ),
    }
}

/// Runs `RACERS` copies of `make(i)` at once (each task waits on a barrier first, so they really
/// overlap) on the multi-threaded runtime, and returns their outputs in task order.
///
/// # Panics
/// When a task panics.
pub(crate) async fn race<T, F, Fut>(make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = JoinSet::new();
    for i in 0..RACERS {
        let barrier = Arc::clone(&barrier);
        let task = make(i);
        tasks.spawn(async move {
            barrier.wait().await;
            (i, task.await)
        });
    }
    let mut outputs: Vec<Option<T>> = (0..RACERS).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, output)) => outputs[i] = Some(output),
            Err(err) => panic!("a racing task failed: {err}"),
        }
    }
    outputs.into_iter().map(|output| output.expect("every task reported")).collect()
}
