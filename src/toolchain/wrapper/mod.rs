//! The compiler wrapper: rewrites host compiler, linker and archiver calls into Emscripten calls.
//!
//! The rules follow pyodide-build's `pywasmcross.py`. As there, a compile is the call's own
//! arguments (filtered), the declaration checks, `cflags` (C++: then `cxxflags`) and the target
//! headers; a shared link is its own arguments, `-Wl,--fatal-warnings` (after `-Wl,--experimental-pic`,
//! see [`SHARED_LINK_FLAGS`]), `ldflags` and the export
//! flags. The package's own `-O3` or `-g` are not removed: the configured flags come after them,
//! and the last `-O` and `-g` win. Those flags are pyodide-build's defaults (`-Oz` last; see
//! `target::sysconfig::side_module_flags`) followed by the recipe's. Where this module differs,
//! and why:
//! - The `-Werror=…` declaration checks go on compile calls only (pywasmcross adds them to
//!   every emcc call, where a link ignores them).
//! - `ldflags`, `-Wl,--fatal-warnings` and the side-module flags go on shared-object links only,
//!   as in pywasmcross. An executable link (configure's `a.out`) is only filtered, so it stays a
//!   plain emcc link and `AC_CHECK_LIB` still fails on a missing symbol.
//! - A link is shared when it has `-shared` or its `-o` output is `*.so` / `*.so.N` (pywasmcross
//!   looks at any `.so` argument, inputs included).
//! - [`Exports::Pyinit`] exports `_PyInit_<module>`, named after the output file, instead of
//!   running nm for `PyInit*` symbols.
//! - [`Exports::Requested`] lists symbols with `llvm-nm -j --export-symbols` only (pywasmcross
//!   prefers llvm-readobj, which also leaves out hidden symbols; exporting those does no harm).
//! - More host-only flags are dropped than in pywasmcross, each checked against emcc 3.1.69:
//!   `-march=`, `-mtune=`, SSE/AVX flags, `-m64` (turns on wasm64), `-fcf-protection`, the
//!   `-Wl,-z,…` and `-Wl,-rpath,…` pairs, and a few more in the tables below. `-Wl,-O1` stays:
//!   wasm-ld accepts it.
//! - Host include/library dirs are compared as written; pywasmcross resolves symlinks first.
//! - `strip` runs emstrip (pywasmcross skips it only for Emscripten 5+, which this does not
//!   target); `install_name_tool` and `otool` are skipped, and `-print-multiarch` answers
//!   `wasm32-emscripten`, as in pywasmcross.
//! - Export lists go to `work_dir` (pywasmcross uses a temporary file) and are kept there, so a
//!   logged command can be run again by hand.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use serde::{Deserialize, Serialize};

mod args;
mod native;
mod run;

use args::*;
pub use run::{run_as_wrapper, summarize_log, CallSummary};

/// Whether the user turned the native compile path on (`EMWHEEL_NATIVE_COMPILE=1`). It is off
/// by default until it is proven byte-identical on every shipped recipe's compiles and faster
/// on whole builds (so far: on a representative set of sources, and per call only).
pub fn native_compile_requested() -> bool {
    std::env::var_os(native::SWITCH_VARIABLE).is_some_and(|value| value == "1")
}

/// The environment variable that names the JSON [`WrapperConfig`] file.
pub const CONFIG_VARIABLE: &str = "EMWHEEL_WRAPPER_CONFIG";

/// Names under which the emwheel binary is reached through links on PATH during a build.
pub const WRAPPED_TOOLS: &[&str] = &[
    "cc",
    "gcc",
    "c++",
    "g++",
    "clang",
    "clang++",
    "ld",
    "lld",
    "ar",
    "ranlib",
    "strip",
    "install_name_tool",
    "otool",
];

/// Whether `argv0_file_name` (the file name of argv[0]) is one of the [`WRAPPED_TOOLS`].
pub fn is_wrapped_tool(argv0_file_name: &str) -> bool {
    WRAPPED_TOOLS.contains(&argv0_file_name)
}

/// What `-print-multiarch` answers, as in pywasmcross.
const MULTIARCH: &str = "wasm32-emscripten";

/// What the build writes to `$EMWHEEL_WRAPPER_CONFIG` (JSON) for the wrapper to read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WrapperConfig {
    /// The directory holding emcc, em++, emar, emranlib, emstrip and emnm.
    pub emscripten_bin: PathBuf,
    /// The target Python's include directory (`…/include/python3.13`).
    pub target_include: PathBuf,
    /// Host Python include directories, mapped onto `target_include`.
    pub host_include_dirs: Vec<PathBuf>,
    /// Added to every compile (target and recipe cflags).
    pub cflags: Vec<String>,
    /// Added to every C++ compile, after `cflags`.
    pub cxxflags: Vec<String>,
    /// Added to every shared-object link (target and recipe ldflags).
    pub ldflags: Vec<String>,
    /// Which symbols a shared object exports.
    pub exports: Exports,
    /// Where export lists are written; never `$TMPDIR`.
    pub work_dir: PathBuf,
    /// A file to append one JSON line per call to: the call, its rewrite, seconds, exit code.
    pub log_file: Option<PathBuf>,
    /// The llvm-nm for [`Exports::Requested`]; `emnm` in `emscripten_bin` when absent.
    pub llvm_nm: Option<PathBuf>,
    /// The target's library prefix (library recipes install there): its `include` goes on
    /// every compile and its `lib` on every link, after the call's own directories.
    #[serde(default)]
    pub library_prefix: Option<PathBuf>,
    /// Where the native compile path caches clang command lines (see `native`); absent, the
    /// path is off and every compile goes through emcc. Builds set it only when
    /// [`native_compile_requested`].
    #[serde(default)]
    pub native_cache: Option<PathBuf>,
}

/// Which symbols a shared object (a side module) exports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub enum Exports {
    /// Only `PyInit_<module>`, the module named after the output file.
    Pyinit,
    /// Every global symbol defined in the linked objects and archives.
    Requested,
    /// Everything (`-sSIDE_MODULE=1`, no export list).
    WholeArchive,
    /// These symbols (without the leading `_`).
    Explicit(Vec<String>),
}

/// Errors rewriting or running a wrapped call.
#[derive(Debug, thiserror::Error)]
pub enum WrapperError {
    /// The config variable is unset, so this is not running inside a build.
    #[error("`{CONFIG_VARIABLE}` is not set; `cc`, `ar` and the other wrapped tools only work inside an emwheel build")]
    ConfigNotSet,
    /// The config file could not be read.
    #[error("could not read the wrapper config")]
    ReadConfig(#[source] io::Error),
    /// The config file is not a valid config.
    #[error("wrapper config `{path}` is invalid")]
    ParseConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// argv[0] is not one of the [`WRAPPED_TOOLS`].
    #[error("`{0}` is not a tool the wrapper handles")]
    UnknownTool(String),
    /// A flag the target cannot support.
    #[error("`{flag}` is not supported: {reason}")]
    Unsupported {
        /// The flag as given.
        flag: String,
        /// Why not.
        reason: &'static str,
    },
    /// A shared link under [`Exports::Pyinit`] has no output to name the module after.
    #[error("shared link has no `-o` output to name its `PyInit_` export after")]
    NoOutput,
    /// A program could not be started.
    #[error("could not run `{program}`")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why not.
        #[source]
        source: io::Error,
    },
    /// nm failed listing the symbols to export.
    #[error("`{program}` failed listing exports ({status}): {stderr}")]
    Nm {
        /// The nm that ran.
        program: PathBuf,
        /// How it ended.
        status: ExitStatus,
        /// What it printed to stderr.
        stderr: String,
    },
    /// Writing an export list or the log failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// What to do instead of the host tool.
#[derive(Debug, Clone, PartialEq)]
pub enum Rewrite {
    /// Run this command.
    Run(Invocation),
    /// Print this line and succeed (e.g. `-print-multiarch`).
    Print(String),
    /// Do nothing and succeed (e.g. `install_name_tool`).
    Skip,
}

/// A rewritten call, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The Emscripten tool to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// An export list the arguments refer to, written just before running.
    pub export_list: Option<ExportList>,
}

/// A `-sEXPORTED_FUNCTIONS=@file` list.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportList {
    /// Where it goes (in the config's `work_dir`).
    pub path: PathBuf,
    /// The symbols, `_`-prefixed.
    pub symbols: Vec<String>,
}

impl WrapperConfig {
    /// Reads the config named by `$EMWHEEL_WRAPPER_CONFIG`.
    pub fn from_env() -> Result<Self, WrapperError> {
        Self::from_variable(std::env::var_os(CONFIG_VARIABLE))
    }

    fn from_variable(value: Option<OsString>) -> Result<Self, WrapperError> {
        let path = value
            .filter(|v| !v.is_empty())
            .ok_or(WrapperError::ConfigNotSet)?;
        Self::load(Path::new(&path))
    }

    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Self, WrapperError> {
        let text = fs_err::read_to_string(path).map_err(WrapperError::ReadConfig)?;
        serde_json::from_str(&text).map_err(|source| WrapperError::ParseConfig {
            path: path.to_owned(),
            source,
        })
    }

    /// Writes the config file the wrapper reads.
    pub fn write(&self, path: &Path) -> Result<(), WrapperError> {
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        Ok(fs_err::write(path, json)?)
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.emscripten_bin.join(name)
    }

    /// The target Python's install prefix (`…` in `…/include/python3.13`).
    fn target_prefix(&self) -> Option<&Path> {
        install_prefix(&self.target_include)
    }

    /// `dir` moved from a host Python's include dir onto the target's, if it is under one.
    fn map_host_include(&self, dir: &Path) -> Option<PathBuf> {
        let root = dir
            .ancestors()
            .find(|a| self.host_include_dirs.iter().any(|h| h == a) || is_python_include_dir(a))?;
        let rest = dir.strip_prefix(root).ok()?;
        Some(if rest.as_os_str().is_empty() {
            self.target_include.clone()
        } else {
            self.target_include.join(rest)
        })
    }

    /// Whether `dir` is under the target's Python or library prefix, so it always stays.
    fn is_target_dir(&self, dir: &Path) -> bool {
        self.target_prefix().is_some_and(|p| dir.starts_with(p))
            || self
                .library_prefix
                .as_ref()
                .is_some_and(|p| dir.starts_with(p))
    }

    /// Whether `dir` holds host libraries: a system dir or a host Python's `lib`.
    fn is_host_library_dir(&self, dir: &Path) -> bool {
        if self.is_target_dir(dir) {
            return false;
        }
        HOST_LIBRARY_ROOTS.iter().any(|root| dir.starts_with(root))
            || self
                .host_include_dirs
                .iter()
                .filter_map(|h| install_prefix(h))
                .any(|prefix| dir.starts_with(prefix.join("lib")))
    }
}

/// `…` in `…/include/pythonX.Y`.
fn install_prefix(include_dir: &Path) -> Option<&Path> {
    include_dir.parent()?.parent()
}

/// Whether `dir` looks like `…/include/pythonX.Y` (any ABI suffix).
fn is_python_include_dir(dir: &Path) -> bool {
    let parent_is_include = dir
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "include");
    let version = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("python"))
        .and_then(|v| v.split_once('.'));
    parent_is_include
        && version.is_some_and(|(major, minor)| {
            !major.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.starts_with(|c: char| c.is_ascii_digit())
        })
}

/// How a tool name is handled.
enum Tool {
    /// A compiler driver (or ld, which pywasmcross also treats as one).
    Driver { cxx: bool },
    /// The same arguments, given to this Emscripten tool.
    Rename(&'static str),
    /// A no-op.
    Skip,
}

fn classify(tool: &str) -> Option<Tool> {
    Some(match tool {
        "cc" | "gcc" | "clang" | "ld" | "lld" => Tool::Driver { cxx: false },
        "c++" | "g++" | "clang++" => Tool::Driver { cxx: true },
        "ar" => Tool::Rename("emar"),
        "ranlib" => Tool::Rename("emranlib"),
        "strip" => Tool::Rename("emstrip"),
        "install_name_tool" | "otool" => Tool::Skip,
        _ => return None,
    })
}

/// Turns a call of the host tool `tool` with `args` into what to do instead.
///
/// Pure but for [`Exports::Requested`], which runs nm; export lists are written only when the
/// [`Invocation`] runs.
pub fn rewrite(
    tool: &str,
    args: &[String],
    config: &WrapperConfig,
) -> Result<Rewrite, WrapperError> {
    match classify(tool).ok_or_else(|| WrapperError::UnknownTool(tool.to_owned()))? {
        Tool::Driver { cxx } => rewrite_driver(cxx, args, config),
        Tool::Rename(program) => Ok(Rewrite::Run(Invocation {
            program: config.tool(program),
            args: args.to_vec(),
            export_list: None,
        })),
        Tool::Skip => Ok(Rewrite::Skip),
    }
}

fn rewrite_driver(
    cxx: bool,
    args: &[String],
    config: &WrapperConfig,
) -> Result<Rewrite, WrapperError> {
    if args.iter().any(|a| a == "-print-multiarch") {
        return Ok(Rewrite::Print(MULTIARCH.to_owned()));
    }
    let line = CommandLine::parse(args);
    let cxx = cxx || line.has_cxx_source();
    let mut invocation = Invocation {
        program: config.tool(if cxx { "em++" } else { "emcc" }),
        args: Vec::new(),
        export_list: None,
    };
    match line.mode() {
        Mode::Probe => invocation.args = args.to_vec(),
        Mode::ExecutableLink => {
            invocation.args = line.filtered(config)?;
            invocation
                .args
                .extend(library_dir_flag(config, "-L", "lib"));
        }
        Mode::Compile => {
            invocation.args = line.filtered(config)?;
            invocation.args.extend(compile_flags(config, cxx));
        }
        Mode::SharedLink => {
            invocation.args = line.filtered(config)?;
            invocation
                .args
                .extend(library_dir_flag(config, "-L", "lib"));
            invocation
                .args
                .extend(SHARED_LINK_FLAGS.iter().map(ToString::to_string));
            invocation.args.extend(config.ldflags.iter().cloned());
            let (flags, export_list) = export_flags(&line, config)?;
            invocation.args.extend(flags);
            invocation.export_list = export_list;
        }
    }
    Ok(Rewrite::Run(invocation))
}

/// What every shared link gets before `ldflags`. `--fatal-warnings` as in pywasmcross.
/// `--experimental-pic` is what emcc itself passed to wasm-ld up to 3.x: emcc 6.0.5 no longer
/// does (its LLVM no longer warns), but with Debian's LLVM 21 wasm-ld then warns
/// "creating shared libraries, with -shared, is not yet stable" on every side module, which
/// `--fatal-warnings` turns into a failure. wasm-ld 19 and 21 both accept it.
const SHARED_LINK_FLAGS: &[&str] = &["-Wl,--experimental-pic", "-Wl,--fatal-warnings"];

/// What a compile gets added: the declaration checks, the configured flags, the target headers
/// (pywasmcross adds `-I` of the target include dir to every compile too).
fn compile_flags(config: &WrapperConfig, cxx: bool) -> Vec<String> {
    let cxxflags = if cxx { config.cxxflags.as_slice() } else { &[] };
    DECLARATION_ERRORS
        .iter()
        .map(ToString::to_string)
        .chain(config.cflags.iter().cloned())
        .chain(cxxflags.iter().cloned())
        .chain([format!("-I{}", config.target_include.display())])
        .chain(library_dir_flag(config, "-I", "include"))
        .collect()
}

/// `-I<prefix>/include` or `-L<prefix>/lib` for the library prefix, if there is one.
fn library_dir_flag(config: &WrapperConfig, flag: &str, sub: &str) -> Option<String> {
    let prefix = config.library_prefix.as_ref()?;
    Some(format!("{flag}{}", prefix.join(sub).display()))
}

/// The side-module flags of a shared link, and the export list they refer to.
fn export_flags(
    line: &CommandLine,
    config: &WrapperConfig,
) -> Result<(Vec<String>, Option<ExportList>), WrapperError> {
    let names = match &config.exports {
        Exports::WholeArchive => return Ok((vec!["-sSIDE_MODULE=1".to_owned()], None)),
        Exports::Pyinit => vec![pyinit_symbol(line.output())?],
        Exports::Explicit(names) => names.clone(),
        Exports::Requested => requested_symbols(line, config)?,
    };
    let output_name = line.output().and_then(file_name).unwrap_or("a.out");
    let list = ExportList {
        path: config
            .work_dir
            .join(format!("exports-{}-{output_name}.json", std::process::id())),
        symbols: names.into_iter().map(|n| format!("_{n}")).collect(),
    };
    let flags = vec![
        "-sSIDE_MODULE=2".to_owned(),
        format!("-sEXPORTED_FUNCTIONS=@{}", list.path.display()),
    ];
    Ok((flags, Some(list)))
}

fn file_name(path: &str) -> Option<&str> {
    Path::new(path).file_name()?.to_str()
}

/// `PyInit_<module>`, the module being the output file name up to its first `.`.
fn pyinit_symbol(output: Option<&str>) -> Result<String, WrapperError> {
    let name = output.and_then(file_name).ok_or(WrapperError::NoOutput)?;
    let module = name.split('.').next().unwrap_or(name);
    Ok(format!("PyInit_{module}"))
}

/// The global symbols defined in the objects, archives and response files linked.
fn requested_symbols(
    line: &CommandLine,
    config: &WrapperConfig,
) -> Result<Vec<String>, WrapperError> {
    let objects: Vec<&str> = line
        .inputs()
        .filter(|i| i.ends_with(".o") || i.ends_with(".a") || i.starts_with('@'))
        .collect();
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let nm = config
        .llvm_nm
        .clone()
        .unwrap_or_else(|| config.tool("emnm"));
    let output = run::passthrough(&nm)
        .args(["-j", "--export-symbols"])
        .args(&objects)
        .output()
        .map_err(|error| run::spawn_error(&nm, error))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        return Err(WrapperError::Nm {
            program: nm,
            status: output.status,
            stderr,
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests;
