//! `cargo xtask tidy`: checks that keep ARCHITECTURE.md and the crate layering true.
//!
//! - Every folder under `crates/` is named in ARCHITECTURE.md's code map, so a new crate cannot land
//!   undocumented.
//! - No storage crate depends on another storage crate or on axum (the layering the code map states).
//! - Storage backends never read their own clock: expiry is decided by Torii's clock, passed in as `now`.
//!   The few places that need the wall clock (the application key/value session store, whose trait has
//!   no `now`, and timestamps only written for people) are listed in [`CLOCK_ALLOWED`].

use std::path::Path;

use crate::Result;

/// Storage source files allowed to read the wall clock, with the reason.
const CLOCK_ALLOWED: &[(&str, &str)] = &[
    // The `SessionStore` trait of the key/value session data (from the seed API) takes no `now`.
    ("crates/torii-storage-postgres/src/session_data.rs", "SessionStore has no `now` parameter"),
    ("crates/torii-storage-seaorm/src/session_data.rs", "SessionStore has no `now` parameter"),
    ("crates/torii-storage-redis/src/session_data.rs", "SessionStore has no `now` parameter"),
    ("crates/torii-storage-sqlite/src/session_data.rs", "SessionStore has no `now` parameter"),
    // `set_password_hash` stamps `updated_at` for people reading the table; nothing expires by it.
    ("crates/torii-storage-postgres/src/password.rs", "updated_at stamp only"),
    ("crates/torii-storage-seaorm/src/password.rs", "updated_at stamp only"),
    ("crates/torii-storage-sqlite/src/password.rs", "updated_at stamp only"),
];

pub(crate) fn run(root: &Path) -> Result {
    code_map_names_every_crate(root)?;
    storage_layering(root)?;
    storage_reads_no_clock(root)?;
    eprintln!("tidy: code map, storage layering and clock use are as ARCHITECTURE.md says");
    Ok(())
}

fn crate_dirs(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.path().join("Cargo.toml").is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

fn code_map_names_every_crate(root: &Path) -> Result {
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).map_err(|e| format!("ARCHITECTURE.md: {e}"))?;
    let missing: Vec<String> =
        crate_dirs(root)?.into_iter().filter(|name| !architecture.contains(&format!("`crates/{name}`"))).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("ARCHITECTURE.md's code map does not name these crates: {}", missing.join(", ")))
    }
}

/// The `[dependencies]` section of a manifest (not dev-dependencies: tests may use anything).
fn normal_dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().trim_matches('"').to_owned());
        }
    }
    names
}

fn storage_layering(root: &Path) -> Result {
    let mut problems = Vec::new();
    for name in crate_dirs(root)?.into_iter().filter(|name| name.starts_with("torii-storage-")) {
        let manifest = std::fs::read_to_string(root.join("crates").join(&name).join("Cargo.toml"))
            .map_err(|e| format!("{name}/Cargo.toml: {e}"))?;
        for dependency in normal_dependencies(&manifest) {
            let is_storage = dependency.starts_with("torii-storage-") && dependency != name;
            let is_http = matches!(dependency.as_str(), "axum" | "axum-core" | "tower-cookies" | "torii-axum");
            if is_storage || is_http {
                problems.push(format!("{name} depends on {dependency}"));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("storage layering broken: {}", problems.join("; "))) }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn storage_reads_no_clock(root: &Path) -> Result {
    let mut problems = Vec::new();
    for name in crate_dirs(root)?.into_iter().filter(|name| name.starts_with("torii-storage-")) {
        let mut files = Vec::new();
        rust_files(&root.join("crates").join(&name).join("src"), &mut files)?;
        for file in files {
            let relative = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().replace('\\', "/");
            if CLOCK_ALLOWED.iter().any(|(allowed, _)| *allowed == relative) {
                continue;
            }
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{relative}: {e}"))?;
            for (i, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue; // documentation examples may show the clock
                }
                if code.contains("Utc::now()") || code.contains("SystemTime::now()") {
                    problems.push(format!("{relative}:{}", i + 1));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "storage code reads the wall clock (take `now` from the caller, or add the file to \
             xtask/src/tidy.rs's allow-list with the reason): {}",
            problems.join(", ")
        ))
    }
}
