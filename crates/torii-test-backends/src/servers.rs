//! Fresh databases on the PostgreSQL and MySQL/MariaDB servers.
//!
//! Each [`FreshDatabase`] is created empty for one test and dropped when the last handle to it goes.
//! Databases are named `torii_f_<unix seconds>_<random>`; ones older than an hour were left by a run
//! that was killed before it could drop them, and the first database created by a process sweeps them.
//!
//! The servers are the ones the storage crates' tests use: `TORII_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `TORII_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`); the roles must be allowed to create databases.
//!
//! A test keeps its database alive by holding the `Arc<FreshDatabase>`; a pool can hold it for the test
//! (for example from a `after_connect` hook that owns a clone), so the database goes exactly when the
//! pool does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection as _, Executor as _, MySqlConnection, PgConnection};

use torii_test_suite::fixtures::random_suffix;
use torii_test_suite::skip_or_fail;

/// Every database made here starts with this.
const PREFIX: &str = "torii_f_";

/// A database older than this was left behind by a run that died.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// How long to wait for a server before calling it unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Server {
    /// The name used in skip notices.
    pub fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::MySql => "MySQL/MariaDB",
        }
    }

    /// The administrative URL: from the environment, or the local default.
    pub fn admin_url(self) -> String {
        let (variable, default) = match self {
            Self::Postgres => ("TORII_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
            Self::MySql => ("TORII_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306"),
        };
        std::env::var(variable).ok().filter(|url| !url.is_empty()).unwrap_or_else(|| default.to_owned())
    }
}

impl Server {
    /// Whether the server accepts TCP connections, checked without a runtime (so a synchronous
    /// precondition can use it). When it does not, reports it like [`skip_or_fail`]: returns `false`
    /// on a developer machine, panics under `CI`.
    ///
    /// # Panics
    /// Under `CI` when the server is unreachable.
    pub fn reachable_or_skip(self) -> bool {
        use std::net::{TcpStream, ToSocketAddrs as _};

        let url = self.admin_url();
        let default_port = match self {
            Self::Postgres => 5432,
            Self::MySql => 3306,
        };
        let authority = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let authority = authority.split(['/', '?']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let address =
            if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:{default_port}") };
        let reachable = address
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .is_some_and(|addr| TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).is_ok());
        reachable || skip_or_fail::<()>(self.label(), &format!("nothing answers at {address}")).is_some()
    }
}

/// An administrative connection to one server.
enum Admin {
    Postgres(PgConnection),
    MySql(MySqlConnection),
}

impl Admin {
    async fn connect(server: Server, url: &str) -> Result<Self, String> {
        let connect = async {
            match server {
                Server::Postgres => PgConnection::connect(url).await.map(Self::Postgres),
                Server::MySql => MySqlConnection::connect(url).await.map(Self::MySql),
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(admin)) => Ok(admin),
            Ok(Err(err)) => Err(format!("cannot connect: {err}")),
            Err(_) => Err(format!("no answer within {CONNECT_TIMEOUT:?}")),
        }
    }

    async fn execute(&mut self, sql: String) -> Result<(), String> {
        let result = match self {
            Self::Postgres(conn) => conn.execute(AssertSqlSafe(sql)).await.map(drop),
            Self::MySql(conn) => conn.execute(AssertSqlSafe(sql)).await.map(drop),
        };
        result.map_err(|err| err.to_string())
    }

    async fn database_names(&mut self) -> Result<Vec<String>, String> {
        let result = match self {
            Self::Postgres(conn) => {
                sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'torii\\_f\\_%'")
                    .fetch_all(conn)
                    .await
            }
            Self::MySql(conn) => {
                sqlx::query_scalar(
                    "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA \
                     WHERE SCHEMA_NAME LIKE 'torii\\_f\\_%'",
                )
                .fetch_all(conn)
                .await
            }
        };
        result.map_err(|err| err.to_string())
    }

    async fn close(self) {
        let _ = match self {
            Self::Postgres(conn) => conn.close().await,
            Self::MySql(conn) => conn.close().await,
        };
    }
}

fn drop_sql(server: Server, name: &str) -> String {
    match server {
        // FORCE ends the connections a pool may still be closing.
        Server::Postgres => format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        Server::MySql => format!("DROP DATABASE IF EXISTS `{name}`"),
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// When a database was created, read from its name; `None` for names not made here.
fn created_at(name: &str) -> Option<u64> {
    name.strip_prefix(PREFIX)?.split('_').next()?.parse().ok()
}

/// `url` with its database (path) replaced by `name`, keeping credentials, host and parameters.
fn with_database(url: &str, name: &str) -> String {
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

/// Drops databases made here by runs that died: older than [`ABANDONED_AFTER`]. Housekeeping only:
/// failures are reported, never fatal.
async fn sweep_abandoned(server: Server, admin: &mut Admin) {
    let names = match admin.database_names().await {
        Ok(names) => names,
        Err(err) => {
            eprintln!("could not list abandoned {} test databases: {err}", server.label());
            return;
        }
    };
    let cutoff = unix_seconds().saturating_sub(ABANDONED_AFTER.as_secs());
    for name in names {
        if created_at(&name).is_some_and(|created| created < cutoff)
            && let Err(err) = admin.execute(drop_sql(server, &name)).await
        {
            eprintln!("could not drop abandoned test database {name}: {err}");
        }
    }
}

/// A database created for one test, dropped when the last handle to it goes.
#[derive(Debug)]
pub struct FreshDatabase {
    server: Server,
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    /// Creates an empty database on `server` (`utf8mb4` on MySQL). When the server cannot be reached,
    /// returns what [`skip_or_fail`] decides: `None` on a developer machine, a panic under `CI`.
    ///
    /// # Panics
    /// When the server answers but refuses to create the database, or under `CI` when it is unreachable.
    pub async fn create(server: Server) -> Option<Arc<Self>> {
        static SWEPT_POSTGRES: AtomicBool = AtomicBool::new(false);
        static SWEPT_MYSQL: AtomicBool = AtomicBool::new(false);

        let admin_url = server.admin_url();
        let mut admin = match Admin::connect(server, &admin_url).await {
            Ok(admin) => admin,
            Err(reason) => return skip_or_fail(server.label(), &reason),
        };
        let swept = match server {
            Server::Postgres => &SWEPT_POSTGRES,
            Server::MySql => &SWEPT_MYSQL,
        };
        if !swept.swap(true, Ordering::SeqCst) {
            sweep_abandoned(server, &mut admin).await;
        }
        let name = format!("{PREFIX}{}_{}", unix_seconds(), random_suffix());
        let create = match server {
            Server::Postgres => format!("CREATE DATABASE \"{name}\""),
            Server::MySql => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
        };
        if let Err(err) = admin.execute(create).await {
            panic!("cannot create a {} test database (may the role create databases?): {err}", server.label());
        }
        admin.close().await;
        Some(Arc::new(Self { server, admin_url, name }))
    }

    /// The server it lives on.
    pub fn server(&self) -> Server {
        self.server
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL for this database: the administrative URL with the database replaced.
    pub fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Drop can run on the test's runtime, which must not be blocked on from within: the statement
        // runs on a thread with a runtime of its own, joined so the database is gone when this returns.
        let (server, admin_url, name) = (self.server, self.admin_url.clone(), std::mem::take(&mut self.name));
        let dropper = std::thread::spawn(move || -> Result<(), String> {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut admin = Admin::connect(server, &admin_url).await?;
                admin.execute(drop_sql(server, &name)).await.map_err(|e| format!("dropping {name}: {e}"))?;
                admin.close().await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_creation_time() {
        assert_eq!(created_at("torii_f_1767225600_abc123"), Some(1_767_225_600));
        assert_eq!(created_at("torii_f_x_abc"), None);
        assert_eq!(created_at("postgres"), None);
    }

    #[test]
    fn urls_get_the_database_replaced() {
        assert_eq!(with_database("mysql://root@127.0.0.1:3306", "db"), "mysql://root@127.0.0.1:3306/db");
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "db"),
            "postgres://u:p@h:5432/db?sslmode=disable"
        );
    }
}
