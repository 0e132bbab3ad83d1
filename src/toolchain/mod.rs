//! Finding emcc, reading its version and comparing it with the target's.

pub mod cache;
mod version_cache;
pub mod wrapper;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::process::{Cmd, CmdError};

/// The environment variable that turns an emcc version mismatch into a warning.
pub const ALLOW_MISMATCH_VARIABLE: &str = "EMWHEEL_ALLOW_EMCC_MISMATCH";

/// Environment variables an activated emsdk or a user's emcc setup relies on; builds pass
/// them through to emcc.
pub const EMSCRIPTEN_VARIABLES: &[&str] = &["EMSDK", "EMSDK_NODE", "EM_CONFIG", "EM_CACHE"];

/// Errors finding or checking emcc.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ToolchainError {
    /// No emcc anywhere we look.
    #[error("emcc not found")]
    #[diagnostic(help(
        "run `scripts/setup` to install emcc {}, or activate an emsdk (`source emsdk_env.sh`), or pass `--emsdk DIR`",
        SETUP_EMCC_VERSION
    ))]
    NotFound {
        /// Every place searched, for the message.
        searched: Vec<PathBuf>,
    },
    /// emcc did not report a version.
    #[error("could not read the version of `{}`", emcc.display())]
    #[diagnostic(help(
        "check that `{} --version` runs; its configuration (EM_CONFIG) may be broken",
        emcc.display()
    ))]
    Version {
        /// The emcc that failed.
        emcc: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<CmdError>,
    },
    /// emcc's output had no version number in it.
    #[error("`{} --version` printed no version number: `{first_line}`", emcc.display())]
    Unparsable {
        /// The emcc that ran.
        emcc: PathBuf,
        /// The line it printed.
        first_line: String,
    },
    /// emcc is not the version the target was built with.
    #[error("emcc {found} does not match the target's Emscripten {required}")]
    #[diagnostic(help(
        "install emcc {required} (`emsdk install {required} && emsdk activate {required}`) and pass `--emsdk`, or pick a target built with {found}; to build anyway (the wheels may not load), pass `--allow-emcc-mismatch` or set {ALLOW_MISMATCH_VARIABLE}=1"
    ))]
    Mismatch {
        /// The version of the emcc found.
        found: EmccVersion,
        /// The version the target requires.
        required: EmccVersion,
    },
}

/// Emscripten's CMake toolchain file, relative to the Emscripten directory.
pub const EMSCRIPTEN_CMAKE: &str = "cmake/Modules/Platform/Emscripten.cmake";

/// The emcc version `scripts/setup` installs.
pub const SETUP_EMCC_VERSION: &str = "3.1.69";

/// An Emscripten version, `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EmccVersion(pub u32, pub u32, pub u32);

impl EmccVersion {
    /// Parses `3.1.69` (also `3_1_69`, as in Pyodide platform names).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(['.', '_']).map(|part| part.parse::<u32>().ok());
        let version = EmccVersion(parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(version)
    }
}

impl fmt::Display for EmccVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// How a toolchain was found, for `doctor` and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--emsdk DIR`.
    Flag,
    /// The `EMSDK` environment variable of an activated emsdk.
    EmsdkVariable,
    /// `emcc` on PATH.
    Path,
    /// The toolchain `scripts/setup` installed under emwheel's home.
    Setup,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--emsdk",
            Origin::EmsdkVariable => "EMSDK",
            Origin::Path => "PATH",
            Origin::Setup => "scripts/setup",
        })
    }
}

/// A found emcc and its version.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// The directory holding emcc, em++, emar, emranlib.
    pub bin_dir: PathBuf,
    /// Its version.
    pub version: EmccVersion,
    /// Where it was found.
    pub origin: Origin,
}

impl Toolchain {
    /// Finds emcc: `--emsdk DIR`, then an activated emsdk (`EMSDK`), then `emcc` on PATH,
    /// then the toolchain `scripts/setup` installed. Its version is read once and remembered
    /// in emwheel's home until emcc's files change.
    pub fn find(emsdk_flag: Option<&Path>) -> Result<Self, ToolchainError> {
        let candidates = candidates(emsdk_flag);
        let found = candidates
            .iter()
            .find(|(dir, _)| dir.join("emcc").is_file())
            .cloned();
        let Some((bin_dir, origin)) = found else {
            return Err(ToolchainError::NotFound {
                searched: candidates.into_iter().map(|(dir, _)| dir).collect(),
            });
        };
        let cache_file = crate::home::cache_dir().join("emcc-version.json");
        let version =
            version_cache::cached_version(&bin_dir.join("emcc"), &cache_file, read_version)?;
        Ok(Toolchain {
            bin_dir,
            version,
            origin,
        })
    }

    /// The emcc executable.
    pub fn emcc(&self) -> PathBuf {
        self.bin_dir.join("emcc")
    }

    /// The Emscripten directory (with `cmake/Modules/Platform/Emscripten.cmake`): where emcc
    /// really lives, behind the entry-point scripts `scripts/setup` writes (found beside its
    /// `bin/`, however the toolchain was found).
    pub fn emscripten_root(&self) -> Option<PathBuf> {
        let has_cmake = |dir: &Path| dir.join(EMSCRIPTEN_CMAKE).is_file();
        let real = fs_err::canonicalize(self.emcc())
            .ok()
            .and_then(|emcc| parent(&emcc))
            .filter(|dir| has_cmake(dir));
        real.or_else(|| {
            let setup = self.bin_dir.join("../emscripten/usr/share/emscripten");
            has_cmake(&setup).then(|| fs_err::canonicalize(&setup).unwrap_or(setup))
        })
    }

    /// The emcc configuration `scripts/setup` writes beside its `bin/`: its entry points set
    /// `EM_CONFIG` for themselves, but CMake calls `emar` and `em-config` behind them, so
    /// builds export it.
    pub fn config_file(&self) -> Option<PathBuf> {
        let file = self.bin_dir.join("../emscripten.config");
        file.is_file()
            .then(|| fs_err::canonicalize(&file).unwrap_or(file))
    }

    /// Compares with the target's Emscripten version. A mismatch is an error unless allowed,
    /// in which case it is returned as a warning for the caller to show.
    pub fn check_version(
        &self,
        required: EmccVersion,
        allow_mismatch: bool,
    ) -> Result<Option<ToolchainError>, ToolchainError> {
        if self.version == required {
            return Ok(None);
        }
        let mismatch = ToolchainError::Mismatch {
            found: self.version,
            required,
        };
        if allow_mismatch {
            Ok(Some(mismatch))
        } else {
            Err(mismatch)
        }
    }
}

fn candidates(emsdk_flag: Option<&Path>) -> Vec<(PathBuf, Origin)> {
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
    candidates
}

/// An emsdk root keeps emcc in `upstream/emscripten`; a plain directory holds it directly.
fn emsdk_bin_dir(dir: &Path) -> PathBuf {
    let upstream = dir.join("upstream/emscripten");
    if upstream.join("emcc").is_file() {
        upstream
    } else {
        dir.to_path_buf()
    }
}

fn parent(path: &Path) -> Option<PathBuf> {
    path.parent().map(Path::to_path_buf)
}

fn read_version(emcc: &Path) -> Result<EmccVersion, ToolchainError> {
    let finished = Cmd::new(emcc)
        .arg("--version")
        .inherit_env()
        .run()
        .map_err(|source| ToolchainError::Version {
            emcc: emcc.to_path_buf(),
            source: Box::new(source),
        })?;
    let first_line = finished.output.lines().next().unwrap_or_default();
    parse_version_line(first_line).ok_or_else(|| ToolchainError::Unparsable {
        emcc: emcc.to_path_buf(),
        first_line: first_line.to_string(),
    })
}

/// Reads the version from emcc's first line:
/// `emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.69 (…)`.
fn parse_version_line(line: &str) -> Option<EmccVersion> {
    line.split_whitespace().find_map(EmccVersion::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_emcc_version_lines() {
        let debian =
            "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 3.1.69 ()";
        assert_eq!(parse_version_line(debian), Some(EmccVersion(3, 1, 69)));
        let emsdk = "emcc (Emscripten gcc/clang-like replacement + linker emulating GNU ld) 4.0.9 (a2b3c4d)";
        assert_eq!(parse_version_line(emsdk), Some(EmccVersion(4, 0, 9)));
        assert_eq!(parse_version_line("emcc: error"), None);
    }

    #[test]
    fn parses_platform_style_versions() {
        assert_eq!(EmccVersion::parse("4_0_9"), Some(EmccVersion(4, 0, 9)));
        assert_eq!(EmccVersion::parse("4.0"), None);
        assert_eq!(EmccVersion::parse("4.0.9.1"), None);
    }

    #[test]
    fn mismatch_is_an_error_unless_allowed() {
        let toolchain = Toolchain {
            bin_dir: PathBuf::from("/x"),
            version: EmccVersion(3, 1, 69),
            origin: Origin::Path,
        };
        let required = EmccVersion(4, 0, 9);
        let error = toolchain.check_version(required, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "emcc 3.1.69 does not match the target's Emscripten 4.0.9"
        );
        assert!(toolchain.check_version(required, true).unwrap().is_some());
        assert!(toolchain
            .check_version(EmccVersion(3, 1, 69), false)
            .unwrap()
            .is_none());
    }
}
