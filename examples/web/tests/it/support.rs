//! Starting the example server on a free port, and a minimal HTTP/1.1 client for talking to it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The server binary Cargo built for these tests.
pub const SERVER_BIN: &str = env!("CARGO_BIN_EXE_example-web");

/// How long a cold start (database creation and migration included) may take.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running example server with its own database; killed when dropped, so a failing test leaves no
/// process behind.
pub struct Server {
    child: Child,
    /// `host:port` it listens on.
    pub addr: String,
    /// Every line it has written to stdout (its log) so far.
    log: Arc<Mutex<Vec<String>>>,
    /// The directory of its SQLite database, if it has one.
    _data: Option<TempDir>,
}

impl Server {
    /// Starts the server on a SQLite database file of its own, on a port the OS picks, and waits for
    /// its start-up log line.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// Like [`Server::start`], with extra environment variables (set last, so they win over the
    /// defaults, `PORT` included).
    pub fn start_with_env(extra_env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}?mode=rwc", data.path().join("example.db").display());
        let mut server = Self::start_on_with_env(&database_url, extra_env);
        server._data = Some(data);
        server
    }

    /// Starts the server on `database_url` (which must outlive it), on a port the OS picks, and waits
    /// for its start-up log line.
    pub fn start_on(database_url: &str) -> Self {
        Self::start_on_with_env(database_url, &[])
    }

    /// Like [`Server::start_on`], with extra environment variables (see [`Server::start_with_env`]).
    pub fn start_on_with_env(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let child = Command::new(SERVER_BIN)
            .env("PORT", "0")
            .env("BIND_ADDR", "127.0.0.1")
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "info")
            .env_remove("TORII_SECURE_COOKIES")
            // The console mailer, with links to the address the server listens on.
            .env_remove("SMTP_URL")
            .env_remove("APP_BASE_URL")
            // No social login unless a test asks for it.
            .env_remove("TORII_OAUTH_PROVIDERS")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {SERVER_BIN}: {err}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut server = Self { child, addr: String::new(), log: Arc::clone(&log), _data: None };

        let stdout = server.child.stdout.take().unwrap();
        let (found, url) = mpsc::channel();
        // The thread keeps reading after start-up so the server never blocks on a full pipe; its lines
        // show up in a failing test's output.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("server| {line}");
                log.lock().unwrap().push(line.clone());
                if let Some(addr) = line.split_once("url=http://").and_then(|(_, rest)| rest.split('/').next()) {
                    let _ = found.send(addr.to_owned());
                }
            }
        });
        server.addr = url.recv_timeout(START_TIMEOUT).expect("the server logs its URL at start-up");
        server
    }

    /// Waits (at most ten seconds) for a log line that satisfies `matches`, and returns it.
    pub fn wait_for_log(&self, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| matches(l)) {
                return line.clone();
            }
            assert!(Instant::now() < deadline, "no such line in the server's log");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits (at most ten seconds) for the process to exit.
    #[cfg(unix)]
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
        wait_with_timeout(&mut self.child, Duration::from_secs(10)).expect("the server stops within ten seconds")
    }

    /// Sends one request; `headers` are extra request headers.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method != "GET" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        Reply::parse(&raw)
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to exit, or gives up after `timeout`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A response: status, headers (names lower-cased), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    fn parse(raw: &str) -> Self {
        let (head, body) = raw.split_once("\r\n\r\n").expect("a complete HTTP response");
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        assert!(
            !headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")),
            "this client does not decode chunked bodies"
        );
        Self { status, headers, body: body.to_owned() }
    }

    /// The first value of a header.
    /// The first header named `name`. For `set-cookie`, the device cookie a login also sets is
    /// skipped, so the answer is the session cookie whatever order the two were written in.
    pub fn header(&self, name: &str) -> Option<&str> {
        let device = |v: &str| v.starts_with("torii_device=") || v.starts_with("__Host-torii_device=");
        self.headers.iter().find(|(n, v)| n == name && !(name == "set-cookie" && device(v))).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }
}
