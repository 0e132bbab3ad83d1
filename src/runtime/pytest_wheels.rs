//! pytest for Pyodide: the pure wheels of pytest and what it imports (pluggy, iniconfig,
//! packaging), at the versions the target's own `pyodide-lock.json` pins, downloaded once with
//! the host's pip (so a configured mirror applies) and cached under emwheel's home. Pyodide's
//! npm package holds no package files, and its CDN may be out of reach; PyPI, or the user's
//! index, is what builds already need.

use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::pip::{self, Form};

/// What pytest needs in Pyodide 0.27 and later (Python 3.11+: no exceptiongroup or tomli).
const PACKAGES: &[&str] = &["pytest", "pluggy", "iniconfig", "packaging"];

/// What newer pytests also import, taken when the lockfile's pytest `depends` on it (pytest 9,
/// in Pyodide 314, imports pygments). The rest of Pyodide's `depends` list for pytest (attrs,
/// py, setuptools, …) is left from older pytests, which no longer import them.
const PACKAGES_WHEN_LISTED: &[&str] = &["pygments"];

/// Why pytest's wheels could not be had.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PytestWheelsError {
    /// The lockfile could not be read.
    #[error("cannot read `{path}`: {reason}; reinstall the target (`emwheel target install`)")]
    Lockfile {
        /// The lockfile.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// pip could not download a wheel.
    #[error("downloading `{requirement}` for the tests failed: {source}")]
    #[diagnostic(help(
        "pytest comes from your pip index (PyPI by default); check the network or PIP_INDEX_URL"
    ))]
    Download {
        /// The pinned requirement.
        requirement: String,
        /// pip's error.
        source: crate::process::CmdError,
    },
    /// Writing the cache failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The wheels of [`PACKAGES`] at the lockfile's versions (the newest where it has none),
/// from `cache`, downloading the missing ones with `python -m pip`.
pub fn ensure(
    lockfile: &Path,
    python: &Path,
    cache: &Path,
) -> Result<Vec<PathBuf>, PytestWheelsError> {
    let versions = pinned_versions(lockfile)?;
    fs::create_dir_all(cache)?;
    let mut wheels = Vec::new();
    for (name, version) in versions {
        let requirement = match &version {
            Some(version) => format!("{name}=={version}"),
            None => (*name).to_string(),
        };
        let wheel = match cached(cache, name, version.as_deref())? {
            Some(wheel) => wheel,
            None => download(python, &requirement, cache)?,
        };
        wheels.push(wheel);
    }
    Ok(wheels)
}

/// Each package pytest needs for this target, with the lockfile's version of it.
fn pinned_versions(
    lockfile: &Path,
) -> Result<Vec<(&'static str, Option<String>)>, PytestWheelsError> {
    let bad = |reason: String| PytestWheelsError::Lockfile {
        path: lockfile.to_path_buf(),
        reason,
    };
    let text = fs::read_to_string(lockfile).map_err(|e| bad(e.to_string()))?;
    let lock: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let listed = lock["packages"]["pytest"]["depends"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let extra = PACKAGES_WHEN_LISTED
        .iter()
        .filter(|name| listed.iter().any(|dependency| dependency == **name));
    Ok(PACKAGES
        .iter()
        .chain(extra)
        .map(|name| {
            let version = lock["packages"][name]["version"].as_str();
            (*name, version.map(str::to_string))
        })
        .collect())
}

/// The cached wheel of `name` (at `version`, or any).
fn cached(cache: &Path, name: &str, version: Option<&str>) -> std::io::Result<Option<PathBuf>> {
    let prefix = match version {
        Some(version) => format!("{name}-{version}-"),
        None => format!("{name}-"),
    };
    Ok(fs::read_dir(cache)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            file.starts_with(&prefix) && file.ends_with(".whl")
        }))
}

/// Downloads one wheel into a temp directory inside `cache` and renames it into place, so a
/// killed download leaves no partial wheel.
fn download(python: &Path, requirement: &str, cache: &Path) -> Result<PathBuf, PytestWheelsError> {
    let staging = tempfile::tempdir_in(cache)?;
    let mut log = Vec::new();
    pip::download(python, requirement, Form::Wheel, staging.path(), &mut log).map_err(
        |source| PytestWheelsError::Download {
            requirement: requirement.to_string(),
            source,
        },
    )?;
    let downloaded = fs::read_dir(staging.path())?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"));
    let downloaded = downloaded.ok_or_else(|| {
        std::io::Error::other(format!("pip downloaded no wheel for `{requirement}`"))
    })?;
    let wheel = cache.join(downloaded.file_name().unwrap_or_default());
    fs::rename(&downloaded, &wheel)?;
    Ok(wheel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lockfile_and_cached_wheels_are_found_by_them() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("pyodide-lock.json");
        let text =
            r#"{"packages": {"pytest": {"version": "8.3.5"}, "pluggy": {"version": "1.5.0"}}}"#;
        fs::write(&lock, text).unwrap();
        let versions = pinned_versions(&lock).unwrap();
        assert_eq!(
            versions,
            [
                ("pytest", Some("8.3.5".into())),
                ("pluggy", Some("1.5.0".into())),
                ("iniconfig", None),
                ("packaging", None)
            ]
        );
        let pytest_9 = r#"{"packages": {"pytest": {"version": "9.0.2", "depends": ["py", "pygments"]},
            "pygments": {"version": "2.19.2"}}}"#;
        fs::write(&lock, pytest_9).unwrap();
        let versions = pinned_versions(&lock).unwrap();
        assert_eq!(versions[4], ("pygments", Some("2.19.2".into())));
        assert_eq!(versions.len(), 5);
        fs::write(dir.path().join("pytest-8.3.5-py3-none-any.whl"), "").unwrap();
        let found = cached(dir.path(), "pytest", Some("8.3.5")).unwrap();
        assert_eq!(
            found,
            Some(dir.path().join("pytest-8.3.5-py3-none-any.whl"))
        );
        assert_eq!(cached(dir.path(), "pytest", Some("8.3.4")).unwrap(), None);
        assert!(cached(dir.path(), "pytest", None).unwrap().is_some());
        assert_eq!(cached(dir.path(), "pluggy", None).unwrap(), None);
    }
}
