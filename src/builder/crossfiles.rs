//! The files that point CMake and Meson at the target: a CMake toolchain file (found through
//! the `CMAKE_TOOLCHAIN_FILE` environment variable, so scikit-build-core and a script's plain
//! `cmake` both use it) and a Meson cross file (handed to meson-python as `setup-args`).
//!
//! The CMake file is written as `cmake/Platform/Emscripten.cmake`, so that CMake's own load of
//! the platform file at `project()` finds it rather than Emscripten's (as pyodide-build does).
//! Both name the build's compiler wrapper as the compilers, so extension modules get the same
//! side-module flags and export lists as under setuptools. The CMake file follows
//! pyodide-build's toolchain: Emscripten's own file, then shared libraries allowed, the
//! library prefix searched first and the target's Python headers fixed.

use std::path::{Path, PathBuf};

/// What the files need to know.
pub struct CrossPaths<'a> {
    /// The build's wrapper links (`cc`, `c++`, `ar`, …).
    pub wrapper_bin: &'a Path,
    /// The Emscripten directory holding `cmake/Modules/Platform/Emscripten.cmake`.
    pub emscripten_root: Option<&'a Path>,
    /// The target's library prefix.
    pub library_prefix: &'a Path,
    /// Where a library build installs (`WASM_LIBRARY_DIR`).
    pub install_prefix: &'a Path,
    /// The target Python's include directory.
    pub python_include: &'a Path,
}

/// A CMake string literal.
fn cmake_quote(path: &Path) -> String {
    format!("\"{}\"", path.display().to_string().replace('"', "\\\""))
}

/// A Meson string literal.
fn meson_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "\\'"))
}

impl CrossPaths<'_> {
    fn tool(&self, name: &str) -> PathBuf {
        self.wrapper_bin.join(name)
    }

    /// The CMake toolchain file's text.
    pub fn cmake_toolchain(&self) -> String {
        let include = self
            .emscripten_root
            .map(|root| {
                let file = root.join(crate::toolchain::EMSCRIPTEN_CMAKE);
                format!("include({})\n", cmake_quote(&file))
            })
            .unwrap_or_default();
        let q = |p: &Path| cmake_quote(p);
        format!(
            "# Written by emwheel for one build.\n\
             {include}\
             # CMake loads Platform/Emscripten.cmake again at project(), which would turn shared\n\
             # libraries off: this file, which lives at that name, comes first on the path.\n\
             list(PREPEND CMAKE_MODULE_PATH \"${{CMAKE_CURRENT_LIST_DIR}}/..\")\n\
             set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS TRUE)\n\
             set(CMAKE_C_COMPILER {cc})\n\
             set(CMAKE_CXX_COMPILER {cxx})\n\
             list(PREPEND CMAKE_FIND_ROOT_PATH {prefix})\n\
             if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)\n  \
               set(CMAKE_INSTALL_PREFIX {install} CACHE PATH \"Install prefix\" FORCE)\n\
             endif()\n\
             set(Python_INCLUDE_DIR {python} CACHE PATH \"Target Python headers\" FORCE)\n\
             set(Python3_INCLUDE_DIR {python} CACHE PATH \"Target Python headers\" FORCE)\n\
             # The wrapper reads object files to list exports: keep them on the command line.\n\
             set(CMAKE_C_USE_RESPONSE_FILE_FOR_OBJECTS 0)\n\
             set(CMAKE_CXX_USE_RESPONSE_FILE_FOR_OBJECTS 0)\n\
             set(CMAKE_C_USE_RESPONSE_FILE_FOR_LIBRARIES 0)\n\
             set(CMAKE_CXX_USE_RESPONSE_FILE_FOR_LIBRARIES 0)\n",
            cc = q(&self.tool("cc")),
            cxx = q(&self.tool("c++")),
            prefix = q(self.library_prefix),
            install = q(self.install_prefix),
            python = q(self.python_include),
        )
    }

    /// The Meson cross file's text.
    pub fn meson_cross(&self, pkg_config: Option<&Path>) -> String {
        let q = |p: &Path| meson_quote(p);
        let pkg_config = pkg_config
            .map(|p| format!("pkg-config = {}\n", q(p)))
            .unwrap_or_default();
        format!(
            "# Written by emwheel for one build.\n\
             [binaries]\n\
             c = {cc}\n\
             cpp = {cxx}\n\
             ar = {ar}\n\
             strip = {strip}\n\
             {pkg_config}\
             exe_wrapper = 'node'\n\n\
             [properties]\n\
             needs_exe_wrapper = true\n\
             skip_sanity_check = true\n\
             longdouble_format = 'IEEE_QUAD_LE'\n\n\
             [host_machine]\n\
             system = 'emscripten'\n\
             cpu_family = 'wasm32'\n\
             cpu = 'wasm32'\n\
             endian = 'little'\n",
            cc = q(&self.tool("cc")),
            cxx = q(&self.tool("c++")),
            ar = q(&self.tool("ar")),
            strip = q(&self.tool("strip")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> CrossPaths<'static> {
        CrossPaths {
            wrapper_bin: Path::new("/b/bin"),
            emscripten_root: Some(Path::new("/em")),
            library_prefix: Path::new("/lib prefix"),
            install_prefix: Path::new("/b/prefix"),
            python_include: Path::new("/t/include/python3.13"),
        }
    }

    #[test]
    fn cmake_toolchain_wraps_emscripten_and_uses_the_wrapper() {
        let text = paths().cmake_toolchain();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1],
            "include(\"/em/cmake/Modules/Platform/Emscripten.cmake\")"
        );
        for line in [
            "set(CMAKE_C_COMPILER \"/b/bin/cc\")",
            "set(CMAKE_CXX_COMPILER \"/b/bin/c++\")",
            "list(PREPEND CMAKE_FIND_ROOT_PATH \"/lib prefix\")",
            "  set(CMAKE_INSTALL_PREFIX \"/b/prefix\" CACHE PATH \"Install prefix\" FORCE)",
            "set(Python_INCLUDE_DIR \"/t/include/python3.13\" CACHE PATH \"Target Python headers\" FORCE)",
        ] {
            assert!(lines.contains(&line), "{line} not in\n{text}");
        }
        let without_root = CrossPaths {
            emscripten_root: None,
            ..paths()
        };
        assert!(!without_root.cmake_toolchain().contains("include("));
    }

    #[test]
    fn meson_cross_file_describes_wasm32_emscripten() {
        let text = paths().meson_cross(Some(Path::new("/usr/bin/pkg-config")));
        for line in [
            "c = '/b/bin/cc'",
            "cpp = '/b/bin/c++'",
            "pkg-config = '/usr/bin/pkg-config'",
            "exe_wrapper = 'node'",
            "system = 'emscripten'",
            "cpu_family = 'wasm32'",
            "cpu = 'wasm32'",
            "endian = 'little'",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        assert!(!paths().meson_cross(None).contains("pkg-config"));
    }
}
