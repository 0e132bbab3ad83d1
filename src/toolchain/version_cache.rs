//! emcc's version, remembered by the identity of emcc's files (path, size, modification
//! time) so that a command need not start emcc, a Python program that takes ~0.15 s, to
//! learn what an earlier command already learned.
//!
//! Modification times are fine here, unlike for build inputs: a tool is replaced by
//! installing it, which rewrites its files. The identity covers `emcc`, the emcc a small
//! launcher script execs (as `scripts/setup` installs), and the `emscripten-version.txt`
//! beside each, which is where emcc itself reads its version from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::{EmccVersion, ToolchainError};

/// The version of the cache file's format; another version is ignored and rewritten.
const FORMAT_VERSION: u32 = 1;

/// A launcher script is small; anything larger is emcc itself.
const LAUNCHER_MAX_BYTES: u64 = 4096;

/// The cache file: one entry per emcc path.
#[derive(Debug, Default, Serialize, Deserialize)]
struct VersionCache {
    format_version: u32,
    entries: BTreeMap<PathBuf, Entry>,
}

/// What was learned about one emcc.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    version: String,
}

/// emcc's version: from `cache_file` when emcc's files are unchanged since it was recorded,
/// else from `read` (which runs emcc), and then recorded.
pub(super) fn cached_version(
    emcc: &Path,
    cache_file: &Path,
    read: impl FnOnce(&Path) -> Result<EmccVersion, ToolchainError>,
) -> Result<EmccVersion, ToolchainError> {
    let fingerprint = fingerprint(emcc);
    let mut cache = load(cache_file);
    let known = cache
        .entries
        .get(emcc)
        .filter(|e| e.fingerprint == fingerprint);
    if let Some(version) = known.and_then(|entry| EmccVersion::parse(&entry.version)) {
        return Ok(version);
    }
    let version = read(emcc)?;
    cache.format_version = FORMAT_VERSION;
    let entry = Entry {
        fingerprint,
        version: version.to_string(),
    };
    cache.entries.insert(emcc.to_path_buf(), entry);
    // The cache only saves time: a home that cannot be written must not stop a build.
    let text = serde_json::to_string_pretty(&cache).expect("the cache serializes");
    let _ = crate::fsutil::write_atomic(cache_file, text.as_bytes());
    Ok(version)
}

/// The cache, or an empty one when it is missing, unreadable or of another format.
fn load(cache_file: &Path) -> VersionCache {
    let text = fs_err::read_to_string(cache_file).unwrap_or_default();
    serde_json::from_str::<VersionCache>(&text)
        .ok()
        .filter(|cache| cache.format_version == FORMAT_VERSION)
        .unwrap_or_default()
}

/// sha256 over the path, size and modification time of each file that identifies emcc.
fn fingerprint(emcc: &Path) -> String {
    let mut files = vec![emcc.to_path_buf()];
    files.extend(launched_emcc(emcc));
    let versions: Vec<PathBuf> = files
        .iter()
        .filter_map(|file| file.parent())
        .map(|dir| dir.join("emscripten-version.txt"))
        .collect();
    let mut text = String::new();
    for file in files.iter().chain(&versions) {
        if let Ok(meta) = fs_err::metadata(file) {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
            let nanos = modified.map_or(0, |d| d.as_nanos());
            text.push_str(&format!("{}\t{}\t{nanos}\n", file.display(), meta.len()));
        }
    }
    crate::hash::sha256_bytes(text.as_bytes())
}

/// The emcc a launcher script runs: an absolute path to a file named `emcc` or `emcc.py`
/// in its text.
fn launched_emcc(emcc: &Path) -> Option<PathBuf> {
    let small = fs_err::metadata(emcc).ok()?.len() <= LAUNCHER_MAX_BYTES;
    let text = small.then(|| fs_err::read_to_string(emcc).ok())??;
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter(|word| word.starts_with('/') && *word != emcc.as_os_str())
        .map(PathBuf::from)
        .find(|path| {
            let name = path.file_name().unwrap_or_default();
            (name == "emcc" || name == "emcc.py") && path.is_file()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Reads the version through `cached_version`, counting calls of the slow path.
    fn read_counting(emcc: &Path, cache: &Path, runs: &Cell<u32>) -> EmccVersion {
        cached_version(emcc, cache, |_| {
            runs.set(runs.get() + 1);
            Ok(EmccVersion(3, 1, runs.get()))
        })
        .unwrap()
    }

    #[test]
    fn version_is_read_once_until_emcc_changes() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs_err::create_dir(&real).unwrap();
        fs_err::write(real.join("emcc"), "#!/usr/bin/env python3\n").unwrap();
        fs_err::write(real.join("emscripten-version.txt"), "3.1.1\n").unwrap();
        let launcher = dir.path().join("emcc");
        let script = format!(
            "#!/bin/sh\nexec \"{}\" \"$@\"\n",
            real.join("emcc").display()
        );
        fs_err::write(&launcher, script).unwrap();
        let cache = dir.path().join("cache/emcc-version.json");
        let runs = Cell::new(0);

        assert_eq!(
            read_counting(&launcher, &cache, &runs),
            EmccVersion(3, 1, 1)
        );
        assert_eq!(
            read_counting(&launcher, &cache, &runs),
            EmccVersion(3, 1, 1)
        );
        assert_eq!(runs.get(), 1, "an unchanged emcc is not run again");

        // Replacing the emscripten the launcher points at (its version file) is noticed.
        fs_err::write(real.join("emscripten-version.txt"), "3.1.22\n").unwrap();
        assert_eq!(
            read_counting(&launcher, &cache, &runs),
            EmccVersion(3, 1, 2)
        );
        assert_eq!(runs.get(), 2);
    }

    #[test]
    fn a_cache_of_another_format_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let emcc = dir.path().join("emcc");
        fs_err::write(&emcc, "#!/bin/sh\n").unwrap();
        let cache = dir.path().join("emcc-version.json");
        let entry = format!(
            r#"{{"fingerprint": "{}", "version": "9.9.9"}}"#,
            fingerprint(&emcc)
        );
        let text = format!(
            r#"{{"format_version": 99, "entries": {{"{}": {entry}}}}}"#,
            emcc.display()
        );
        fs_err::write(&cache, text).unwrap();
        let runs = Cell::new(0);
        assert_eq!(read_counting(&emcc, &cache, &runs), EmccVersion(3, 1, 1));
    }
}
