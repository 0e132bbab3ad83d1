//! `emwheel toolchain install`: the emsdk release a target needs, installed the way
//! pyodide-build installs it (a git clone of emsdk, `emsdk install`, `emsdk activate`), kept
//! in emwheel's home as `emsdk/<version>` under a file lock.

use std::path::{Path, PathBuf};

use super::{discover, EmccVersion, Origin, Toolchain, ToolchainError};
use crate::fsutil::FileLock;
use crate::process::Cmd;

/// The environment variable naming the emsdk git repository to clone (a mirror, or a local
/// repository in tests).
pub const REPOSITORY_VARIABLE: &str = "EMWHEEL_EMSDK_REPOSITORY";

/// emsdk's upstream repository.
const UPSTREAM: &str = "https://github.com/emscripten-core/emsdk.git";

/// Staging clones start with this; a killed install's staging is removed by the next one.
const STAGING_PREFIX: &str = ".staging-";

/// What [`install`] did.
#[derive(Debug)]
pub struct Installed {
    /// The installed toolchain.
    pub toolchain: Toolchain,
    /// Whether it was installed already (nothing was done).
    pub already: bool,
}

/// Installs emsdk `version` in `emsdk/<version>` unless it is there (or `force`): clones the
/// repository into a staging directory, runs `emsdk install` and `emsdk activate` in it,
/// checks that its emcc reports `version`, and renames it into place. Concurrent installs
/// wait for one another on `emsdk/.lock`.
pub fn install(version: EmccVersion, force: bool) -> Result<Installed, ToolchainError> {
    let dir = crate::home::emsdk_dir();
    fs_err::create_dir_all(&dir)?;
    let _lock = FileLock::acquire(&dir.join(".lock"))?;
    crate::fsutil::sweep(&dir, STAGING_PREFIX)?;
    let target = dir.join(version.to_string());
    if !force && target.join("upstream/emscripten/emcc").is_file() {
        let toolchain = discover::open(discover::emsdk_bin_dir(&target), Origin::Installed)?;
        return Ok(Installed {
            toolchain,
            already: true,
        });
    }
    let staging = dir.join(format!("{STAGING_PREFIX}{version}"));
    clone_and_activate(&staging, version)?;
    if target.exists() {
        fs_err::remove_dir_all(&target)?;
    }
    fs_err::rename(&staging, &target)?;
    let toolchain = discover::open(discover::emsdk_bin_dir(&target), Origin::Installed)?;
    if toolchain.version != version {
        return Err(ToolchainError::Damaged {
            file: toolchain.emcc(),
            problem: format!("reports {}, not the installed {version}", toolchain.version),
        });
    }
    Ok(Installed {
        toolchain,
        already: false,
    })
}

fn clone_and_activate(staging: &Path, version: EmccVersion) -> Result<(), ToolchainError> {
    let repository = std::env::var(REPOSITORY_VARIABLE)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| UPSTREAM.to_string());
    let step = |what: &str, cmd: Cmd| {
        cmd.inherit_env()
            .run()
            .map(drop)
            .map_err(|source| ToolchainError::InstallStep {
                step: what.to_string(),
                source: Box::new(source),
            })
    };
    // pyodide-build clones with `--filter=blob:none`; a shallow clone is as small and also
    // works for local repositories.
    let git = which::which("git").map_err(|_| ToolchainError::GitNotFound)?;
    let clone = Cmd::new(git)
        .args(["clone", "--depth", "1", &repository])
        .arg(staging);
    step("git clone", clone)?;
    let emsdk: PathBuf = staging.join("emsdk");
    let version = version.to_string();
    let install = Cmd::new(&emsdk).args(["install", &version]).dir(staging);
    step("emsdk install", install)?;
    let activate = Cmd::new(&emsdk).args(["activate", &version]).dir(staging);
    step("emsdk activate", activate)?;
    if !staging.join("upstream/emscripten/emcc").is_file() {
        return Err(ToolchainError::Damaged {
            file: staging.join("upstream/emscripten/emcc"),
            problem: "is missing after `emsdk install`".to_string(),
        });
    }
    Ok(())
}
