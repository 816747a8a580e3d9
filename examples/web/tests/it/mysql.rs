//! The example server on MySQL/MariaDB (through Torii's SeaORM backend), chosen by `DATABASE_URL` alone.
//!
//! The server is `TORII_TEST_MYSQL_URL`, or `mysql://root@127.0.0.1:3306` when it is not set (as for the
//! SeaORM backend's tests); the account must be allowed to create databases. Each test gets a fresh
//! database named `torii_so_<unix seconds>_<suffix>`, dropped afterwards; the SeaORM backend's tests sweep
//! up any a killed run leaves behind. When the server cannot be reached the test prints `SKIPPED` and
//! passes, unless `CI` is set, in which case it fails.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, Executor as _, MySqlConnection};

use crate::support::Server;

const DEFAULT_URL: &str = "mysql://root@127.0.0.1:3306";
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A database created for one test on the shared MySQL/MariaDB server, dropped when dropped.
pub(crate) struct TestDatabase {
    name: String,
    admin_url: String,
    admin: MySqlConnectOptions,
    runtime: tokio::runtime::Runtime,
}

impl TestDatabase {
    /// Creates a fresh, empty database, or returns `None` (after printing `SKIPPED`) when the server
    /// is unreachable; under `CI` an unreachable server fails the test instead.
    pub(crate) fn create() -> Option<Self> {
        let admin_url = std::env::var("TORII_TEST_MYSQL_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let admin: MySqlConnectOptions = admin_url.parse().expect("TORII_TEST_MYSQL_URL must be a MySQL URL");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut conn = match runtime.block_on(connect(&admin)) {
            Ok(conn) => conn,
            Err(reason) => {
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                    panic!("MySQL is unavailable ({reason}), and CI is set, so this test must not be skipped");
                }
                // Written to the real stderr, past the test harness's capture, so a skip is never silent.
                let _ = writeln!(std::io::stderr(), "SKIPPED example-web on MySQL: {reason}");
                return None;
            }
        };
        // The SeaORM backend's test prefix: its tests drop leftovers older than an hour by this name.
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let name =
            format!("torii_so_{}_web{}x{}", since_epoch.as_secs(), std::process::id(), since_epoch.subsec_nanos());
        runtime.block_on(async {
            conn.execute(AssertSqlSafe(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4")))
                .await
                .unwrap_or_else(|err| panic!("cannot create a test database (may the account create them?): {err}"));
            let _ = conn.close().await;
        });
        Some(Self { name, admin_url, admin, runtime })
    }

    /// The URL the server gets: the admin URL with this database as its path.
    pub(crate) fn url(&self) -> String {
        let (base, query) =
            self.admin_url.split_once('?').map_or((self.admin_url.as_str(), None), |(b, q)| (b, Some(q)));
        let authority_start = base.find("://").map_or(0, |i| i + 3);
        let authority_end = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
        let mut url = format!("{}/{}", &base[..authority_end], self.name);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// Runs `sql` (a single scalar count with one bound string) against this database.
    pub(crate) fn count(&self, sql: &'static str, bind: &str) -> i64 {
        self.runtime.block_on(async {
            let mut conn = MySqlConnection::connect_with(&self.admin.clone().database(&self.name)).await.unwrap();
            let count = sqlx::query_scalar(sql).bind(bind).fetch_one(&mut conn).await.unwrap();
            let _ = conn.close().await;
            count
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS `{}`", self.name);
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
async fn connect(options: &MySqlConnectOptions) -> Result<MySqlConnection, String> {
    let server = format!("{}:{}", options.get_host(), options.get_port());
    match tokio::time::timeout(Duration::from_secs(10), MySqlConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(format!("cannot connect to {server}: {err}")),
        Err(_) => Err(format!("no answer from {server} within 10 s")),
    }
}

/// Register, log in, use the protected route and log out, with everything stored in MySQL/MariaDB.
#[test]
fn register_log_in_use_the_protected_route_and_log_out_on_mysql() {
    let Some(database) = TestDatabase::create() else { return };
    // Declared after the database, so it stops before the database is dropped.
    let server = Server::start_on(&database.url());

    let credentials = json!({ "email": "margaret@example.com", "password": "apollo guidance 1969" }).to_string();
    let registered = server.request("POST", "/auth/register", &[JSON], Some(&credentials));
    assert_eq!(registered.status, 201, "{}", registered.body);

    let login = server.request("POST", "/auth/login", &[JSON], Some(&credentials));
    assert_eq!(login.status, 200, "{}", login.body);
    let set_cookie = login.header("set-cookie").expect("a session cookie");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let with_cookie = [("Cookie", cookie.as_str())];

    let me = server.request("GET", "/protected", &with_cookie, None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["email"], "margaret@example.com");
    assert_eq!(server.get("/protected").status, 401);
    assert_eq!(server.get("/auth/health").json(), json!({ "status": "ok" }));

    // The data really is in this MySQL database: the user, and the login's session (signing up logs
    // nobody in: the example conceals existing accounts).
    let users = database.count("SELECT count(*) FROM users WHERE email = ?", "margaret@example.com");
    assert_eq!(users, 1);
    let sessions_of = "SELECT count(*) FROM sessions JOIN users ON users.id = sessions.user_id WHERE users.email = ?";
    assert_eq!(database.count(sessions_of, "margaret@example.com"), 1);

    // Logging out ends this session in the database, so the cookie no longer opens the protected route.
    let logout = server.request("POST", "/auth/logout", &[with_cookie[0], JSON], None);
    assert_eq!(logout.status, 204, "{}", logout.body);
    assert_eq!(server.request("GET", "/protected", &with_cookie, None).status, 401);
    assert_eq!(database.count(sessions_of, "margaret@example.com"), 0);
}

/// A MySQL database the example cannot log in to stops it at start-up with an error that names the
/// problem without echoing the URL (it carries a password).
#[test]
fn refused_mysql_login_stops_the_server_without_echoing_the_url() {
    let output = std::process::Command::new(crate::support::SERVER_BIN)
        .env("PORT", "0")
        // An account that does not exist: the server refuses it at once (an unreachable server would
        // be retried for the pool's 30 s acquire timeout, then give the same error).
        .env("DATABASE_URL", "mysql://torii_nobody:hunter2@127.0.0.1:3306/torii")
        .env_remove("JWT_SECRET")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the server binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot connect to the MySQL/MariaDB database"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the URL must not be echoed: {stderr}");
}
