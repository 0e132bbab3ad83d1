//! The cross-build environment: target Python headers and sysconfig, the Pyodide runtime and
//! its lockfile, the required emcc version; installing, listing and verifying them.

mod default;
mod headers;
mod hostpython;
mod infer;
mod install;
mod libffi;
mod sysconfig;
mod xbuildenv;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use hostpython::HostPython;
pub use infer::{resolve_for, InputTags};
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
    #[diagnostic(help("the file is damaged or not what it claims to be; fetch it again"))]
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
    /// The wheel platform tag, e.g. `pyemscripten_2025_0_wasm32`: from [`platform_tag`]'s
    /// table, or given with `--platform-tag`.
    pub platform_tag: String,
    /// Whether `platform_tag` was given with `--platform-tag` rather than taken from the table.
    #[serde(default)]
    pub platform_tag_overridden: bool,
    /// The extension-module suffix, e.g. `.cpython-313-wasm32-emscripten.so`.
    pub ext_suffix: String,
    /// Flags for every compile of a side module (pyodide-build's `SIDE_MODULE_CFLAGS`).
    ///
    /// These three are what `target install` computed. [`Target::open`] computes them again
    /// from the exception flags they record (the one part that comes from the distribution), so
    /// a target installed by an older emwheel builds with this emwheel's defaults.
    pub cflags: Vec<String>,
    /// Flags for every C++ compile of a side module, after `cflags` (`SIDE_MODULE_CXXFLAGS`).
    #[serde(default)]
    pub cxxflags: Vec<String>,
    /// Flags for every link of a side module (`SIDE_MODULE_LDFLAGS`).
    pub ldflags: Vec<String>,
    /// The host interpreter that runs build backends.
    pub host_python: PathBuf,
    /// The host interpreter's `X.Y`. When it is not the target's, builds run in cross-version
    /// mode (see [`Target::cross_host`]). Targets installed before this field existed always
    /// had a host of the target's `X.Y`.
    #[serde(default)]
    pub host_python_version: String,
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
        Ok(Target::with_current_flags(dir, info))
    }

    /// The target in `dir` with the side-module flags of this emwheel (see
    /// [`TargetInfo::cflags`]). They are derived at load time rather than frozen at install
    /// time: all a target contributes to them is its exception handling, which every
    /// `target.json` records in its `cflags`; the rest is how emwheel builds, and changes with
    /// emwheel, which must not mean reinstalling every target.
    fn with_current_flags(dir: &Path, mut info: TargetInfo) -> Self {
        let include = include_dir(dir, &info.python_version);
        let flags = sysconfig::side_module_flags(&info.cflags.join(" "), &include);
        info.cflags = flags.cflags;
        info.cxxflags = flags.cxxflags;
        info.ldflags = flags.ldflags;
        Target {
            dir: dir.to_path_buf(),
            info,
        }
    }

    /// The `X.Y` Python version, e.g. `3.13`.
    pub fn python_xy(&self) -> String {
        python_xy(&self.info.python_version)
    }

    /// The CPython tag, e.g. `cp313`.
    pub fn python_tag(&self) -> String {
        format!("cp{}", self.python_xy().replace('.', ""))
    }

    /// The tags wheels for this target carry (what [`crate::wheel`] retags to and checks).
    pub fn tags(&self) -> crate::wheel::TargetTags {
        crate::wheel::TargetTags {
            python_tag: self.python_tag(),
            platform_tag: self.info.platform_tag.clone(),
            ext_suffix: self.info.ext_suffix.clone(),
        }
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

    /// The target's Pyodide under Node.js, with micropip's wheels.
    pub fn pyodide(&self) -> crate::runtime::PyodideRuntime {
        let micropip = self.info.micropip_wheels.iter();
        let micropip = micropip.map(|wheel| self.dir.join(wheel)).collect();
        crate::runtime::PyodideRuntime::new(self.runtime_dir(), micropip)
    }

    /// The directory holding the target's sysconfigdata module, as the distribution has it.
    pub fn sysconfig_dir(&self) -> PathBuf {
        self.dir.join("sysconfig")
    }

    /// The host's `X.Y` when it differs from the target's: builds then run in cross-version
    /// mode, with [`Target::backend_sysconfig_dir`] and a retag of the wheel.
    pub fn cross_host(&self) -> Option<&str> {
        let host = self.info.host_python_version.as_str();
        (!host.is_empty() && host != self.python_xy()).then_some(host)
    }

    /// The sysconfigdata build backends see. In cross-version mode it is a copy whose `SOABI`
    /// names the host's version, so that setuptools older than 84.2.1 does not refuse the
    /// wheel tag (`cp313-cp314` is not a tag a 3.13 interpreter supports); `EXT_SUFFIX`, and
    /// so every extension's file name, stays the target's.
    pub fn backend_sysconfig_dir(&self) -> PathBuf {
        match self.cross_host() {
            Some(host) => cross_sysconfig_dir(&self.dir, host),
            None => self.sysconfig_dir(),
        }
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

fn cross_sysconfig_dir(target_dir: &Path, host_xy: &str) -> PathBuf {
    target_dir
        .join("sysconfig")
        .join(format!("host-cp{}", host_xy.replace('.', "")))
}

fn include_dir(target_dir: &Path, python_version: &str) -> PathBuf {
    target_dir
        .join("cpython/installs")
        .join(format!("python-{python_version}"))
        .join("include")
        .join(format!("python{}", python_xy(python_version)))
}

/// The wheel platform tag for a Pyodide ABI version (the lockfile's `info.abi_version`):
///
/// | ABI version | tag | Pyodide |
/// |---|---|---|
/// | `2025_0` and later | `pyemscripten_YYYY_N_wasm32` ([PEP 783](https://peps.python.org/pep-0783/)) | 0.28, 0.29 (`2025_0`), 314.x (`2026_0`) |
/// | `2024_0` | `pyodide_2024_0_wasm32` | 0.27 |
/// | none | `emscripten_X_Y_Z_wasm32`, from the lockfile's `info.platform` | 0.26 and older |
///
/// A future ABI whose tag follows another rule is installed with
/// `emwheel target install --platform-tag TAG` (checked by [`check_platform_tag`]).
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

/// Checks a platform tag given with `--platform-tag`: lowercase letters, digits and `_`,
/// ending in `_wasm32`, as every Emscripten wheel tag does.
pub fn check_platform_tag(tag: &str) -> Result<(), TargetError> {
    let well_formed = tag
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if well_formed && tag.len() > "_wasm32".len() && tag.ends_with("_wasm32") {
        return Ok(());
    }
    Err(TargetError::Invalid {
        message: format!("`{tag}` is not a wasm32 wheel platform tag"),
        help: "a platform tag is lowercase letters, digits and `_`, ending in `_wasm32`, e.g. `pyemscripten_2027_0_wasm32`".to_string(),
    })
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
        // Staging and half-removed targets start with a dot.
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if !hidden && path.join("target.json").is_file() {
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

/// The target named `name`; without a name, the default: the one `emwheel target use` set,
/// else the newest installed.
pub fn resolve(name: Option<&str>) -> Result<Target, TargetError> {
    let mut targets = list()?;
    let stored = match name {
        Some(_) => None,
        None => default::read()?,
    };
    let names: Vec<&str> = targets.iter().map(|t| t.info.name.as_str()).collect();
    let index = pick(&names, name.or(stored.as_deref()))?;
    Ok(targets.swap_remove(index))
}

/// Which of `names` (newest first) is `wanted`, or the newest when nothing is wanted.
fn pick(names: &[&str], wanted: Option<&str>) -> Result<usize, TargetError> {
    let Some(wanted) = wanted else {
        return if names.is_empty() {
            Err(TargetError::NoneInstalled)
        } else {
            Ok(0)
        };
    };
    names
        .iter()
        .position(|name| *name == wanted)
        .ok_or_else(|| TargetError::NotInstalled {
            name: wanted.to_string(),
            installed: if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
        })
}

/// The installed targets, newest first, and the index of the default among them (none when
/// nothing is installed or the stored default is gone).
pub fn list_with_default() -> Result<(Vec<Target>, Option<usize>), TargetError> {
    let targets = list()?;
    let stored = default::read()?;
    let names: Vec<&str> = targets.iter().map(|t| t.info.name.as_str()).collect();
    let index = pick(&names, stored.as_deref()).ok();
    Ok((targets, index))
}

/// Makes the installed target `name` the default.
pub fn use_target(name: &str) -> Result<Target, TargetError> {
    let target = resolve(Some(name))?;
    default::write(name)?;
    Ok(target)
}

/// Removes the installed target `name` (and the default setting, if it named it).
pub fn remove(name: &str) -> Result<Target, TargetError> {
    let target = resolve(Some(name))?;
    if default::read()?.as_deref() == Some(name) {
        default::clear()?;
    }
    // Renamed out of the way first, so that an interrupted removal leaves no half target.
    let doomed = crate::home::targets_dir().join(format!(".remove-{name}"));
    if doomed.exists() {
        fs_err::remove_dir_all(&doomed)?;
    }
    fs_err::rename(&target.dir, &doomed)?;
    fs_err::remove_dir_all(&doomed)?;
    Ok(target)
}

/// A 314.0.7 target in `/t`, as a target.json written before cross-version mode existed
/// describes it, then built on a 3.13 host.
#[cfg(test)]
pub fn test_target() -> Target {
    let mut info: TargetInfo = serde_json::from_value(serde_json::json!({
        "format_version": 1, "name": "314.0.7", "python_version": "3.14.2",
        "emscripten_version": "5.0.3", "abi_version": "2026_0", "platform": "emscripten_5_0_3",
        "platform_tag": "pyemscripten_2026_0_wasm32",
        "ext_suffix": ".cpython-314-wasm32-emscripten.so",
        "cflags": ["-O2", "-fwasm-exceptions"], "ldflags": ["-fwasm-exceptions"],
        "host_python": "/usr/bin/python3.13", "host_include": "/usr/include/python3.13",
        "headers_from": "/usr/include/python3.14", "micropip_wheels": [], "files": {}
    }))
    .expect("a format-1 target.json without the newer fields still reads");
    info.host_python_version = "3.13".to_string();
    Target::with_current_flags(Path::new("/t"), info)
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
    fn platform_tag_overrides_must_look_like_wasm32_tags() {
        assert!(check_platform_tag("pyemscripten_2027_0_wasm32").is_ok());
        for bad in [
            "_wasm32",
            "pyemscripten_2027_0",
            "Pyodide_2027_wasm32",
            "a-b_wasm32",
        ] {
            assert!(check_platform_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn newest_version_sorts_first_numerically() {
        let mut names = vec!["0.29.5", "314.0.7", "0.27.7", "0.100.0"];
        names.sort_by_key(|name| std::cmp::Reverse(version_key(name)));
        assert_eq!(names, ["314.0.7", "0.100.0", "0.29.5", "0.27.7"]);
    }

    #[test]
    fn default_is_the_stored_target_else_the_newest() {
        let names = ["314.0.7", "0.29.5", "0.27.7"];
        assert_eq!(pick(&names, None).unwrap(), 0);
        assert_eq!(pick(&names, Some("0.27.7")).unwrap(), 2);
        let error = pick(&names, Some("9.9.9")).unwrap_err().to_string();
        assert!(error.contains("`9.9.9` is not installed"), "{error}");
        assert!(error.contains("314.0.7, 0.29.5, 0.27.7"), "{error}");
        assert!(matches!(pick(&[], None), Err(TargetError::NoneInstalled)));
    }

    #[test]
    fn cross_host_mode_follows_the_recorded_host_version() {
        let mut target = test_target();
        assert_eq!(target.cross_host(), Some("3.13"));
        assert_eq!(
            target.backend_sysconfig_dir(),
            Path::new("/t/sysconfig/host-cp313")
        );
        for same in ["3.14", ""] {
            target.info.host_python_version = same.to_string();
            assert_eq!(target.cross_host(), None);
            assert_eq!(target.backend_sysconfig_dir(), Path::new("/t/sysconfig"));
        }
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
    fn a_target_installed_with_older_flags_gets_the_current_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut json = serde_json::to_value(test_target().info).unwrap();
        json["cflags"] = serde_json::json!(["-O2", "-g0", "-fPIC", "-fwasm-exceptions"]);
        json["cxxflags"] = serde_json::json!([]);
        json["ldflags"] = serde_json::json!(["-O2", "-g0", "-sWASM_BIGINT", "-fwasm-exceptions"]);
        let path = dir.path().join("target.json");
        fs_err::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
        let info = Target::open(dir.path()).unwrap().info;
        let include = include_dir(dir.path(), "3.14.2");
        let cflags = format!(
            "-O2 -g0 -fPIC -fwasm-exceptions -I{} -Oz",
            include.display()
        );
        assert_eq!(info.cflags.join(" "), cflags);
        assert_eq!(
            info.cxxflags.join(" "),
            "-O2 -g0 -fPIC -fwasm-exceptions -Oz"
        );
        let ldflags = "-O2 -g0 -sWASM_BIGINT -fwasm-exceptions -sSIDE_MODULE=1 -Oz";
        assert_eq!(info.ldflags.join(" "), ldflags);
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
