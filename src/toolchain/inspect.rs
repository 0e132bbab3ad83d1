//! A toolchain's parts (its emscripten directory, configuration, clang and binaryen), read
//! from its files, and the checks that name the file of a damaged one.

use std::path::{Path, PathBuf};

use super::{EmccVersion, ToolchainError};
use crate::process::Cmd;

/// A launcher script is small; anything larger is emcc itself.
const LAUNCHER_MAX_BYTES: u64 = 4096;

/// The file emcc reads its own version from, in the emscripten directory.
const VERSION_FILE: &str = "emscripten-version.txt";

/// The absolute paths a launcher script (`EM_CONFIG="…" exec "…/emcc" "$@"`, as
/// `scripts/setup` writes) quotes; none for emcc itself.
fn launcher_paths(emcc: &Path) -> Vec<PathBuf> {
    let small = fs_err::metadata(emcc).is_ok_and(|m| m.len() <= LAUNCHER_MAX_BYTES);
    let text = small
        .then(|| fs_err::read_to_string(emcc).ok())
        .flatten()
        .filter(|text| text.starts_with("#!"));
    let Some(text) = text else {
        return Vec::new();
    };
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|quoted| quoted.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The directory emcc really lives in: the one a launcher execs, else `bin_dir` itself.
pub(super) fn emscripten_dir(bin_dir: &Path) -> PathBuf {
    let emcc = bin_dir.join("emcc");
    launcher_paths(&emcc)
        .into_iter()
        .rfind(|path| path.file_name().is_some_and(|name| name == "emcc"))
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| bin_dir.to_path_buf())
}

/// The configuration file: the launcher's `EM_CONFIG`, else `emscripten.config` beside `bin/`.
fn config_file(bin_dir: &Path) -> Option<PathBuf> {
    let from_launcher = launcher_paths(&bin_dir.join("emcc"))
        .into_iter()
        .find(|path| !path.ends_with("emcc"));
    from_launcher.or_else(|| {
        let beside = bin_dir.join("../emscripten.config");
        beside.is_file().then_some(beside)
    })
}

/// A string assignment in an emcc configuration file: `NAME = '…'`.
fn config_value(text: &str, name: &str) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        let value = value.trim();
        let unquoted = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))?;
        (key.trim() == name).then(|| PathBuf::from(unquoted))
    })
}

/// Where the toolchain's clang and binaryen are: an emsdk keeps them in `upstream/bin`
/// beside `upstream/emscripten`; otherwise the configuration's `LLVM_ROOT` and
/// `BINARYEN_ROOT` say.
pub(super) fn parts(bin_dir: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let upstream = bin_dir.join("..");
    if bin_dir.ends_with("upstream/emscripten") && upstream.join("bin/clang").exists() {
        return (Some(upstream.join("bin")), Some(upstream));
    }
    let text = config_file(bin_dir).and_then(|file| fs_err::read_to_string(file).ok());
    let Some(text) = text else {
        return (None, None);
    };
    (
        config_value(&text, "LLVM_ROOT"),
        config_value(&text, "BINARYEN_ROOT"),
    )
}

/// Checks what a build needs of a toolchain, naming the first missing or malformed file:
/// the paths its launcher runs, its emscripten version file, its clang and its wasm-opt.
pub(super) fn check_files(bin_dir: &Path) -> Result<(), ToolchainError> {
    let emcc = bin_dir.join("emcc");
    for path in launcher_paths(&emcc) {
        if !path.exists() {
            return Err(damaged(
                path,
                format!("is missing (`{}` runs it)", emcc.display()),
            ));
        }
    }
    let version_file = emscripten_dir(bin_dir).join(VERSION_FILE);
    if version_file.exists() {
        let text = fs_err::read_to_string(&version_file).unwrap_or_default();
        let trimmed = text.trim().trim_matches('"');
        if EmccVersion::parse(trimmed).is_none() {
            return Err(damaged(
                version_file,
                format!("holds `{}`, not an Emscripten version", text.trim()),
            ));
        }
    }
    let (llvm, binaryen) = parts(bin_dir);
    let tools = [
        llvm.map(|dir| dir.join("clang")),
        binaryen.map(|dir| dir.join("bin/wasm-opt")),
    ];
    for tool in tools.into_iter().flatten() {
        if !tool.exists() {
            return Err(damaged(tool, "is missing".to_string()));
        }
    }
    Ok(())
}

/// A toolchain installed as `toolchains/<version>` or `emsdk/<version>` in emwheel's home
/// must report that version: another one means its version file was changed or replaced.
pub(super) fn check_directory_name(
    bin_dir: &Path,
    version: EmccVersion,
) -> Result<(), ToolchainError> {
    let homes = [crate::home::toolchains_dir(), crate::home::emsdk_dir()];
    let installed = bin_dir.ancestors().find(|dir| {
        dir.parent()
            .is_some_and(|parent| homes.iter().any(|h| h == parent))
    });
    let named = installed
        .and_then(|dir| dir.file_name())
        .and_then(|name| EmccVersion::parse(&name.to_string_lossy()));
    match named {
        Some(named) if named != version => Err(damaged(
            emscripten_dir(bin_dir).join(VERSION_FILE),
            format!("says {version}, but the toolchain is installed as {named}"),
        )),
        _ => Ok(()),
    }
}

fn damaged(file: PathBuf, problem: String) -> ToolchainError {
    ToolchainError::Damaged { file, problem }
}

/// The version a tool prints with `--version`: the word after `version` on its first line
/// (`Debian clang version 21.1.8 (14)`, `wasm-opt version 131`), or `unknown`.
pub(super) fn tool_version(tool: &Path) -> String {
    let output = Cmd::new(tool).arg("--version").inherit_env().run();
    output
        .ok()
        .and_then(|finished| version_after_word(finished.output.lines().next()?))
        .unwrap_or_else(|| "unknown".to_string())
}

fn version_after_word(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    words.find(|word| *word == "version")?;
    words.next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_string_assignments_of_emcc_configurations() {
        let text = "LLVM_ROOT = '/l/bin'\nBINARYEN_ROOT = \"/b\"\nNODE_JS = emsdk + '/node'\n";
        assert_eq!(config_value(text, "LLVM_ROOT"), Some("/l/bin".into()));
        assert_eq!(config_value(text, "BINARYEN_ROOT"), Some("/b".into()));
        assert_eq!(config_value(text, "NODE_JS"), None);
    }

    #[test]
    fn reads_versions_after_the_word_version() {
        let clang = "Debian clang version 21.1.8 (14)";
        assert_eq!(version_after_word(clang).as_deref(), Some("21.1.8"));
        assert_eq!(
            version_after_word("wasm-opt version 131").as_deref(),
            Some("131")
        );
        assert_eq!(version_after_word("clang 21"), None);
    }

    #[test]
    fn a_launcher_whose_emcc_is_gone_is_damaged_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs_err::create_dir(&bin).unwrap();
        let gone = dir.path().join("emscripten/emcc");
        let launcher = format!("#!/bin/sh\nexec \"{}\" \"$@\"\n", gone.display());
        fs_err::write(bin.join("emcc"), launcher).unwrap();
        let error = check_files(&bin).unwrap_err().to_string();
        assert!(error.contains(&gone.display().to_string()), "{error}");
        assert!(error.contains("is missing"), "{error}");
    }

    #[test]
    fn a_version_file_without_a_version_is_damaged_and_named() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("emcc"), "not a launcher").unwrap();
        fs_err::write(dir.path().join(VERSION_FILE), "\"6.0.x\"\n").unwrap();
        let error = check_files(dir.path()).unwrap_err().to_string();
        assert!(error.contains(VERSION_FILE), "{error}");
        assert!(error.contains("6.0.x"), "{error}");
    }
}
