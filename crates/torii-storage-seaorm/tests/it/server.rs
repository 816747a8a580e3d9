//! Fresh databases on a PostgreSQL or MySQL/MariaDB server: created per test, dropped afterwards, and
//! leftovers of interrupted runs swept away.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use torii_storage_seaorm::SeaORMStorage;
use torii_storage_seaorm::sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbErr};

use crate::test_db::{Cleanup, TestDb};

/// Every test database's name starts with this, followed by its creation time (Unix seconds) and a
/// random suffix, so a sweep can tell old leftovers from databases of runs in progress.
const PREFIX: &str = "torii_so_";

/// Databases older than this belong to a finished (or killed) run.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// A database server the tests can use.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Server {
    Postgres,
    MySql,
}

impl Server {
    /// The name `skip_or_fail` reports.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL",
        }
    }

    /// The administrative URL: from the environment, or the local default.
    pub(crate) fn admin_url(self) -> String {
        let (variable, default) = match self {
            Self::Postgres => ("TORII_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
            Self::MySql => ("TORII_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
        };
        std::env::var(variable).ok().filter(|url| !url.is_empty()).unwrap_or_else(|| default.to_owned())
    }

    /// Lists databases on the server.
    fn list_sql(self) -> &'static str {
        match self {
            Self::Postgres => "SELECT datname FROM pg_database",
            Self::MySql => "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA",
        }
    }

    /// Drops a database, even while connections to it are open (PostgreSQL refuses otherwise; MySQL
    /// only waits for open transactions).
    fn drop_sql(self, name: &str) -> String {
        match self {
            Self::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            Self::MySql => format!("DROP DATABASE IF EXISTS {name}"),
        }
    }

    /// Creates a database; on MySQL with `utf8mb4` (the tables choose their own collation anyway).
    fn create_sql(self, name: &str) -> String {
        match self {
            Self::Postgres => format!("CREATE DATABASE {name}"),
            Self::MySql => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        }
    }
}

/// `url` with its database (path) replaced by `name`, keeping credentials, host and parameters.
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut result = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// An administrative connection (one connection, short timeouts).
pub(crate) async fn admin(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).connect_timeout(Duration::from_secs(5)).sqlx_logging(false);
    Database::connect(options).await
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Drops test databases older than [`LEFTOVER_AGE`] (their creation time is in their name). Databases of
/// other runs still in progress are younger and stay.
async fn sweep_leftovers(server: Server, admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(torii_storage_seaorm::sea_orm::Statement::from_string(
            admin.get_database_backend(),
            server.list_sql(),
        ))
        .await
    else {
        return;
    };
    let cutoff = unix_seconds().saturating_sub(LEFTOVER_AGE.as_secs());
    for row in rows {
        let Ok(name) = row.try_get_by_index::<String>(0) else { continue };
        let Some(created) = name.strip_prefix(PREFIX).and_then(|rest| rest.split('_').next()) else { continue };
        if created.parse::<u64>().is_ok_and(|created| created < cutoff) {
            let _ = admin.execute_unprepared(&server.drop_sql(&name)).await;
        }
    }
}

/// A database on a server that is dropped when this value is.
pub(crate) struct ServerDatabase {
    server: Server,
    admin_url: String,
    name: String,
}

impl Drop for ServerDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (or while a failed test unwinds), where blocking on a
        // future is not allowed: do it on a thread of its own with a runtime of its own.
        let (admin_url, sql, name) = (self.admin_url.clone(), self.server.drop_sql(&self.name), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let admin = admin(&admin_url).await.map_err(|e| e.to_string())?;
                admin.execute_unprepared(&sql).await.map_err(|e| e.to_string())?;
                admin.close().await.map_err(|e| e.to_string())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {name}: {dropped:?}");
        }
    }
}

/// Creates a fresh database on `server` and returns its URL with the guard that drops it, or `None`
/// (through `skip_or_fail`) when the server cannot be reached.
pub(crate) async fn fresh_database(server: Server) -> Option<(String, ServerDatabase)> {
    static SWEPT_POSTGRES: OnceLock<()> = OnceLock::new();
    static SWEPT_MYSQL: OnceLock<()> = OnceLock::new();
    let swept = match server {
        Server::Postgres => &SWEPT_POSTGRES,
        Server::MySql => &SWEPT_MYSQL,
    };
    let admin_url = server.admin_url();
    let admin = match admin(&admin_url).await {
        Ok(admin) => admin,
        Err(err) => return torii_test_suite::skip_or_fail(server.label(), &err.to_string()),
    };
    if swept.set(()).is_ok() {
        sweep_leftovers(server, &admin).await;
    }
    let name = format!("{PREFIX}{}_{}", unix_seconds(), torii_test_suite::fixtures::random_suffix());
    admin.execute_unprepared(&server.create_sql(&name)).await.expect("create a test database");
    let _ = admin.close().await;
    let url = with_database(&admin_url, &name);
    Some((url, ServerDatabase { server, admin_url, name }))
}

/// A fresh, migrated database on `server`, as the conformance suite's factories return it.
pub(crate) async fn backend(server: Server) -> Option<TestDb> {
    let (url, database) = fresh_database(server).await?;
    let storage = SeaORMStorage::connect(&url).await.expect("connect to the test database");
    storage.migrate().await.expect("migrate the test database");
    Some(TestDb::new(storage.into_repository_provider(), Cleanup::Server(database)))
}

#[test]
fn urls_get_their_database_replaced() {
    assert_eq!(with_database("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
    assert_eq!(with_database("mysql://root@127.0.0.1:3306", "x"), "mysql://root@127.0.0.1:3306/x");
    assert_eq!(with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
}
