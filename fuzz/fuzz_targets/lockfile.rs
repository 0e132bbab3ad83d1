//! The lockfile reader: any bytes as a `pyodide-lock.json`, read as a base, written back and
//! re-read (the round trip must be exact), merged with itself, and rewritten by
//! `replace_wheels`, which must never panic on a document of the wrong shape.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use emwheel::index::lock::{replace_wheels, Lockfile};
use libfuzzer_sys::fuzz_target;

/// A scratch directory that lives for the whole run, with a stand-in wheel in it.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::write(dir.join("new-1.0-py3-none-any.whl"), b"wheel").unwrap();
        dir
    })
}

/// Reads `path` as a base, writes it to a second file and checks that it reads back equal.
fn round_trip(path: &Path, copy: &Path) -> Option<Lockfile> {
    let lockfile = Lockfile::from_base(path, true).ok()?;
    lockfile.write(copy).unwrap();
    let again = Lockfile::from_base(copy, true).expect("a written lockfile reads back");
    assert_eq!(lockfile.to_json(), again.to_json());
    Some(lockfile)
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let (path, copy) = (dir.join("pyodide-lock.json"), dir.join("copy.json"));
    std::fs::write(&path, data).unwrap();
    if let Some(mut lockfile) = round_trip(&path, &copy) {
        let paths = [path.clone(), copy.clone()];
        let merged = Lockfile::merge(&paths, &lockfile).expect("a lockfile merges with itself");
        assert_eq!(merged.to_json(), lockfile.to_json());
        lockfile.missing_dependencies();
        lockfile.rebase_package_files("https://example.org/wheels/");
    }
    std::fs::write(&path, data).unwrap();
    let new_wheel = dir.join("new-1.0-py3-none-any.whl");
    let replaced = [("old-1.0-py3-none-any.whl".to_string(), new_wheel.as_path())];
    let _ = replace_wheels(&path, &replaced);
});
