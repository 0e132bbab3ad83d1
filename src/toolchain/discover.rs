//! Every emcc emwheel can find, in precedence order, and the choice of one for a target: the
//! first whose version is the target's Emscripten version.

use std::path::{Path, PathBuf};

use super::{inspect, version_cache, EmccVersion, Origin, Toolchain, ToolchainError};

/// Where emcc may be, in precedence order: `--emsdk DIR`, an activated emsdk (`EMSDK`), `emcc`
/// on PATH, the toolchain of `scripts/setup` (`toolchain/bin`), the exact toolchains it
/// unpacks beside it (`toolchains/<version>/bin`), and the emsdks `emwheel toolchain install`
/// cloned (`emsdk/<version>`).
pub(super) fn candidates(emsdk_flag: Option<&Path>) -> Vec<(PathBuf, Origin)> {
    let mut candidates = Vec::new();
    if let Some(dir) = emsdk_flag {
        candidates.push((emsdk_bin_dir(dir), Origin::Flag));
    }
    if let Some(dir) = std::env::var_os("EMSDK").filter(|dir| !dir.is_empty()) {
        candidates.push((emsdk_bin_dir(Path::new(&dir)), Origin::EmsdkVariable));
    }
    if let Some(dir) = which::which("emcc").ok().and_then(|emcc| parent(&emcc)) {
        candidates.push((dir, Origin::Path));
    }
    candidates.push((crate::home::toolchain_dir().join("bin"), Origin::Setup));
    for dir in versioned_dirs(&crate::home::toolchains_dir()) {
        candidates.push((dir.join("bin"), Origin::Setup));
    }
    for dir in versioned_dirs(&crate::home::emsdk_dir()) {
        candidates.push((emsdk_bin_dir(&dir), Origin::Installed));
    }
    // The same directory reached twice (EMSDK naming the setup toolchain) counts once.
    let mut seen = Vec::new();
    candidates.retain(|(dir, _)| {
        let key = fs_err::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    candidates
}

/// The subdirectories of `dir` named like a version (`6.0.5`), oldest first; staging
/// directories start with a dot and are skipped.
fn versioned_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<(EmccVersion, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = EmccVersion::parse(&entry.file_name().to_string_lossy())?;
            Some((version, entry.path()))
        })
        .collect();
    dirs.sort();
    dirs.into_iter().map(|(_, dir)| dir).collect()
}

/// An emsdk root keeps emcc in `upstream/emscripten`; a plain directory holds it directly.
pub(super) fn emsdk_bin_dir(dir: &Path) -> PathBuf {
    let upstream = dir.join("upstream/emscripten");
    if upstream.join("emcc").is_file() {
        upstream
    } else {
        dir.to_path_buf()
    }
}

pub(super) fn parent(path: &Path) -> Option<PathBuf> {
    path.parent().map(Path::to_path_buf)
}

/// Every toolchain with an emcc, in precedence order: its version, or why it cannot be used
/// (a damaged one names the file).
pub(super) fn discover(emsdk_flag: Option<&Path>) -> Vec<Result<Toolchain, ToolchainError>> {
    candidates(emsdk_flag)
        .into_iter()
        .filter(|(dir, _)| dir.join("emcc").is_file())
        .map(|(bin_dir, origin)| open(bin_dir, origin))
        .collect()
}

/// Checks a toolchain's files, then reads its version (remembered in emwheel's home until
/// emcc's files change).
pub(super) fn open(bin_dir: PathBuf, origin: Origin) -> Result<Toolchain, ToolchainError> {
    inspect::check_files(&bin_dir)?;
    let cache_file = crate::home::cache_dir().join("emcc-version.json");
    let version =
        version_cache::cached_version(&bin_dir.join("emcc"), &cache_file, super::read_version)?;
    inspect::check_directory_name(&bin_dir, version)?;
    Ok(Toolchain {
        bin_dir,
        version,
        origin,
    })
}

/// The toolchain for a target of Emscripten `required`: with `--emsdk`, that one; else the
/// first found whose version is `required`; else the first usable one, which the mismatch
/// rule then judges. The mismatch error lists every toolchain found.
pub(super) fn select(
    emsdk_flag: Option<&Path>,
    required: EmccVersion,
) -> Result<(Toolchain, Vec<Toolchain>), ToolchainError> {
    let found = discover(emsdk_flag);
    let mut usable = Vec::new();
    let mut first_error = None;
    for result in found {
        match result {
            Ok(toolchain) => usable.push(toolchain),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let flagged = usable.iter().position(|t| t.origin == Origin::Flag);
    let index = flagged
        .or_else(|| usable.iter().position(|t| t.version == required))
        .or((!usable.is_empty()).then_some(0));
    match index {
        Some(index) => {
            let chosen = usable.remove(index);
            Ok((chosen, usable))
        }
        None => Err(first_error.unwrap_or_else(|| ToolchainError::NotFound {
            searched: candidates(emsdk_flag).into_iter().map(|(d, _)| d).collect(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_directories_sort_by_version_and_skip_staging() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["6.0.5", "10.0.0", "3.1.69", ".6.0.6.partial", "notes"] {
            fs_err::create_dir(dir.path().join(name)).unwrap();
        }
        let names: Vec<String> = versioned_dirs(dir.path())
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["3.1.69", "6.0.5", "10.0.0"]);
    }

    #[test]
    fn an_emsdk_root_leads_to_upstream_emscripten() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(emsdk_bin_dir(dir.path()), dir.path());
        let upstream = dir.path().join("upstream/emscripten");
        fs_err::create_dir_all(&upstream).unwrap();
        fs_err::write(upstream.join("emcc"), "").unwrap();
        assert_eq!(emsdk_bin_dir(dir.path()), upstream);
    }
}
