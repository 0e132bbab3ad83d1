//! Finding a host CPython to run build backends: one of the target's `X.Y` when there is
//! one, else the nearest other CPython 3 (cross-version mode).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TargetError;
use crate::process::Cmd;

/// The oldest host Python a cross-version build may run on: older ones cannot install the
/// build backends (setuptools, pip) that current sdists require.
const OLDEST_CROSS_HOST_MINOR: u32 = 9;

/// A host interpreter and what it reports about itself.
#[derive(Debug, Clone, Deserialize)]
pub struct HostPython {
    /// The interpreter.
    pub path: PathBuf,
    /// `X.Y`.
    pub version: String,
    /// Its `include/pythonX.Y` directory.
    pub include: PathBuf,
    /// `sys.implementation.name`, `cpython` for CPython.
    pub implementation: String,
}

const PROBE: &str = "import json, sys, sysconfig; print(json.dumps({'path': sys.executable, \
'version': '%d.%d' % sys.version_info[:2], 'include': sysconfig.get_path('include'), \
'implementation': sys.implementation.name}))";

impl HostPython {
    /// Asks an interpreter about itself.
    pub fn probe(python: &Path) -> Result<Self, TargetError> {
        let finished = Cmd::new(python).args(["-I", "-c", PROBE]).run()?;
        let line = finished.output.lines().last().unwrap_or_default();
        let mut probed: HostPython =
            serde_json::from_str(line).map_err(|source| TargetError::Json {
                path: python.to_path_buf(),
                source,
            })?;
        // Keep the path as found: a venv or pyenv shim resolves differently.
        probed.path = python.to_path_buf();
        Ok(probed)
    }

    /// Finds the interpreter that runs build backends for a target of Python `xy`: the
    /// explicit one, else `pythonX.Y` on PATH or in pyenv, else the CPython 3 whose version
    /// is nearest to `xy` (cross-version mode, see [`HostPython::check_cross`]).
    pub fn find(xy: &str, explicit: Option<&Path>) -> Result<Self, TargetError> {
        let python = match explicit {
            Some(python) => python.to_path_buf(),
            None => candidates()
                .into_iter()
                .min_by_key(|(minor, _)| distance(xy, *minor))
                .map(|(_, path)| path)
                .ok_or_else(|| TargetError::Invalid {
                    message: "no host CPython 3 found (`python3.X` on PATH or in pyenv)"
                        .to_string(),
                    help: format!(
                        "install Python {xy} (e.g. `pyenv install {xy}`) or pass `--host-python PATH`"
                    ),
                })?,
        };
        let probed = Self::probe(&python)?;
        if probed.version != xy {
            probed.check_cross(xy)?;
        }
        Ok(probed)
    }

    /// Refuses a host that cannot stand in for a target of Python `xy`: only CPython 3.9 or
    /// newer runs build backends against another version's sysconfig (measured: setuptools C
    /// extensions build correctly this way).
    pub fn check_cross(&self, xy: &str) -> Result<(), TargetError> {
        let minor = self
            .version
            .strip_prefix("3.")
            .and_then(|minor| minor.parse::<u32>().ok());
        let usable = self.implementation == "cpython"
            && minor.is_some_and(|minor| minor >= OLDEST_CROSS_HOST_MINOR);
        if usable {
            return Ok(());
        }
        Err(TargetError::Invalid {
            message: format!(
                "`{}` is {} {}, which cannot build for a Python {xy} target",
                self.path.display(),
                self.implementation,
                self.version
            ),
            help: format!(
                "pass `--host-python` with CPython {xy}, or with CPython 3.{OLDEST_CROSS_HOST_MINOR} or newer for cross-version mode"
            ),
        })
    }
}

/// How far a host minor version is from the target's: nearer first, newer on a tie.
fn distance(xy: &str, minor: u32) -> (u32, std::cmp::Reverse<u32>) {
    let target = xy
        .strip_prefix("3.")
        .and_then(|minor| minor.parse::<u32>().ok())
        .unwrap_or(0);
    (target.abs_diff(minor), std::cmp::Reverse(minor))
}

/// Every CPython 3 found, as (minor version, interpreter): `python3.X` on PATH (pyenv's shims
/// answer for every version but run only the selected one, so they are skipped), the newest
/// pyenv installation of each `3.X`, and the venvs `scripts/setup` makes in emwheel's home
/// (`pythons/3.X`, Debian sid's 3.14 and 3.15).
fn candidates() -> Vec<(u32, PathBuf)> {
    let mut found: Vec<(u32, PathBuf)> = (6..=30)
        .filter_map(|minor| {
            let path = which::which(format!("python3.{minor}")).ok()?;
            let shim = path.components().any(|part| part.as_os_str() == "shims");
            (!shim).then_some((minor, path))
        })
        .collect();
    for (minor, path) in pyenv_pythons().into_iter().chain(home_pythons()) {
        if !found.iter().any(|(known, _)| *known == minor) {
            found.push((minor, path));
        }
    }
    found
}

/// The venvs in emwheel's `pythons/3.X` directories.
fn home_pythons() -> Vec<(u32, PathBuf)> {
    let Ok(entries) = fs_err::read_dir(crate::home::pythons_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let minor = name.strip_prefix("3.")?.parse::<u32>().ok()?;
            let python = entry.path().join(format!("bin/python3.{minor}"));
            python.is_file().then_some((minor, python))
        })
        .collect()
}

/// The newest pyenv installation of each `3.X`, e.g. `~/.pyenv/versions/3.13.0/bin/python3.13`.
fn pyenv_pythons() -> Vec<(u32, PathBuf)> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::home::user_home().join(".pyenv"));
    let Ok(entries) = fs_err::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut parts = name.strip_prefix("3.")?.split('.');
            let minor = parts.next()?.parse::<u32>().ok()?;
            let patch = parts.next()?.parse::<u32>().ok()?;
            let python = entry.path().join(format!("bin/python3.{minor}"));
            python.is_file().then_some((minor, patch, python))
        })
        .collect();
    // Newest patch last, so the last of each minor wins.
    versions.sort();
    let mut newest: Vec<(u32, PathBuf)> = Vec::new();
    for (minor, _, python) in versions {
        newest.retain(|(known, _)| *known != minor);
        newest.push((minor, python));
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(implementation: &str, version: &str) -> HostPython {
        HostPython {
            path: PathBuf::from("/usr/bin/python"),
            version: version.to_string(),
            include: PathBuf::from("/usr/include/python"),
            implementation: implementation.to_string(),
        }
    }

    #[test]
    fn nearest_minor_wins_and_newer_breaks_ties() {
        let mut minors = vec![11, 12, 13];
        minors.sort_by_key(|minor| distance("3.14", *minor));
        assert_eq!(minors, [13, 12, 11]);
        let mut minors = vec![11, 13];
        minors.sort_by_key(|minor| distance("3.12", *minor));
        assert_eq!(minors, [13, 11]);
    }

    #[test]
    fn cross_hosts_must_be_recent_cpython() {
        assert!(host("cpython", "3.13").check_cross("3.14").is_ok());
        assert!(host("cpython", "3.9").check_cross("3.14").is_ok());
        let old = host("cpython", "3.8").check_cross("3.14").unwrap_err();
        assert!(old.to_string().contains("cpython 3.8"), "{old}");
        let pypy = host("pypy", "3.10").check_cross("3.14").unwrap_err();
        assert!(pypy.to_string().contains("pypy 3.10"), "{pypy}");
    }
}
