//! Where emwheel keeps what outlives one run: the toolchain, targets, caches.

use std::path::PathBuf;

/// The environment variable that moves emwheel's home.
pub const HOME_VARIABLE: &str = "EMWHEEL_HOME";

/// emwheel's data directory: `$EMWHEEL_HOME`, else `$XDG_DATA_HOME/emwheel`, else
/// `~/.local/share/emwheel`. `scripts/setup` uses the same rule, so a toolchain it installed
/// is found with nothing to export.
pub fn home() -> PathBuf {
    if let Some(home) = non_empty_var(HOME_VARIABLE) {
        return PathBuf::from(home);
    }
    let data = non_empty_var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| user_home().join(".local/share"));
    data.join("emwheel")
}

/// The user's home directory (`$HOME`, falling back to `/root` when unset, as in CI shells).
pub fn user_home() -> PathBuf {
    non_empty_var("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Installed cross-build environments.
pub fn targets_dir() -> PathBuf {
    home().join("targets")
}

/// The toolchain `scripts/setup` installs.
pub fn toolchain_dir() -> PathBuf {
    home().join("toolchain")
}

/// The exact toolchains `scripts/setup` unpacks, one directory per Emscripten version
/// (`toolchains/6.0.5/bin/emcc`).
pub fn toolchains_dir() -> PathBuf {
    home().join("toolchains")
}

/// The emsdks `emwheel toolchain install` clones, one per Emscripten version.
pub fn emsdk_dir() -> PathBuf {
    home().join("emsdk")
}

/// Host Pythons `scripts/setup` installs, one venv per `X.Y` (`pythons/3.15/bin/python3.15`).
pub fn pythons_dir() -> PathBuf {
    home().join("pythons")
}

/// CPython `include/pythonX.Y` headers for targets whose `X.Y` no host interpreter has:
/// `scripts/setup` unpacks Debian's `libpythonX.Y-dev` below `toolchain/python-dev`.
pub fn python_headers_dir(xy: &str) -> PathBuf {
    toolchain_dir()
        .join("python-dev/usr/include")
        .join(format!("python{xy}"))
}

/// libffi's source tree, which `scripts/setup` unpacks for the target's `ffi.h`.
pub fn libffi_source_dir() -> PathBuf {
    toolchain_dir().join("libffi")
}

/// Downloaded sources, one directory per sha256.
pub fn sources_dir() -> PathBuf {
    home().join("sources")
}

/// Host virtual environments with build requirements, one per requirement set.
pub fn build_envs_dir() -> PathBuf {
    home().join("build-envs")
}

/// The compiler wrapper's links, one directory per emwheel executable.
pub fn wrapper_links_dir() -> PathBuf {
    home().join("wrapper")
}

/// Small caches of facts that are slow to learn (emcc's version).
pub fn cache_dir() -> PathBuf {
    home().join("cache")
}

/// Libraries built by library recipes, one install prefix per target.
pub fn libraries_dir() -> PathBuf {
    home().join("libraries")
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
