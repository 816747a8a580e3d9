//! The storage conformance suite: sessions through `SplitStorage` (users in in-memory SQLite, sessions
//! in Redis, exactly as `Torii::with_storages` combines them) and revocation on Redis alone. Tests are
//! named `conformance::sessions::<check>` and `conformance::revocation::<check>`.

use crate::support::{revocation_backend, sessions_backend};

torii_test_suite::session_storage_tests!(sessions_backend);
torii_test_suite::revocation_storage_tests!(revocation_backend);
