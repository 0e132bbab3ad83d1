//! One package's build directory, and the scrubbed environment its build runs in.
//!
//! Layout: `src/` (the source), `bin/` (compiler-wrapper links), `home/` and `tmp/` (HOME and
//! TMPDIR), `dist/` (what the backend writes), `wheel/` (the unpacked wheel), `exports/`
//! (side-module export lists), `prefix/` (where a library recipe installs), `cmake/Platform/Emscripten.cmake`
//! and `cross.ini` (CMake and Meson cross-build files), `build.log` and `compiler.log`.

use std::path::{Path, PathBuf};

use super::isolation::{Confinement, Isolation};
use super::BuildError;
use crate::crossenv::Target;
use crate::fsutil::FileLock;
use crate::process::Cmd;
use crate::toolchain::wrapper::{self, WrapperConfig};

/// A build directory that is removed on success and kept on failure.
///
/// While a build runs, its directory is locked and holds [`ACTIVE_MARKER`]; a directory
/// with the marker and no lock was left by a killed emwheel, and the next build removes it.
/// Kept directories lose the marker, so they stay for inspection.
pub struct Sandbox {
    dir: tempfile::TempDir,
    _lock: FileLock,
    /// The compiler wrapper's links, shared by every build of this emwheel.
    wrapper_bin: PathBuf,
    /// With `--sandbox`: how a step is confined to this directory.
    confinement: Option<Confinement>,
}

/// The directory of links that reach this executable as each wrapped tool (`cc`, `ar`, …),
/// shared by every build of one emwheel: made once, staged and renamed into place (a killed
/// maker's staging is swept by the next maker). The same path in every build keeps the
/// compiler paths that build systems record (numpy's `__config__.py`) the same, so that
/// rebuilds stay byte-identical. `root` is [`crate::home::wrapper_links_dir`] but in tests.
pub fn wrapper_links(root: &Path) -> Result<PathBuf, BuildError> {
    let exe = std::env::current_exe()?;
    let identity = format!(
        "{}\n{}\n{}",
        exe.display(),
        env!("CARGO_PKG_VERSION"),
        wrapper::WRAPPED_TOOLS.join(" ")
    );
    let dir = root.join(&crate::hash::sha256_bytes(identity.as_bytes())[..16]);
    if dir.is_dir() {
        return Ok(dir);
    }
    fs_err::create_dir_all(root)?;
    // Makers take turns; whoever holds the lock removes what killed makers left.
    let _lock = FileLock::acquire_dir(root)?;
    crate::fsutil::sweep(root, crate::fsutil::PARTIAL_PREFIX)?;
    if dir.is_dir() {
        return Ok(dir);
    }
    let staging = tempfile::Builder::new()
        .prefix(crate::fsutil::PARTIAL_PREFIX)
        .tempdir_in(root)?;
    for tool in wrapper::WRAPPED_TOOLS {
        std::os::unix::fs::symlink(&exe, staging.path().join(tool))?;
    }
    crate::fsutil::place_dir(staging, &dir)?;
    Ok(dir)
}

/// The file that marks a build directory in use.
const ACTIVE_MARKER: &str = ".emwheel-active";

/// The file that marks a failed build's directory, kept for inspection.
const KEPT_MARKER: &str = ".emwheel-kept";

/// Build directories start with this, under the system temp dir.
const PREFIX: &str = "emwheel-";

impl Sandbox {
    /// A fresh build directory for `package` under the system temp dir, whose build steps
    /// run isolated when `isolation` is given.
    pub fn new(
        package: &str,
        isolation: Option<Isolation>,
        wrapper_bin: PathBuf,
    ) -> Result<Self, BuildError> {
        sweep_abandoned(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{package}-"))
            .tempdir()?;
        // Locked before it is marked, so a sweep never sees the marker without the lock.
        let lock = FileLock::acquire_dir(dir.path())?;
        fs_err::write(dir.path().join(ACTIVE_MARKER), "")?;
        for sub in ["home", "tmp", "dist", "exports", "cmake/Platform"] {
            fs_err::create_dir_all(dir.path().join(sub))?;
        }
        let confinement = isolation
            .map(|isolation| Confinement::new(isolation, dir.path()))
            .transpose()?;
        Ok(Sandbox {
            dir,
            _lock: lock,
            wrapper_bin,
            confinement,
        })
    }

    /// `command` as a build step runs it: confined with `--sandbox`, else unchanged.
    pub fn isolate(&self, command: Cmd) -> Cmd {
        match &self.confinement {
            Some(confinement) => confinement.wrap(command),
            None => command,
        }
    }

    /// How build steps are confined, with `--sandbox`.
    pub fn confinement(&self) -> Option<&Confinement> {
        self.confinement.as_ref()
    }

    /// The build directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where the source tree goes.
    pub fn source_dir(&self) -> PathBuf {
        self.path().join("src")
    }

    /// Where the backend writes its wheel.
    pub fn dist_dir(&self) -> PathBuf {
        self.path().join("dist")
    }

    /// The build's log of every command and its output.
    pub fn log_path(&self) -> PathBuf {
        self.path().join("build.log")
    }

    /// The wrapper's log: one line per compiler call with its time.
    pub fn compiler_log_path(&self) -> PathBuf {
        self.path().join("compiler.log")
    }

    /// Where a library recipe's script installs (its `WASM_LIBRARY_DIR`).
    pub fn staging_prefix(&self) -> PathBuf {
        self.path().join("prefix")
    }

    /// The CMake toolchain file (`CMAKE_TOOLCHAIN_FILE`), named as the platform file it
    /// stands in for.
    pub fn cmake_toolchain_path(&self) -> PathBuf {
        self.path().join("cmake/Platform/Emscripten.cmake")
    }

    /// The Meson cross file (`MESON_CROSS_FILE`).
    pub fn meson_cross_path(&self) -> PathBuf {
        self.path().join("cross.ini")
    }

    /// The directory of the wrapper links.
    pub fn bin_dir(&self) -> PathBuf {
        self.wrapper_bin.clone()
    }

    /// Keeps the directory (after a failure) and returns its path.
    pub fn keep(self) -> PathBuf {
        // Marked kept before it stops being active, so no sweep ever takes it.
        let _ = fs_err::write(self.path().join(KEPT_MARKER), "");
        let _ = fs_err::remove_file(self.path().join(ACTIVE_MARKER));
        self.dir.keep()
    }

    /// Writes (or rewrites) the wrapper's config.
    pub fn write_wrapper_config(&self, config: &WrapperConfig) -> Result<PathBuf, BuildError> {
        let path = self.path().join("wrapper.json");
        config
            .write(&path)
            .map_err(|error| std::io::Error::other(error.to_string()))?;
        Ok(path)
    }

    /// The environment a build step runs in: nothing from the parent but the PATH entries
    /// of system tools and the variables an emsdk needs. Documented in the README.
    pub fn environment(&self, target: &Target, package: &PackageVars) -> Vec<(String, String)> {
        let path = |p: &Path| p.display().to_string();
        let python_part = |i: usize| {
            let version = &target.info.python_version;
            version.split('.').nth(i).unwrap_or_default().to_string()
        };
        let mut vars: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                format!(
                    "{}:{}:{}:/usr/local/bin:/usr/bin:/bin",
                    path(&self.bin_dir()),
                    path(&package.host_install_dir.join("bin")),
                    path(&package.toolchain_bin),
                ),
            ),
            ("HOME".into(), path(&self.path().join("home"))),
            ("TMPDIR".into(), path(&self.path().join("tmp"))),
            ("LANG".into(), "C.UTF-8".into()),
            (
                "SOURCE_DATE_EPOCH".into(),
                package.source_date_epoch.to_string(),
            ),
            (
                wrapper::CONFIG_VARIABLE.into(),
                path(&self.path().join("wrapper.json")),
            ),
            // Packages that silently fall back to pure Python when their C build fails
            // fail loudly under cibuildwheel; so they do here.
            ("CIBUILDWHEEL".into(), "1".into()),
            (
                "_PYTHON_SYSCONFIGDATA_NAME".into(),
                crate::crossenv::SYSCONFIGDATA_NAME.into(),
            ),
            ("_PYTHON_HOST_PLATFORM".into(), target.host_platform()),
            ("PYTHONPATH".into(), path(&target.backend_sysconfig_dir())),
            ("PYODIDE_ROOT".into(), path(&target.dir)),
            ("PYTHONINCLUDE".into(), path(&target.include_dir())),
            ("PYMAJOR".into(), python_part(0)),
            ("PYMINOR".into(), python_part(1)),
            ("PKG_VERSION".into(), package.version.clone()),
            ("PKG_BUILD_DIR".into(), path(&self.source_dir())),
            ("DISTDIR".into(), path(&self.dist_dir())),
            ("WASM_LIBRARY_DIR".into(), path(&package.library_dir)),
            // Only the target's libraries: host `.pc` files would link host libraries.
            ("PKG_CONFIG_LIBDIR".into(), package.pkg_config_path.clone()),
            ("PKG_CONFIG_PATH".into(), package.pkg_config_path.clone()),
            ("EM_PKG_CONFIG_PATH".into(), package.pkg_config_path.clone()),
            (
                "CMAKE_TOOLCHAIN_FILE".into(),
                path(&self.cmake_toolchain_path()),
            ),
            ("MESON_CROSS_FILE".into(), path(&self.meson_cross_path())),
            ("SIDE_MODULE_CFLAGS".into(), target.info.cflags.join(" ")),
            (
                "SIDE_MODULE_CXXFLAGS".into(),
                target.info.cxxflags.join(" "),
            ),
            ("SIDE_MODULE_LDFLAGS".into(), target.info.ldflags.join(" ")),
        ];
        vars.extend(pyodide_build_variables(target, package));
        for tool in [
            "CC=cc",
            "CXX=c++",
            "LD=ld",
            "AR=ar",
            "RANLIB=ranlib",
            "STRIP=strip",
        ] {
            let (key, value) = tool.split_once('=').expect("pairs");
            vars.push((key.into(), value.into()));
        }
        vars.extend(passthrough());
        if let Some(config) = &package.em_config {
            if !vars.iter().any(|(key, _)| key == "EM_CONFIG") {
                vars.push(("EM_CONFIG".into(), path(config)));
            }
        }
        vars
    }
}

/// The rest of the variables pyodide-build's `Makefile.envs` and config give a build, with
/// their values in emwheel's layout: the host install is the build environment (a venv), the
/// target install the target's `cpython/installs/python-X.Y.Z`.
fn pyodide_build_variables(target: &Target, package: &PackageVars) -> Vec<(String, String)> {
    let info = &target.info;
    let path = |p: &Path| p.display().to_string();
    let install = target.include_dir();
    let install = install
        .parent()
        .and_then(Path::parent)
        .unwrap_or(&target.dir);
    let micro = info.python_version.split('.').nth(2).unwrap_or("0");
    let cflags = info.cflags.join(" ");
    let pairs = [
        ("HOSTINSTALLDIR", path(&package.host_install_dir)),
        ("HOSTSITEPACKAGES", path(&package.host_site_packages)),
        ("NUMPY_LIB", path(&package.host_site_packages.join("numpy"))),
        ("TARGETINSTALLDIR", path(install)),
        ("CPYTHONINSTALL", path(install)),
        ("SYSCONFIGDATA_DIR", path(&target.backend_sysconfig_dir())),
        ("SYSCONFIG_NAME", crate::crossenv::SYSCONFIGDATA_NAME.into()),
        ("PYVERSION", info.python_version.clone()),
        ("PYMICRO", micro.into()),
        ("PYODIDE", "1".into()),
        ("PYODIDE_VERSION", info.name.clone()),
        ("PYODIDE_ABI_VERSION", info.abi_version.clone()),
        (
            "PYODIDE_EMSCRIPTEN_VERSION",
            info.emscripten_version.clone(),
        ),
        ("PYODIDE_JOBS", "1".into()),
        ("PLATFORM_TRIPLET", "wasm32-emscripten".into()),
        ("CFLAGS_BASE", cflags.clone()),
        ("CXXFLAGS_BASE", cflags),
        ("LDFLAGS_BASE", info.ldflags.join(" ")),
        ("PYO3_CROSS_LIB_DIR", path(&target.backend_sysconfig_dir())),
        ("PYO3_CROSS_INCLUDE_DIR", path(&target.include_dir())),
        ("PYO3_CROSS_PYTHON_VERSION", target.python_xy()),
        ("CARGO_BUILD_TARGET", "wasm32-unknown-emscripten".into()),
        (
            "CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_LINKER",
            "emcc".into(),
        ),
    ];
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// What a build step knows of its package and toolchain.
pub struct PackageVars {
    /// The package version.
    pub version: String,
    /// Timestamp for reproducible outputs.
    pub source_date_epoch: u64,
    /// What `WASM_LIBRARY_DIR` names: the target's library prefix, or for a library recipe
    /// the staging prefix it installs into.
    pub library_dir: PathBuf,
    /// pkg-config's search path (`:`-separated `lib/pkgconfig` dirs).
    pub pkg_config_path: String,
    /// emcc, emconfigure, emmake, emcmake.
    pub toolchain_bin: PathBuf,
    /// emcc's configuration, when the toolchain's entry points set it only for themselves.
    pub em_config: Option<PathBuf>,
    /// The build environment (`HOSTINSTALLDIR`); its `bin` leads PATH after the wrapper.
    pub host_install_dir: PathBuf,
    /// Its site-packages (`HOSTSITEPACKAGES`), where cross-build packages' files lie.
    pub host_site_packages: PathBuf,
}

/// Variables an activated emsdk or a user's emcc configuration relies on.
fn passthrough() -> Vec<(String, String)> {
    crate::toolchain::EMSCRIPTEN_VARIABLES
        .iter()
        .filter_map(|name| {
            std::env::var(name)
                .ok()
                .map(|value| (name.to_string(), value))
        })
        .collect()
}

/// Removes the build directories under `tmp` that killed emwheels left: marked active but
/// locked by no one. Best effort: a directory that cannot be read or removed is left.
fn sweep_abandoned(tmp: &Path) {
    let Ok(entries) = fs_err::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_string_lossy().starts_with(PREFIX);
        if !ours || path.join(KEPT_MARKER).is_file() {
            continue;
        }
        if !(path.join(ACTIVE_MARKER).is_file() || unmarked_for_a_while(&path)) {
            continue;
        }
        if let Ok(Some(_lock)) = FileLock::try_acquire_dir(&path) {
            let _ = fs_err::remove_dir_all(&path);
        }
    }
}

/// A build killed between creating its directory and marking it, or while removing it after
/// success (the marker may go first), leaves a directory with neither marker. A live build
/// marks its directory within moments of creating it, so one without a marker for over a
/// second is abandoned.
fn unmarked_for_a_while(path: &Path) -> bool {
    let age = fs_err::metadata(path)
        .and_then(|metadata| metadata.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok());
    age.is_some_and(|age| age > std::time::Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_abandoned_build_dirs_are_swept() {
        let tmp = tempfile::tempdir().unwrap();
        let make = |name: &str, active: bool| {
            let dir = tmp.path().join(name);
            fs_err::create_dir(&dir).unwrap();
            if active {
                fs_err::write(dir.join(ACTIVE_MARKER), "").unwrap();
            }
            dir
        };
        let abandoned = make("emwheel-six-killed", true);
        let running = make("emwheel-six-running", true);
        // Created a moment ago and not marked yet: a live build's.
        let just_created = make("emwheel-six-new", false);
        let foreign = make("other-tool", true);
        // Killed between creating and marking its directory, a while ago.
        let unmarked = make("emwheel-six-unmarked", false);
        // A failed build kept for inspection, also a while ago.
        let kept_old = make("emwheel-six-kept", false);
        fs_err::write(kept_old.join(KEPT_MARKER), "").unwrap();
        let earlier = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
        for dir in [&unmarked, &kept_old] {
            std::fs::File::open(dir)
                .unwrap()
                .set_modified(earlier)
                .unwrap();
        }
        let _lock = FileLock::acquire_dir(&running).unwrap();
        sweep_abandoned(tmp.path());
        assert!(!abandoned.exists() && !unmarked.exists());
        assert!(running.is_dir() && just_created.is_dir() && foreign.is_dir() && kept_old.is_dir());
    }

    /// Recipes may name these variables in flags (`recipe::substitute`): they must be set.
    #[test]
    fn environment_sets_every_variable_flags_may_name() {
        let info: crate::crossenv::TargetInfo = serde_json::from_value(serde_json::json!({
            "format_version": 1, "name": "0.29.5", "python_version": "3.13.2",
            "emscripten_version": "4.0.9", "abi_version": "2025_0",
            "platform": "emscripten_4_0_9", "platform_tag": "pyemscripten_2025_0_wasm32",
            "ext_suffix": ".so", "cflags": [], "ldflags": [], "host_python": "/p",
            "host_include": "/i", "headers_from": "/h", "micropip_wheels": [], "files": {}
        }))
        .unwrap();
        let target = Target {
            dir: PathBuf::from("/t"),
            info,
        };
        let links = tempfile::tempdir().unwrap();
        let wrapper_bin = wrapper_links(links.path()).unwrap();
        let sandbox = Sandbox::new("vars", None, wrapper_bin).unwrap();
        let package = PackageVars {
            version: "1.0".into(),
            source_date_epoch: 0,
            library_dir: PathBuf::from("/lib"),
            pkg_config_path: String::new(),
            toolchain_bin: PathBuf::from("/emsdk"),
            em_config: None,
            host_install_dir: PathBuf::from("/venv"),
            host_site_packages: PathBuf::from("/venv/lib/python3.13/site-packages"),
        };
        let environment = sandbox.environment(&target, &package);
        let value = |name: &str| {
            environment
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        for name in crate::recipe::substitute::FLAG_VARIABLES {
            assert!(value(name).is_some(), "`{name}` is not set");
        }
        assert_eq!(
            (value("PYMAJOR"), value("PYMINOR")),
            (Some("3"), Some("13"))
        );
        assert_eq!(
            value("NUMPY_LIB"),
            Some("/venv/lib/python3.13/site-packages/numpy")
        );
        assert_eq!(
            value("TARGETINSTALLDIR"),
            Some("/t/cpython/installs/python-3.13.2")
        );
        assert!(value("PATH").unwrap().contains(":/venv/bin:"));
    }

    #[test]
    fn every_build_of_one_emwheel_shares_its_wrapper_links() {
        let root = tempfile::tempdir().unwrap();
        let first = wrapper_links(root.path()).unwrap();
        assert_eq!(wrapper_links(root.path()).unwrap(), first);
        let exe = std::env::current_exe().unwrap();
        for tool in wrapper::WRAPPED_TOOLS {
            assert_eq!(fs_err::read_link(first.join(tool)).unwrap(), exe, "{tool}");
        }
        let entries = fs_err::read_dir(root.path()).unwrap().count();
        assert_eq!(entries, 1, "staging left beside the links");
        // What a maker killed mid-way left is swept by the next one.
        let killed = root
            .path()
            .join(format!("{}killed", crate::fsutil::PARTIAL_PREFIX));
        fs_err::create_dir(&killed).unwrap();
        fs_err::remove_dir_all(&first).unwrap();
        assert_eq!(wrapper_links(root.path()).unwrap(), first);
        assert!(!killed.exists(), "a killed maker's staging was not swept");
    }
}
