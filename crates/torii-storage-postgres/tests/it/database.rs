//! Fresh databases for tests: one per test, on the server named by `TORII_TEST_POSTGRES_URL` (default
//! [`DEFAULT_URL`]), dropped when the test is done with it.
//!
//! A database is named `torii_t_<unix seconds>_<random>`. Tests run in parallel (threads of this binary,
//! and other runs on the same server), so nothing here touches a database it did not create, except
//! the sweep of abandoned ones: older than an hour and with nobody connected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};
use torii_storage_postgres::PostgresRepositoryProvider;

/// The server the tests use unless `TORII_TEST_POSTGRES_URL` names another. The role must be allowed
/// to create databases.
pub(crate) const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Every test database's name starts with this.
const PREFIX: &str = "torii_t_";

/// A test database older than this, with no connections, was left by a run that was killed before
/// it could drop it.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// How long to wait for the server to accept a connection before treating it as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The administrative connection settings: the server and role tests create databases with.
fn admin_options() -> PgConnectOptions {
    let url = std::env::var("TORII_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    url.parse().expect("TORII_TEST_POSTGRES_URL must be a PostgreSQL URL")
}

/// Opens an administrative connection, or says why the server is unavailable (without the password).
async fn connect_admin(admin: &PgConnectOptions) -> Result<PgConnection, String> {
    let server = format!("{}:{}", admin.get_host(), admin.get_port());
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(admin)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(format!("cannot connect to {server}: {err}")),
        Err(_) => Err(format!("no answer from {server} within {CONNECT_TIMEOUT:?}")),
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// When a test database was created, read from its name; `None` for names not made by [`TestDatabase`].
fn created_at(name: &str) -> Option<u64> {
    name.strip_prefix(PREFIX)?.split('_').next()?.parse().ok()
}

/// Drops databases left by runs that died before dropping their own: older than [`ABANDONED_AFTER`]
/// and with no connection. Without FORCE, so if anyone connects in between, the drop fails and the
/// database stays. Failures are reported, never fatal: the sweep is housekeeping.
async fn sweep_abandoned(conn: &mut PgConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname FROM pg_database d WHERE datname LIKE $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)",
    )
    .bind(format!("{}%", PREFIX.replace('_', "\\_")))
    .fetch_all(&mut *conn)
    .await
    {
        Ok(names) => names,
        Err(err) => {
            eprintln!("could not list abandoned test databases: {err}");
            return;
        }
    };
    let cutoff = unix_seconds().saturating_sub(ABANDONED_AFTER.as_secs());
    for name in names {
        if created_at(&name).is_some_and(|created| created < cutoff) {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\"");
            if let Err(err) = conn.execute(AssertSqlSafe(sql)).await {
                eprintln!("could not drop abandoned test database {name}: {err}");
            }
        }
    }
}

/// A database created for one test, dropped (`WITH (FORCE)`, which also ends its connections) when the
/// last handle to it goes.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    name: String,
    admin: PgConnectOptions,
}

impl TestDatabase {
    /// Creates a fresh, empty database. When the server is unreachable, returns what
    /// [`torii_test_suite::skip_or_fail`] decides: `None` (the test is skipped) or, under `CI`, a panic.
    pub(crate) async fn create() -> Option<Arc<Self>> {
        static SWEPT: AtomicBool = AtomicBool::new(false);

        let admin = admin_options();
        let mut conn = match connect_admin(&admin).await {
            Ok(conn) => conn,
            Err(reason) => return torii_test_suite::skip_or_fail("PostgreSQL", &reason),
        };
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep_abandoned(&mut conn).await;
        }
        let name = format!("{PREFIX}{}_{}", unix_seconds(), torii_test_suite::fixtures::random_suffix());
        conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await
            .unwrap_or_else(|err| panic!("cannot create a test database (may the role create databases?): {err}"));
        let _ = conn.close().await;
        Some(Arc::new(Self { name, admin }))
    }

    /// The database's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Connection settings for this database.
    pub(crate) fn connect_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    /// A provider on this database with exactly the pool settings of
    /// [`PostgresRepositoryProvider::connect`], not yet migrated. The pool keeps the database alive:
    /// it is dropped once the provider, its clones and everyone else holding it are gone.
    pub(crate) async fn provider(self: &Arc<Self>) -> PostgresRepositoryProvider {
        let keep_alive = Arc::clone(self);
        let pool = PostgresRepositoryProvider::pool_options()
            // A hook that does nothing but own the database handle, so the pool owns it.
            .after_connect(move |_conn, _meta| {
                let _owner = &keep_alive;
                Box::pin(async { Ok(()) })
            })
            .connect_with(self.connect_options())
            .await
            .expect("connect to the test database");
        PostgresRepositoryProvider::new(pool)
    }

    /// A migrated provider on this database (see [`TestDatabase::provider`]).
    pub(crate) async fn migrated_provider(self: &Arc<Self>) -> PostgresRepositoryProvider {
        let provider = self.provider().await;
        provider.migrate().await.expect("migrate the test database");
        provider
    }

    /// A connection of the test's own to this database, outside any provider's pool.
    pub(crate) async fn connection(&self) -> PgConnection {
        PgConnection::connect_with(&self.connect_options()).await.expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop can run inside the test's runtime, which must not be blocked on from within, so the
        // statement runs on a thread with a runtime of its own. Joining it means the database is gone
        // before the test (and, for the last test, the process) ends.
        let name = std::mem::take(&mut self.name);
        let admin = self.admin.clone();
        let dropper = std::thread::spawn(move || -> Result<(), String> {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = connect_admin(&admin).await?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                conn.execute(AssertSqlSafe(sql)).await.map_err(|e| format!("DROP DATABASE {name}: {e}"))?;
                let _ = conn.close().await;
                Ok(())
            })
        });
        match dropper.join() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("could not drop a test database: {err}"),
            Err(_) => eprintln!("the thread dropping a test database panicked"),
        }
    }
}

#[test]
fn names_carry_their_creation_time() {
    assert_eq!(created_at("torii_t_1767225600_abc123"), Some(1_767_225_600));
    assert_eq!(created_at("torii_t_notanumber_abc"), None);
    assert_eq!(created_at("postgres"), None);
}
