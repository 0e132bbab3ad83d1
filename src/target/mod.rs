//! The cross-build environment: target Python headers and sysconfig, the Pyodide runtime and
//! its lockfile, the required emcc version; installing, listing and verifying them.

mod headers;
mod hostpython;
mod install;
mod sysconfig;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use hostpython::HostPython;
pub use install::{install, InstallOptions, InstallSource};

use crate::toolchain::EmccVersion;

/// The version of `target.json`'s format; a newer one is refused, not misread.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the sysconfigdata module of every Emscripten CPython.
pub const SYSCONFIGDATA_NAME: &str = "_sysconfigdata__emscripten_wasm32-emscripten";

/// Errors installing, finding or reading a target.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TargetError {
    /// The requested target is not installed.
    #[error("target `{name}` is not installed (installed: {installed})")]
    #[diagnostic(help("install it with `emwheel target install {name}`"))]
    NotInstalled {
        /// What was asked for.
        name: String,
        /// What is installed, comma-separated, or `none`.
        installed: String,
    },
    /// No target at all.
    #[error("no target is installed")]
    #[diagnostic(help("install one with `emwheel target install 0.29.5`"))]
    NoneInstalled,
    /// `target.json` is from a newer emwheel.
    #[error("`{}` has format version {found}; this emwheel reads version {FORMAT_VERSION}", path.display())]
    #[diagnostic(help("upgrade emwheel, or reinstall the target with `emwheel target install`"))]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// A file of the target changed after it was installed.
    #[error("`{}` does not match the sha256 recorded when the target was installed", path.display())]
    #[diagnostic(help("reinstall the target with `emwheel target install --force {name}`"))]
    Tampered {
        /// The target's name.
        name: String,
        /// The file that changed.
        path: PathBuf,
    },
    /// Something in the distribution is missing or malformed.
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Invalid {
        /// What is wrong, naming the file.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// A command (npm, pip, python) failed.
    #[error(transparent)]
    Command(#[from] crate::process::CmdError),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A JSON file could not be parsed.
    #[error("`{}` is not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        source: serde_json::Error,
    },
}

/// An installed target, as recorded in its `target.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetInfo {
    /// `target.json`'s format version.
    pub format_version: u32,
    /// The target's name: the Pyodide version it came from.
    pub name: String,
    /// The full CPython version, e.g. `3.13.2`.
    pub python_version: String,
    /// The Emscripten version the runtime was built with.
    pub emscripten_version: String,
    /// Pyodide's ABI version, e.g. `2025_0`.
    pub abi_version: String,
    /// The lockfile's platform, e.g. `emscripten_4_0_9`.
    pub platform: String,
    /// The wheel platform tag, e.g. `pyemscripten_2025_0_wasm32`.
    pub platform_tag: String,
    /// The extension-module suffix, e.g. `.cpython-313-wasm32-emscripten.so`.
    pub ext_suffix: String,
    /// Flags for every compile of a side module.
    pub cflags: Vec<String>,
    /// Flags for every link of a side module.
    pub ldflags: Vec<String>,
    /// The host interpreter that runs build backends.
    pub host_python: PathBuf,
    /// The host interpreter's own include directory (mapped onto the target's).
    pub host_include: PathBuf,
    /// Where the target's headers came from.
    pub headers_from: PathBuf,
    /// micropip's wheel (and its dependencies), relative to the target directory.
    pub micropip_wheels: Vec<PathBuf>,
    /// sha256 of every file the install wrote, relative to the target directory.
    pub files: BTreeMap<String, String>,
}

/// An installed target: its directory and what it records.
#[derive(Debug, Clone)]
pub struct Target {
    /// The target's directory.
    pub dir: PathBuf,
    /// What `target.json` says.
    pub info: TargetInfo,
}

impl Target {
    /// Reads the target installed in `dir`.
    pub fn open(dir: &Path) -> Result<Self, TargetError> {
        let path = dir.join("target.json");
        let text = fs_err::read_to_string(&path)?;
        let json_error = |source| TargetError::Json {
            path: path.clone(),
            source,
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json_error)?;
        let found = value["format_version"].as_u64().unwrap_or(0) as u32;
        if found != FORMAT_VERSION {
            return Err(TargetError::UnsupportedFormat { path, found });
        }
        let info = serde_json::from_value(value).map_err(json_error)?;
        Ok(Target {
            dir: dir.to_path_buf(),
            info,
        })
    }

    /// The `X.Y` Python version, e.g. `3.13`.
    pub fn python_xy(&self) -> String {
        python_xy(&self.info.python_version)
    }

    /// The CPython tag, e.g. `cp313`.
    pub fn python_tag(&self) -> String {
        format!("cp{}", self.python_xy().replace('.', ""))
    }

    /// The Emscripten version the target requires.
    pub fn emscripten_version(&self) -> Option<EmccVersion> {
        EmccVersion::parse(&self.info.emscripten_version)
    }

    /// `_PYTHON_HOST_PLATFORM` for build backends, e.g. `emscripten_4_0_9_wasm32`.
    pub fn host_platform(&self) -> String {
        format!("{}_wasm32", self.info.platform)
    }

    /// The Pyodide runtime (`pyodide.mjs`, `pyodide-lock.json`, …).
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.join("runtime")
    }

    /// The directory holding the target's sysconfigdata module.
    pub fn sysconfig_dir(&self) -> PathBuf {
        self.dir.join("sysconfig")
    }

    /// The target's `include/pythonX.Y`, laid out where the sysconfigdata's `INCLUDEPY`
    /// points when `PYODIDE_ROOT` is the target directory.
    pub fn include_dir(&self) -> PathBuf {
        include_dir(&self.dir, &self.info.python_version)
    }

    /// Re-hashes every file the install recorded.
    pub fn verify(&self) -> Result<usize, TargetError> {
        for (relative, expected) in &self.info.files {
            let path = self.dir.join(relative);
            if crate::hash::sha256_file(&path)? != *expected {
                return Err(TargetError::Tampered {
                    name: self.info.name.clone(),
                    path,
                });
            }
        }
        Ok(self.info.files.len())
    }
}

/// `3.13.2` → `3.13`.
pub fn python_xy(version: &str) -> String {
    version.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
}

fn include_dir(target_dir: &Path, python_version: &str) -> PathBuf {
    target_dir
        .join("cpython/installs")
        .join(format!("python-{python_version}"))
        .join("include")
        .join(format!("python{}", python_xy(python_version)))
}

/// The wheel platform tag for a Pyodide ABI version: `pyemscripten_YYYY_N_wasm32` (PEP 783)
/// from 2025 on, `pyodide_YYYY_N_wasm32` for 2024, and the legacy
/// `emscripten_X_Y_Z_wasm32` before that.
pub fn platform_tag(abi_version: &str, platform: &str) -> String {
    let year = abi_version
        .split('_')
        .next()
        .and_then(|year| year.parse::<u32>().ok());
    match year {
        Some(year) if year >= 2025 => format!("pyemscripten_{abi_version}_wasm32"),
        Some(2024) => format!("pyodide_{abi_version}_wasm32"),
        _ => format!("{platform}_wasm32"),
    }
}

/// The installed targets, newest Pyodide version first.
pub fn list() -> Result<Vec<Target>, TargetError> {
    let dir = crate::home::targets_dir();
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut targets = Vec::new();
    for entry in fs_err::read_dir(&dir)? {
        let path = entry?.path();
        if path.join("target.json").is_file() {
            targets.push(Target::open(&path)?);
        }
    }
    targets.sort_by_key(|target| std::cmp::Reverse(version_key(&target.info.name)));
    Ok(targets)
}

fn version_key(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// The target named `name`, or the newest installed one.
pub fn resolve(name: Option<&str>) -> Result<Target, TargetError> {
    let targets = list()?;
    let Some(name) = name else {
        return targets.into_iter().next().ok_or(TargetError::NoneInstalled);
    };
    let names: Vec<String> = targets.iter().map(|t| t.info.name.clone()).collect();
    targets
        .into_iter()
        .find(|target| target.info.name == name)
        .ok_or_else(|| TargetError::NotInstalled {
            name: name.to_string(),
            installed: if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tags_follow_the_abi_table() {
        assert_eq!(
            platform_tag("2025_0", "emscripten_4_0_9"),
            "pyemscripten_2025_0_wasm32"
        );
        assert_eq!(
            platform_tag("2026_0", "emscripten_5_0_3"),
            "pyemscripten_2026_0_wasm32"
        );
        assert_eq!(
            platform_tag("2024_0", "emscripten_3_1_58"),
            "pyodide_2024_0_wasm32"
        );
        assert_eq!(
            platform_tag("", "emscripten_3_1_45"),
            "emscripten_3_1_45_wasm32"
        );
    }

    #[test]
    fn include_dir_matches_the_sysconfig_layout() {
        assert_eq!(
            include_dir(Path::new("/t"), "3.13.2"),
            Path::new("/t/cpython/installs/python-3.13.2/include/python3.13")
        );
        assert_eq!(python_xy("3.13.2"), "3.13");
    }

    #[test]
    fn newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("target.json"), r#"{"format_version": 99}"#).unwrap();
        let error = Target::open(dir.path()).unwrap_err();
        assert!(matches!(
            error,
            TargetError::UnsupportedFormat { found: 99, .. }
        ));
    }
}
