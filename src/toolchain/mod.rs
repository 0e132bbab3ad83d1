//! Finding emcc, reading its version and comparing it with the target's.

pub mod cache;
mod discover;
mod inspect;
pub mod install;
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
    /// No toolchain found is the version the target was built with.
    #[error("emcc {found} does not match the target's Emscripten {required} (installed toolchains: {installed})")]
    #[diagnostic(help(
        "install emcc {required} with `emwheel toolchain install {required}` (or activate an emsdk of {required} and pass `--emsdk`), or pick a target built with {found}; to build anyway (the wheels may not load), pass `--allow-emcc-mismatch` or set {ALLOW_MISMATCH_VARIABLE}=1"
    ))]
    Mismatch {
        /// The version of the emcc that would be used.
        found: EmccVersion,
        /// The version the target requires.
        required: EmccVersion,
        /// Every toolchain found, `version (origin)`, comma-separated.
        installed: String,
    },
    /// `emwheel toolchain install` needs git.
    #[error("`git` not found on PATH; `emwheel toolchain install` clones emsdk with it")]
    #[diagnostic(help("install git (`apt-get install git`)"))]
    GitNotFound,
    /// A step of `emwheel toolchain install` failed.
    #[error("`emwheel toolchain install` failed at `{step}`")]
    #[diagnostic(help(
        "the command and the end of its output are above; to clone from a mirror, set {}=URL",
        install::REPOSITORY_VARIABLE
    ))]
    InstallStep {
        /// The step (`git clone`, `emsdk install`, `emsdk activate`).
        step: String,
        /// What failed.
        #[source]
        source: Box<CmdError>,
    },
    /// A file of emwheel's home could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A toolchain's file is missing or malformed.
    #[error("damaged toolchain: `{}` {problem}", file.display())]
    #[diagnostic(help(
        "reinstall the toolchain (`scripts/setup`, or `emwheel toolchain install VERSION --force`)"
    ))]
    Damaged {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        problem: String,
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
    /// A toolchain `scripts/setup` installed under emwheel's home.
    Setup,
    /// An emsdk `emwheel toolchain install` cloned under emwheel's home.
    Installed,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--emsdk",
            Origin::EmsdkVariable => "EMSDK",
            Origin::Path => "PATH",
            Origin::Setup => "scripts/setup",
            Origin::Installed => "emwheel toolchain install",
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
    /// Every toolchain found, in precedence order (`--emsdk DIR`, `EMSDK`, `emcc` on PATH,
    /// then those under emwheel's home): each with its version, or the error that makes it
    /// unusable (a damaged one names its file).
    pub fn discover(emsdk_flag: Option<&Path>) -> Vec<Result<Self, ToolchainError>> {
        discover::discover(emsdk_flag)
    }

    /// The toolchain a build for Emscripten `required` uses: with `--emsdk`, that one; else
    /// the first found whose version is `required`; else the first found, if the mismatch is
    /// allowed (returned as a warning for the caller to show), and an error listing every
    /// toolchain found if not.
    pub fn for_target(
        emsdk_flag: Option<&Path>,
        required: EmccVersion,
        allow_mismatch: bool,
    ) -> Result<(Self, Option<ToolchainError>), ToolchainError> {
        let (chosen, others) = discover::select(emsdk_flag, required)?;
        if chosen.version == required {
            return Ok((chosen, None));
        }
        let installed = std::iter::once(&chosen)
            .chain(&others)
            .map(|t| format!("{} ({})", t.version, t.origin))
            .collect::<Vec<_>>()
            .join(", ");
        let mismatch = ToolchainError::Mismatch {
            found: chosen.version,
            required,
            installed,
        };
        if allow_mismatch {
            Ok((chosen, Some(mismatch)))
        } else {
            Err(mismatch)
        }
    }

    /// The version of its clang, e.g. `21.1.8`, or `unknown`.
    pub fn clang_version(&self) -> String {
        let llvm = inspect::parts(&self.bin_dir).0;
        llvm.map(|dir| inspect::tool_version(&dir.join("clang")))
            .unwrap_or_else(|| "unknown".to_string())
    }

    /// The version of its binaryen (wasm-opt), e.g. `131`, or `unknown`.
    pub fn binaryen_version(&self) -> String {
        let binaryen = inspect::parts(&self.bin_dir).1;
        binaryen
            .map(|dir| inspect::tool_version(&dir.join("bin/wasm-opt")))
            .unwrap_or_else(|| "unknown".to_string())
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
        let launched = Some(inspect::emscripten_dir(&self.bin_dir)).filter(|dir| has_cmake(dir));
        let real = fs_err::canonicalize(self.emcc())
            .ok()
            .and_then(|emcc| discover::parent(&emcc))
            .filter(|dir| has_cmake(dir));
        launched.or(real).or_else(|| {
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
}
