//! The storage conformance suite: sessions through `SplitStorage` (users in in-memory SQLite, sessions
//! in Redis, exactly as `Torii::with_storages` combines them), and revocation, rate-limit counters and
//! the application's session data (`SessionStore`) on Redis alone. Tests are named
//! `conformance::sessions::<check>`, `conformance::revocation::<check>`,
//! `conformance::rate_limits::<check>` and `conformance::session_data::<check>`.

use crate::support::{rate_limit_backend, revocation_backend, session_data_backend, sessions_backend};

torii_test_suite::session_storage_tests!(sessions_backend);
torii_test_suite::revocation_storage_tests!(revocation_backend);
torii_test_suite::rate_limit_storage_tests!(rate_limit_backend);
torii_test_suite::session_data_store_tests!(session_data_backend);
