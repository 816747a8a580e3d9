//! Project automation: `cargo xtask <task>`.
//!
//! Tasks:
//! - `ci`: everything CI checks (what `.ci/run` runs): formatting, clippy with warnings denied, the
//!   migration copies, the book's includes, and the test suite.
//! - `test`: the test suite (the command README.md gives).
//! - `bench`: the criterion benchmarks, including `get_session` and password login on every storage
//!   backend (the PostgreSQL and MySQL ones measure nothing, with a message, when no server is
//!   reachable). Arguments after `--` go to criterion, e.g.
//!   `cargo xtask bench -- --measurement-time 3 --warm-up-time 1`.
//! - `bench-http`: requests/second of `GET /protected` (session cookie validated on every request) against
//!   `GET /public` (same server, no authentication) on the release build of the example web app, with
//!   `wrk` (Debian package `wrk`).
//! - `migrations --check`: each storage crate's embedded migrations equal the canonical `migrations/`.
//! - `tidy`: ARCHITECTURE.md's code map names every crate; no storage crate depends on another storage
//!   crate or on axum; storage code reads no wall clock outside an allow-list.
//! - `book`: builds the mdBook (needs `mdbook` on PATH) after checking its includes.

mod bench_http;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T = ()> = std::result::Result<T, String>;

/// The test command README.md documents; `ci` runs exactly this.
const TEST_COMMAND: &[&str] = &["test", "--workspace"];

/// The `torii` features the per-backend benchmark needs (SQLite through sqlx is on by default).
const BACKEND_BENCH_FEATURES: &str = "postgres,seaorm-sqlite,seaorm-postgres,seaorm-mysql";

/// The criterion benchmarks `bench` runs, one cargo command each.
const BENCHES: &[&[&str]] = &[
    &["bench", "-p", "torii", "--bench", "sessions"],
    &["bench", "-p", "torii", "--bench", "backends", "--features", BACKEND_BENCH_FEATURES],
    &["bench", "-p", "torii-storage-postgres", "--bench", "postgres"],
];

/// Canonical migration folders and the storage crates that embed a copy.
const MIGRATION_COPIES: &[(&str, &str)] = &[
    ("migrations/sqlite", "crates/torii-storage-sqlite/migrations"),
    ("migrations/postgres", "crates/torii-storage-postgres/migrations"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => cargo(TEST_COMMAND),
        Some("bench") => bench(&args[1..]),
        Some("bench-http") => bench_http::run(&root()),
        Some("migrations") => check_migrations(),
        Some("book") => book(),
        Some("tidy") => tidy::run(&root()),
        _ => {
            eprintln!("usage: cargo xtask <ci|test|bench|bench-http|migrations --check|tidy|book>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    // xtask/ is one level below the workspace root. `cargo run` sets CARGO_MANIFEST_DIR at run time too;
    // prefer that, so a binary built from another checkout sharing the target dir still works on this one.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let manifest_dir = manifest_dir.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

pub(crate) fn cargo(args: &[&str]) -> Result {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("+ cargo {}", args.join(" "));
    let status =
        Command::new(cargo).args(args).current_dir(root()).status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed ({status})", args.join(" "))) }
}

/// Runs every benchmark in [`BENCHES`]; `args` (after an optional `--`) are passed on to criterion.
fn bench(args: &[String]) -> Result {
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    BENCHES.iter().try_for_each(|bench| {
        let mut command = bench.to_vec();
        if !extra.is_empty() {
            command.push("--");
            command.extend(&extra);
        }
        cargo(&command)
    })
}

fn ci() -> Result {
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"])?;
    check_migrations()?;
    tidy::run(&root())?;
    check_book_includes()?;
    cargo(TEST_COMMAND)
}

fn check_migrations() -> Result {
    let root = root();
    for (canonical, copy) in MIGRATION_COPIES {
        let a = read_dir_files(&root.join(canonical))?;
        let b = read_dir_files(&root.join(copy))?;
        if a != b {
            return Err(format!("{copy} differs from {canonical}: copy the canonical files into the crate"));
        }
        eprintln!("migrations: {copy} matches {canonical} ({} files)", a.len());
    }
    Ok(())
}

fn read_dir_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).map_err(|e| format!("{name}: {e}"))?;
        files.push((name, bytes));
    }
    files.sort();
    Ok(files)
}

/// Every `{{#include path}}` in the book must name an existing file, so the book only shows code that
/// the workspace compiles.
fn check_book_includes() -> Result {
    let src = root().join("book/src");
    let entries = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut checked = 0;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let Some(start) = line.find("{{#include ") else { continue };
            let rest = &line[start + "{{#include ".len()..];
            let Some(end) = rest.find("}}") else { continue };
            let target = rest[..end].trim();
            let file = target.split(':').next().unwrap_or(target);
            let resolved = src.join(file);
            if !resolved.is_file() {
                return Err(format!("{}:{}: include of missing file {file}", path.display(), i + 1));
            }
            if let Some(anchor) = target.split(':').nth(1).filter(|a| a.parse::<usize>().is_err()) {
                let body = std::fs::read_to_string(&resolved).map_err(|e| e.to_string())?;
                if !body.contains(&format!("ANCHOR: {anchor}")) {
                    return Err(format!("{}:{}: anchor {anchor} not found in {file}", path.display(), i + 1));
                }
            }
            checked += 1;
        }
    }
    eprintln!("book: {checked} includes point at existing files");
    Ok(())
}

fn book() -> Result {
    check_book_includes()?;
    let status = Command::new("mdbook")
        .args(["build", "book"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run mdbook (install it with `cargo install mdbook`): {e}"))?;
    if status.success() { Ok(()) } else { Err("mdbook build failed".into()) }
}
