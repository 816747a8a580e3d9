//! The `SessionStore` conformance checks (`torii_test_suite::session_data`) against the in-memory store,
//! the same checks the SQL and Redis stores run. Tests are named `session_store_conformance::session_data::<check>`.

use std::time::Duration;

use torii::session_store::InMemorySessionStore;

/// A fresh store whose entries may live a day: longer than any data the checks save.
async fn memory_store() -> Option<InMemorySessionStore> {
    Some(InMemorySessionStore::new(Duration::from_secs(86_400)))
}

torii_test_suite::session_data_store_tests!(memory_store);
