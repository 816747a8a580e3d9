//! The example server on PostgreSQL, chosen by `DATABASE_URL` alone.
//!
//! The server is `TORII_TEST_POSTGRES_URL`, or `postgres://postgres@127.0.0.1:5432/postgres` when it is
//! not set (as for the PostgreSQL backend's tests); the role must be allowed to create databases. Each
//! test gets a fresh database named `torii_t_<unix seconds>_<random>`, dropped afterwards; the backend's
//! tests sweep up any a killed run leaves behind. When the server cannot be reached the test prints
//! `SKIPPED` and passes, unless `CI` is set, in which case it fails.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, PgConnection};

use crate::support::Server;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A database created for one test on the shared server, dropped (with its connections) when dropped.
pub(crate) struct TestDatabase {
    name: String,
    admin: PgConnectOptions,
    runtime: tokio::runtime::Runtime,
}

impl TestDatabase {
    /// Creates a fresh, empty database, or returns `None` (after printing `SKIPPED`) when the server
    /// is unreachable; under `CI` an unreachable server fails the test instead.
    pub(crate) fn create() -> Option<Self> {
        let url = std::env::var("TORII_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let admin: PgConnectOptions = url.parse().expect("TORII_TEST_POSTGRES_URL must be a PostgreSQL URL");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut conn = match runtime.block_on(connect(&admin)) {
            Ok(conn) => conn,
            Err(reason) => {
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                    panic!("PostgreSQL is unavailable ({reason}), and CI is set, so this test must not be skipped");
                }
                // Written to the real stderr, past the test harness's capture, so a skip is never silent.
                let _ = writeln!(std::io::stderr(), "SKIPPED example-web on PostgreSQL: {reason}");
                return None;
            }
        };
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let name =
            format!("torii_t_{}_web{}x{}", since_epoch.as_secs(), std::process::id(), since_epoch.subsec_nanos());
        runtime.block_on(async {
            conn.execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .await
                .unwrap_or_else(|err| panic!("cannot create a test database (may the role create databases?): {err}"));
            let _ = conn.close().await;
        });
        Some(Self { name, admin, runtime })
    }

    /// The URL the server gets: the admin URL with this database's name as the `dbname` parameter,
    /// which takes precedence over the URL's path.
    pub(crate) fn url(&self) -> String {
        let url = std::env::var("TORII_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}dbname={}", self.name)
    }

    /// Runs `sql` (a single scalar count) against this database.
    pub(crate) fn count(&self, sql: &'static str, bind: &str) -> i64 {
        self.runtime.block_on(async {
            let mut conn = PgConnection::connect_with(&self.admin.clone().database(&self.name)).await.unwrap();
            let count = sqlx::query_scalar(sql).bind(bind).fetch_one(&mut conn).await.unwrap();
            let _ = conn.close().await;
            count
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let result = self.runtime.block_on(async {
            let mut conn = connect(&self.admin).await?;
            conn.execute(AssertSqlSafe(sql)).await.map_err(|err| err.to_string())?;
            let _ = conn.close().await;
            Ok::<_, String>(())
        });
        if let Err(err) = result {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

/// Connects to the server, or says why it is unavailable (without the password).
async fn connect(options: &PgConnectOptions) -> Result<PgConnection, String> {
    let server = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(format!("cannot connect to {server}: {err}")),
        Err(_) => Err(format!("no answer from {server} within 10 s")),
    }
}

/// Register, log in and use the protected route, with everything stored in PostgreSQL.
#[test]
fn register_log_in_and_use_the_protected_route_on_postgres() {
    let Some(database) = TestDatabase::create() else { return };
    // Declared after the database, so it stops before the database is dropped.
    let server = Server::start_on(&database.url());

    let credentials = json!({ "email": "grace@example.com", "password": "compiler cobol 1959" }).to_string();
    let registered = server.request("POST", "/auth/register", &[JSON], Some(&credentials));
    assert_eq!(registered.status, 201, "{}", registered.body);

    let login = server.request("POST", "/auth/login", &[JSON], Some(&credentials));
    assert_eq!(login.status, 200, "{}", login.body);
    let set_cookie = login.header("set-cookie").expect("a session cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let me = server.request("GET", "/protected", &[("Cookie", cookie.as_str())], None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], "grace@example.com");
    assert_eq!(server.get("/protected").status, 401);
    assert_eq!(server.get("/auth/health").json(), json!({ "status": "ok" }));

    // The data really is in this PostgreSQL database: the user, and the login's session (signing up
    // logs nobody in: the example conceals existing accounts).
    let users = database.count("SELECT count(*) FROM users WHERE email = $1", "grace@example.com");
    assert_eq!(users, 1);
    let sessions = database.count(
        "SELECT count(*) FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.email = $1",
        "grace@example.com",
    );
    assert_eq!(sessions, 1);
}
