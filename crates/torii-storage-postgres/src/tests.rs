//! Tests that need no server. Everything that talks to PostgreSQL (the conformance suite, NUL bytes,
//! faults, concurrent migrations) is in `tests/it`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

#[test]
fn embedded_migrations_are_a_copy_of_the_canonical_ones() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = read_dir(&manifest.join("migrations"));
    let canonical = read_dir(&manifest.join("../../migrations/postgres"));
    assert!(!canonical.is_empty());
    assert_eq!(ours.keys().collect::<Vec<_>>(), canonical.keys().collect::<Vec<_>>(), "file names differ");
    for (name, bytes) in &ours {
        assert!(canonical.get(name) == Some(bytes), "{name} differs from migrations/postgres/{name}");
    }
    // And what was compiled in is what is on disk now (build.rs reruns on change).
    assert_eq!(crate::provider::MIGRATOR.iter().count(), ours.len());
}
