//! The real-browser test: runs `examples/web/e2e/browser.test.mjs` (Node's test runner, playwright-core,
//! Debian's headless Chromium) against the built server.
//!
//! What it needs is installed by `.ci/run`. Elsewhere a missing piece skips the test with a message
//! saying how to install it, unless `CI` is set, where it fails instead.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{SERVER_BIN, wait_with_timeout};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Generous: two test files, each with a cold Chromium start on a busy two-core machine; a hang must
/// still end.
const TIMEOUT: Duration = Duration::from_secs(180);

#[test]
fn register_log_in_and_out_in_headless_chromium() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let missing = missing_prerequisites(&e2e);
    if !missing.is_empty() {
        let what = missing.iter().map(|(what, _)| *what).collect::<Vec<_>>().join(", ");
        let fix = missing.iter().map(|(_, fix)| *fix).collect::<Vec<_>>().join(" && ");
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("the browser test cannot run: missing {what}; run `{fix}` (as `.ci/run` does)");
        }
        // Written to the real stderr, past the test harness's capture, so a skip is never silent.
        let _ = writeln!(std::io::stderr(), "SKIPPED browser test: missing {what}; run `{fix}`");
        return;
    }

    let artifacts = workspace_root().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let mut node = ProcessGroup(
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-timeout=100000", "browser.test.mjs", "passkey.test.mjs"])
            .current_dir(&e2e)
            .env("EXAMPLE_WEB_BIN", SERVER_BIN)
            .env("ARTIFACT_DIR", &artifacts)
            .env("CHROMIUM", CHROMIUM)
            .stdin(Stdio::null())
            // Its output streams straight to the terminal, past the harness's capture.
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            // Its own process group, so a timeout can stop the server and Chromium it started too.
            .process_group(0)
            .spawn()
            .expect("node starts"),
    );
    let status = wait_with_timeout(&mut node.0, TIMEOUT)
        .unwrap_or_else(|| panic!("the browser test did not finish in {} s", TIMEOUT.as_secs()));
    assert!(
        status.success(),
        "the browser test failed ({status}); the server log is {}",
        artifacts.join("browser-example-web.log").display()
    );
    assert!(artifacts.join("browser-example-web.png").is_file(), "the screenshot was saved");
    assert!(artifacts.join("passkey-example-web.png").is_file(), "the passkey test's screenshot was saved");
}

/// What is missing, each with the command that installs it.
fn missing_prerequisites(e2e: &Path) -> Vec<(&'static str, &'static str)> {
    let mut missing = Vec::new();
    let node_runs = Command::new("node").arg("--version").output().is_ok_and(|out| out.status.success());
    if !node_runs {
        missing.push(("node", "apt-get install -y nodejs npm"));
    }
    if !Path::new(CHROMIUM).exists() {
        missing.push((CHROMIUM, "apt-get install -y --no-install-recommends chromium"));
    }
    if !e2e.join("node_modules/playwright-core").is_dir() {
        missing.push(("examples/web/e2e/node_modules/playwright-core", "npm ci --prefix examples/web/e2e"));
    }
    missing
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A child leading its own process group; the whole group is killed on drop unless it has exited.
struct ProcessGroup(Child);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-KILL", &format!("-{}", self.0.id())]).status();
            let _ = self.0.wait();
        }
    }
}
