//! `cargo xtask bench-http`: the cost of authentication on the request path, measured on a real server.
//!
//! Starts the release build of `example-web` on a free loopback port with a fresh SQLite file, registers
//! a user, then runs `wrk` against `/public` (no authentication: the ceiling) and `/protected` (the
//! session cookie is validated on every request) and prints both rates and their ratio. The load
//! generator shares the machine's cores with the server, so absolute numbers are lower than on a
//! dedicated client; the ratio is the figure of merit.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn run(root: &Path) -> Result {
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err("wrk is not installed (apt-get install -y wrk)".into());
    }
    crate::cargo(&["build", "--release", "-p", "example-web"])?;
    let target = std::env::var("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|_| root.join("target"));
    let binary = target.join("release/example-web");
    let dir = std::env::temp_dir().join(format!("torii-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let _server = Server(
        Command::new(&binary)
            .env("PORT", port.to_string())
            .env("DATABASE_URL", format!("sqlite://{}/bench.db?mode=rwc", dir.display()))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?,
    );
    wait_until_up(addr)?;
    let body = r#"{"email":"bench@example.com","password":"correct horse battery staple"}"#;
    let response = request(addr, "POST", "/auth/register", Some(body), None)?;
    let token = response
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie: torii_session=").then(|| l.to_owned()))
        .and_then(|l| l.split_once('=').map(|(_, rest)| rest.split(';').next().unwrap_or_default().to_owned()))
        .ok_or("registration did not set a session cookie")?;
    let check = request(addr, "GET", "/protected", None, Some(&token))?;
    if !check.starts_with("HTTP/1.1 200") {
        return Err(format!("/protected with the cookie did not answer 200: {}", check.lines().next().unwrap_or("")));
    }

    let cookie = format!("Cookie: torii_session={token}");
    let public = wrk(addr, "/public", None)?;
    let protected = wrk(addr, "/protected", Some(&cookie))?;
    println!("GET /public    (no auth, ceiling): {public:>10.0} requests/s");
    println!("GET /protected (session cookie)   : {protected:>10.0} requests/s");
    println!("ratio protected / ceiling          : {:>10.2}", protected / public);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn wait_until_up(addr: SocketAddr) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if request(addr, "GET", "/auth/health", None, None).is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("the example server did not come up within 30 s".into())
}

fn request(addr: SocketAddr, method: &str, path: &str, body: Option<&str>, token: Option<&str>) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        head.push_str(&format!("Cookie: torii_session={token}\r\n"));
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes()).map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
    Ok(response)
}

/// Runs wrk for 10 s after a 2 s warm-up and returns requests per second.
fn wrk(addr: SocketAddr, path: &str, header: Option<&str>) -> Result<f64> {
    let url = format!("http://{addr}{path}");
    let run = |secs: &str| {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t2", "-c32", "-d", secs, "--latency"]);
        if let Some(h) = header {
            cmd.args(["-H", h]);
        }
        cmd.arg(&url).output().map_err(|e| e.to_string())
    };
    run("2s")?;
    let output = run("10s")?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("--- wrk {path}\n{text}");
    if text.contains("Non-2xx") {
        return Err(format!("{path} answered errors under load"));
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:").map(|v| v.trim().parse::<f64>()))
        .ok_or_else(|| format!("no Requests/sec in wrk's output for {path}"))?
        .map_err(|e| e.to_string())
}
