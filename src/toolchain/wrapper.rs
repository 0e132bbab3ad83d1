//! The compiler wrapper: rewrites host compiler, linker and archiver calls into Emscripten calls.
//!
//! The rules follow pyodide-build's `pywasmcross.py`. Where this module differs, and why:
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

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::slice;
use std::time::Instant;

use serde::{Deserialize, Serialize};

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

/// Added to every compile, as in pywasmcross: a wrong declaration fails the build rather than
/// trapping at run time.
const DECLARATION_ERRORS: &[&str] = &[
    "-Werror=implicit-function-declaration",
    "-Werror=mismatched-parameter-types",
    "-Werror=return-type",
];

/// Flags whose value is the next argument (so that value is not taken for an input file).
const SEPARATE_VALUE_FLAGS: &[&str] = &[
    "-o",
    "-I",
    "-L",
    "-l",
    "-B",
    "-D",
    "-U",
    "-x",
    "-u",
    "-isystem",
    "-idirafter",
    "-iquote",
    "-isysroot",
    "-imacros",
    "-include",
    "-MF",
    "-MT",
    "-MQ",
    "-Xlinker",
    "-Xclang",
    "-Xpreprocessor",
    "-Xassembler",
    "-target",
    "-arch",
    "-undefined",
];

/// Flags that only ask the compiler about itself; such calls go to emcc unchanged.
const PROBE_FLAGS: &[&str] = &[
    "--version",
    "--help",
    "-dumpversion",
    "-dumpfullversion",
    "-dumpmachine",
];

/// Flags that mean "compile (or preprocess) only, do not link".
const COMPILE_FLAGS: &[&str] = &["-c", "-E", "-S"];

/// Host-only flags dropped wherever they appear (with their value, if they take one).
const DROPPED_FLAGS: &[&str] = &[
    "-pthread",
    "-ffixed-form",
    "-fallow-argument-mismatch",
    "-fno-second-underscore",
    "-std=legacy",
    "-bundle",
    "-undefined",
    "-Bsymbolic-functions",
    "-fno-strict-overflow",
    "-fstack-clash-protection",
    "-fno-semantic-interposition",
    "-static-libgcc",
    "-shared-libgcc",
    "-m64",
];

/// Prefixes of host-only flags dropped wherever they appear.
const DROPPED_FLAG_PREFIXES: &[&str] = &[
    "-march=",
    "-mtune=",
    "-mfpmath=",
    "-mpopcnt",
    "-msse",
    "-mssse",
    "-mavx",
    "-mno-sse",
    "-mno-avx",
    "-fstack-protector",
    "-fcf-protection",
    "-ffile-prefix-map=",
    "-J",
];

/// Libraries that do not exist for the target (pywasmcross drops these too).
const DROPPED_LIBRARIES: &[&str] = &["ffi", "gfortran"];

/// Host directories whose libraries never fit the target.
const HOST_LIBRARY_ROOTS: &[&str] = &["/usr", "/lib", "/lib64"];

/// Host directories whose headers never fit the target.
const HOST_INCLUDE_ROOT: &str = "/usr";

/// File name endings of C++ sources: a C compiler given one becomes em++, as in pywasmcross.
const CXX_SOURCE_SUFFIXES: &[&str] = &[".cpp", ".cc", ".cxx"];

/// `-Wl,` options that wasm-ld rejects or emcc warns about.
const DROPPED_LINKER_OPTIONS: &[&str] = &[
    "-Bsymbolic-functions",
    "--strip-all",
    "-strip-all",
    "--sort-common",
    "--as-needed",
    "--no-as-needed",
    "--no-undefined",
    "--enable-new-dtags",
    "--disable-new-dtags",
    "-headerpad_max_install_names",
    "-dead_strip_dylibs",
];

/// Prefixes of `-Wl,` options that wasm-ld rejects or emcc warns about.
const DROPPED_LINKER_PREFIXES: &[&str] = &[
    "--sysroot=",
    "--version-script=",
    "--exclude-libs=",
    "--hash-style=",
    "-rpath=",
    "-rpath-link=",
    "-R/",
    "-R.",
];

/// `-Wl,` options whose value is the next item of the list. All are dropped with their value,
/// except `-z stack-size=…`, the one `-z` wasm-ld knows.
const LINKER_PAIRS: &[&str] = &[
    "-rpath",
    "-rpath-link",
    "-R",
    "-z",
    "--exclude-libs",
    "--version-script",
];

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
            invocation.args.push("-Wl,--fatal-warnings".to_owned());
            invocation.args.extend(config.ldflags.iter().cloned());
            let (flags, export_list) = export_flags(&line, config)?;
            invocation.args.extend(flags);
            invocation.export_list = export_list;
        }
    }
    Ok(Rewrite::Run(invocation))
}

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
    let output = Command::new(&nm)
        .args(["-j", "--export-symbols"])
        .args(&objects)
        .output()
        .map_err(|source| WrapperError::Spawn {
            program: nm.clone(),
            source,
        })?;
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

/// One argument of a driver call.
#[derive(Debug)]
enum Arg {
    /// A file to compile or link (`-` for stdin, `@file` for a response file).
    Input(String),
    /// A flag, with its value if it is joined (`-Ifoo`).
    Flag(String),
    /// A flag and its value, given as the next argument (`-I foo`).
    FlagWithValue(String, String),
}

/// What a driver call does.
#[derive(Debug, PartialEq)]
enum Mode {
    /// Asks about the compiler, or has nothing to compile or link.
    Probe,
    /// Compiles or preprocesses.
    Compile,
    /// Links a shared object: a side module.
    SharedLink,
    /// Links a program (configure's `a.out`).
    ExecutableLink,
}

/// A parsed driver call.
struct CommandLine {
    args: Vec<Arg>,
}

impl CommandLine {
    fn parse(args: &[String]) -> Self {
        let mut rest = args.iter().peekable();
        let mut parsed = Vec::new();
        while let Some(arg) = rest.next() {
            let is_flag = arg.starts_with('-') && arg != "-";
            parsed.push(if is_flag {
                parse_flag(arg, &mut rest)
            } else {
                Arg::Input(arg.clone())
            });
        }
        CommandLine { args: parsed }
    }

    fn flags(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|arg| match arg {
            Arg::Input(_) => None,
            Arg::Flag(flag) | Arg::FlagWithValue(flag, _) => Some(flag.as_str()),
        })
    }

    fn inputs(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|arg| match arg {
            Arg::Input(input) => Some(input.as_str()),
            _ => None,
        })
    }

    fn output(&self) -> Option<&str> {
        self.args.iter().find_map(|arg| match arg {
            Arg::FlagWithValue(flag, value) if flag == "-o" => Some(value.as_str()),
            _ => None,
        })
    }

    fn has_cxx_source(&self) -> bool {
        self.inputs()
            .any(|i| CXX_SOURCE_SUFFIXES.iter().any(|s| i.ends_with(s)))
    }

    fn mode(&self) -> Mode {
        if self
            .flags()
            .any(|f| PROBE_FLAGS.contains(&f) || f.starts_with("-print-"))
        {
            Mode::Probe
        } else if self.flags().any(|f| COMPILE_FLAGS.contains(&f)) {
            Mode::Compile
        } else if self.inputs().next().is_none() {
            Mode::Probe
        } else if self.is_shared() {
            Mode::SharedLink
        } else {
            Mode::ExecutableLink
        }
    }

    fn is_shared(&self) -> bool {
        self.flags().any(|f| f == "-shared") || self.output().is_some_and(is_shared_object_name)
    }

    /// The arguments with host-only flags dropped and host include dirs mapped.
    fn filtered(&self, config: &WrapperConfig) -> Result<Vec<String>, WrapperError> {
        let mut filter = ArgFilter {
            config,
            used_libraries: HashSet::new(),
        };
        let mut out = Vec::new();
        for arg in &self.args {
            out.extend(filter.rewrite(arg)?);
        }
        Ok(out)
    }
}

/// Parses a flag, taking its value from `rest` if it comes separately.
fn parse_flag(flag: &str, rest: &mut Peekable<slice::Iter<String>>) -> Arg {
    if SEPARATE_VALUE_FLAGS.contains(&flag) {
        if let Some(value) = rest.next() {
            return Arg::FlagWithValue(flag.to_owned(), value.clone());
        }
    }
    // libtool's `-Wl,-rpath -Wl,/dir`: join into `-Wl,-rpath,/dir` so the pair stays together.
    let dangling_pair = flag
        .strip_prefix("-Wl,")
        .and_then(|list| list.rsplit(',').next())
        .is_some_and(|last| LINKER_PAIRS.contains(&last));
    if dangling_pair {
        if let Some(next) = rest.next_if(|next| next.starts_with("-Wl,")) {
            return Arg::Flag(format!("{flag},{}", &next["-Wl,".len()..]));
        }
    }
    Arg::Flag(flag.to_owned())
}

/// `*.so` or `*.so.N[.N…]`.
fn is_shared_object_name(path: &str) -> bool {
    path.ends_with(".so")
        || path.rsplit_once(".so.").is_some_and(|(_, version)| {
            version.starts_with(|c: char| c.is_ascii_digit())
                && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

/// What becomes of a directory flag.
enum DirAction {
    Keep,
    Drop,
    Replace(PathBuf),
}

/// Rewrites the arguments of one driver call.
struct ArgFilter<'a> {
    config: &'a WrapperConfig,
    /// `-l` names seen so far: emcc fails on a library given twice (pywasmcross).
    used_libraries: HashSet<String>,
}

impl ArgFilter<'_> {
    fn rewrite(&mut self, arg: &Arg) -> Result<Vec<String>, WrapperError> {
        match arg {
            Arg::Input(input) => Ok(vec![input.clone()]),
            Arg::Flag(flag) => self.flag(flag, None),
            Arg::FlagWithValue(flag, value) => self.flag(flag, Some(value)),
        }
    }

    fn flag(&mut self, flag: &str, value: Option<&str>) -> Result<Vec<String>, WrapperError> {
        if is_dropped_flag(flag) {
            return Ok(Vec::new());
        }
        if flag == "-fopenmp" || flag.starts_with("-fopenmp=") {
            let reason = "openmp needs threads, which the target does not have";
            return Err(WrapperError::Unsupported {
                flag: flag.to_owned(),
                reason,
            });
        }
        if let Some(list) = flag.strip_prefix("-Wl,") {
            return Ok(filter_linker_list(list).into_iter().collect());
        }
        if let Some((prefix, dir)) = split_dir_flag(flag, value) {
            return Ok(match self.dir_action(prefix, dir) {
                DirAction::Keep => words(flag, value),
                DirAction::Drop => Vec::new(),
                DirAction::Replace(new) => words_with_dir(prefix, &new, value.is_some()),
            });
        }
        if let Some(library) = flag.strip_prefix("-l") {
            let keep = self.keep_library(value.unwrap_or(library));
            return Ok(if keep { words(flag, value) } else { Vec::new() });
        }
        Ok(words(flag, value))
    }

    fn dir_action(&self, prefix: &str, dir: &str) -> DirAction {
        let path = Path::new(dir);
        match prefix {
            "-L" if self.config.is_host_library_dir(path) => DirAction::Drop,
            // conda's compiler search path (pywasmcross drops it too).
            "-B" if dir.contains("compiler_compat") => DirAction::Drop,
            "-L" | "-B" => DirAction::Keep,
            _ if self.config.is_target_dir(path) => DirAction::Keep,
            _ => match self.config.map_host_include(path) {
                Some(mapped) => DirAction::Replace(mapped),
                None if path.starts_with(HOST_INCLUDE_ROOT) => DirAction::Drop,
                None => DirAction::Keep,
            },
        }
    }

    fn keep_library(&mut self, name: &str) -> bool {
        !DROPPED_LIBRARIES.contains(&name) && self.used_libraries.insert(name.to_owned())
    }
}

fn is_dropped_flag(flag: &str) -> bool {
    DROPPED_FLAGS.contains(&flag) || DROPPED_FLAG_PREFIXES.iter().any(|p| flag.starts_with(p))
}

/// Splits a directory flag (`-I`, `-isystem`, `-idirafter`, `-iquote`, `-L`, `-B`) into its
/// name and directory.
fn split_dir_flag<'a>(flag: &'a str, value: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    const DIR_FLAGS: &[&str] = &["-isystem", "-idirafter", "-iquote", "-I", "-L", "-B"];
    let prefix = DIR_FLAGS.iter().find(|p| flag.starts_with(*p))?;
    let (name, joined) = flag.split_at(prefix.len());
    Some((name, value.unwrap_or(joined)))
}

fn words(flag: &str, value: Option<&str>) -> Vec<String> {
    [Some(flag), value]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect()
}

fn words_with_dir(prefix: &str, dir: &Path, separate: bool) -> Vec<String> {
    let dir = dir.display().to_string();
    if separate {
        vec![prefix.to_owned(), dir]
    } else {
        vec![format!("{prefix}{dir}")]
    }
}

/// Drops the options wasm-ld rejects from the comma list of a `-Wl,` flag; `None` if nothing
/// is left.
fn filter_linker_list(list: &str) -> Option<String> {
    let options: Vec<&str> = list.split(',').collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < options.len() {
        let width = if LINKER_PAIRS.contains(&options[i]) {
            2
        } else {
            1
        };
        let group = &options[i..(i + width).min(options.len())];
        if !is_dropped_linker_group(group) {
            kept.extend_from_slice(group);
        }
        i += width;
    }
    (!kept.is_empty()).then(|| format!("-Wl,{}", kept.join(",")))
}

/// Whether wasm-ld rejects this option (and value, for a pair).
fn is_dropped_linker_group(group: &[&str]) -> bool {
    match group {
        ["-z", value] => !value.starts_with("stack-size="),
        [pair, _] => LINKER_PAIRS.contains(pair),
        [option, ..] => {
            LINKER_PAIRS.contains(option)
                || DROPPED_LINKER_OPTIONS.contains(option)
                || DROPPED_LINKER_PREFIXES
                    .iter()
                    .any(|p| option.starts_with(p))
        }
        [] => false,
    }
}

impl Rewrite {
    /// Carries the rewrite out; returns the exit code.
    pub fn execute(&self) -> Result<i32, WrapperError> {
        match self {
            Rewrite::Run(invocation) => invocation.run(),
            Rewrite::Print(line) => {
                println!("{line}");
                Ok(0)
            }
            Rewrite::Skip => Ok(0),
        }
    }

    /// The command this stands for, for the log.
    fn command_line(&self) -> Vec<String> {
        match self {
            Rewrite::Run(invocation) => {
                let program = invocation.program.display().to_string();
                [program]
                    .into_iter()
                    .chain(invocation.args.iter().cloned())
                    .collect()
            }
            Rewrite::Print(line) => vec!["echo".to_owned(), line.clone()],
            Rewrite::Skip => Vec::new(),
        }
    }
}

impl Invocation {
    /// Writes the export list, if any, then runs the program with inherited stdio; returns its
    /// exit code.
    pub fn run(&self) -> Result<i32, WrapperError> {
        if let Some(list) = &self.export_list {
            list.write()?;
        }
        let status = Command::new(&self.program)
            .args(&self.args)
            .status()
            .map_err(|source| WrapperError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        Ok(exit_code(status))
    }
}

impl ExportList {
    /// Writes the list as a JSON array.
    pub fn write(&self) -> Result<(), WrapperError> {
        let json = serde_json::to_vec(&self.symbols).map_err(io::Error::other)?;
        Ok(fs_err::write(&self.path, json)?)
    }
}

/// The exit code to pass on: the program's, or 128 + the signal that killed it.
fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// Entry point when argv[0] is a wrapped tool: reads the config from `$EMWHEEL_WRAPPER_CONFIG`,
/// rewrites, runs (inheriting stdio), logs, and returns the exit code. Errors go to stderr
/// prefixed `emwheel wrapper: `.
pub fn run_as_wrapper(tool: &str, args: Vec<String>) -> i32 {
    match WrapperConfig::from_env() {
        Ok(config) => run_with_config(tool, &args, &config),
        Err(error) => {
            report(&error);
            1
        }
    }
}

/// One line of the call log.
#[derive(Serialize)]
struct LogEntry<'a> {
    tool: &'a str,
    args: &'a [String],
    rewritten: Vec<String>,
    seconds: f64,
    exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn run_with_config(tool: &str, args: &[String], config: &WrapperConfig) -> i32 {
    let start = Instant::now();
    let (rewritten, result) = match rewrite(tool, args, config) {
        Ok(rewrite) => (rewrite.command_line(), rewrite.execute()),
        Err(error) => (Vec::new(), Err(error)),
    };
    let exit_code = *result.as_ref().unwrap_or(&1);
    if let Err(error) = &result {
        report(error);
    }
    if let Some(log_file) = &config.log_file {
        let entry = LogEntry {
            tool,
            args,
            rewritten,
            seconds: start.elapsed().as_secs_f64(),
            exit_code,
            error: result.err().map(|e| error_chain(&e)),
        };
        if let Err(error) = append_log(log_file, &entry) {
            report(&error);
        }
    }
    exit_code
}

/// How many compiler calls a build made and how long they took in all.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallSummary {
    /// Calls the wrapper ran.
    pub calls: usize,
    /// Their total wall time.
    pub seconds: f64,
}

/// Adds up a call log; a missing log means no calls (a pure-Python build).
pub fn summarize_log(path: &Path) -> CallSummary {
    let text = fs_err::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .fold(CallSummary::default(), |summary, entry| CallSummary {
            calls: summary.calls + 1,
            seconds: summary.seconds + entry["seconds"].as_f64().unwrap_or(0.0),
        })
}

fn append_log(path: &Path, entry: &LogEntry) -> Result<(), WrapperError> {
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write of the whole line, so parallel calls do not interleave.
    Ok(file.write_all(&line)?)
}

/// The error and its sources, joined by `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(message, ": {cause}");
        source = cause.source();
    }
    message
}

fn report(error: &dyn std::error::Error) {
    eprintln!("emwheel wrapper: {}", error_chain(error));
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const TARGET_INCLUDE: &str = "/usr/local/emwheel/cpython-3.13/include/python3.13";
    const HOST_INCLUDE: &str = "/root/.pyenv/versions/3.13.0/include/python3.13";
    const WORK_DIR: &str = "/build/work";
    /// What `-sEXPORTED_FUNCTIONS=@<list>` reads as in the tables.
    const EXPORTS_FLAG: &str = "-sEXPORTED_FUNCTIONS=@EXPORTS";

    fn config() -> WrapperConfig {
        WrapperConfig {
            emscripten_bin: "/emsdk/bin".into(),
            target_include: TARGET_INCLUDE.into(),
            host_include_dirs: vec![HOST_INCLUDE.into()],
            cflags: strings("-O2 -fPIC"),
            cxxflags: strings("-std=c++17"),
            ldflags: strings("-sWASM_BIGINT -sSIDE_MODULE=1 -Oz"),
            exports: Exports::Pyinit,
            work_dir: WORK_DIR.into(),
            log_file: None,
            llvm_nm: None,
            library_prefix: None,
        }
    }

    fn strings(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    /// Expands the table shorthands: `{T}` the target include dir, `{C}` / `{CXX}` what a C /
    /// C++ compile gets added, `{SO}` what a shared link gets added.
    fn expand(line: &str) -> Vec<String> {
        let errors = DECLARATION_ERRORS.join(" ");
        let c = format!("{errors} -O2 -fPIC -I{{T}}");
        let cxx = format!("{errors} -O2 -fPIC -std=c++17 -I{{T}}");
        let so = format!(
            "-Wl,--fatal-warnings -sWASM_BIGINT -sSIDE_MODULE=1 -Oz -sSIDE_MODULE=2 {EXPORTS_FLAG}"
        );
        let line = line
            .replace("{CXX}", &cxx)
            .replace("{C}", &c)
            .replace("{SO}", &so);
        strings(&line.replace("{T}", TARGET_INCLUDE))
    }

    /// A rewrite as (program file name, arguments), the export list path shortened.
    fn outcome(rewrite: Rewrite) -> (String, Vec<String>) {
        match rewrite {
            Rewrite::Run(invocation) => {
                let program = invocation
                    .program
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into();
                let args = invocation
                    .args
                    .into_iter()
                    .map(|a| shorten_exports(&a))
                    .collect();
                (program, args)
            }
            Rewrite::Print(line) => ("print".into(), vec![line]),
            Rewrite::Skip => ("skip".into(), Vec::new()),
        }
    }

    fn shorten_exports(arg: &str) -> String {
        match arg.strip_prefix("-sEXPORTED_FUNCTIONS=@") {
            Some(path) => {
                assert_eq!(Path::new(path).parent(), Some(Path::new(WORK_DIR)));
                EXPORTS_FLAG.to_owned()
            }
            None => arg.to_owned(),
        }
    }

    fn rewrite_line(tool: &str, args: &str) -> Result<Rewrite, WrapperError> {
        rewrite(tool, &expand(args), &config())
    }

    #[test]
    fn rewrites_calls() {
        let markupsafe_compile = "-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall -fPIC \
            -I/root/.pyenv/versions/3.13.0/include/python3.13 -c src/markupsafe/_speedups.c -o build/temp/_speedups.o";
        let markupsafe_link = "-shared build/temp/_speedups.o -L/root/.pyenv/versions/3.13.0/lib \
            -o build/lib/markupsafe/_speedups.cpython-313-wasm32-emscripten.so";
        #[rustfmt::skip]
        let table: &[(&str, &str, &str, &str)] = &[
            // setuptools' MarkupSafe compile and link
            ("cc", markupsafe_compile, "emcc",
             "-Wsign-compare -DNDEBUG -g -O3 -Wall -fPIC -I{T} -c src/markupsafe/_speedups.c -o build/temp/_speedups.o {C}"),
            ("cc", markupsafe_link, "emcc",
             "-shared build/temp/_speedups.o -o build/lib/markupsafe/_speedups.cpython-313-wasm32-emscripten.so {SO}"),
            // tool mapping
            ("gcc", "-c a.c", "emcc", "-c a.c {C}"),
            ("clang", "-S a.c -o a.s", "emcc", "-S a.c -o a.s {C}"),
            ("cc", "-E -dM -", "emcc", "-E -dM - {C}"),
            ("c++", "-c a.cpp -o a.o", "em++", "-c a.cpp -o a.o {CXX}"),
            ("g++", "-c a.cc", "em++", "-c a.cc {CXX}"),
            ("clang++", "-c a.cxx", "em++", "-c a.cxx {CXX}"),
            ("cc", "-c src/a.cpp -o a.o", "em++", "-c src/a.cpp -o a.o {CXX}"),
            ("ld", "-shared a.o -o m.so", "emcc", "-shared a.o -o m.so {SO}"),
            ("ar", "rcs libx.a a.o b.o", "emar", "rcs libx.a a.o b.o"),
            ("ranlib", "libx.a", "emranlib", "libx.a"),
            ("strip", "--strip-unneeded m.so", "emstrip", "--strip-unneeded m.so"),
            ("install_name_tool", "-id x m.so", "skip", ""),
            ("otool", "-L m.so", "skip", ""),
            // probes go through unchanged
            ("cc", "--version", "emcc", "--version"),
            ("cc", "-dumpversion", "emcc", "-dumpversion"),
            ("cc", "-v", "emcc", "-v"),
            ("cc", "-pthread -print-search-dirs", "emcc", "-pthread -print-search-dirs"),
            ("c++", "-print-file-name=libstdc++.so", "em++", "-print-file-name=libstdc++.so"),
            ("cc", "-print-multiarch", "print", "wasm32-emscripten"),
            // executables and partial links stay plain links
            ("cc", "conftest.c -o conftest -pthread -lm", "emcc", "conftest.c -o conftest -lm"),
            ("cc", "conftest.o", "emcc", "conftest.o"),
            ("ld", "-r a.o b.o -o combined.o", "emcc", "-r a.o b.o -o combined.o"),
            ("cc", "a.o -Xlinker --gc-sections -o prog", "emcc", "a.o -Xlinker --gc-sections -o prog"),
            // host-only flags
            ("cc", "-c a.c -pthread -march=native -mtune=generic -mpopcnt -msse4.2 -mssse3 -mavx2 -mno-sse2 \
                    -mfpmath=sse -fstack-protector-strong -fstack-clash-protection -ffile-prefix-map=/b=. \
                    -fcf-protection -fno-strict-overflow -m64 -static-libgcc -shared-libgcc -Jmod",
             "emcc", "-c a.c {C}"),
            // system headers go, the target's stay even under /usr, host Python's are mapped
            ("cc", "-c a.c -I/usr/include -I/usr/local/include -I /usr/include/freetype2 \
                    -isystem /usr/local/include -Iinclude -I{T}",
             "emcc", "-c a.c -Iinclude -I{T} {C}"),
            ("cc", "-c a.c -I /root/.pyenv/versions/3.13.0/include/python3.13 -isystem/opt/py/include/python3.12 \
                    -I/root/.pyenv/versions/3.13.0/include/python3.13/internal -iquote /usr/include/python3.13t",
             "emcc", "-c a.c -I {T} -isystem{T} -I{T}/internal -iquote {T} {C}"),
            // host library dirs go, the target's and the package's stay
            ("cc", "-shared a.o -o m.so -L/usr/lib -L/usr/lib/x86_64-linux-gnu -L /lib64 \
                    -L/root/.pyenv/versions/3.13.0/lib/python3.13/config-3.13-x86_64-linux-gnu \
                    -L/usr/local/emwheel/cpython-3.13/lib -Lbuild/lib",
             "emcc", "-shared a.o -o m.so -L/usr/local/emwheel/cpython-3.13/lib -Lbuild/lib {SO}"),
            // libraries: no ffi or gfortran, each once
            ("cc", "-shared a.o -o m.so -lz -lffi -lgfortran -lz -l z -lm", "emcc", "-shared a.o -o m.so -lz -lm {SO}"),
            // -Wl, lists lose what wasm-ld rejects, pairs included
            ("cc", "-shared a.o -o m.so -Wl,-O1,--as-needed,--sort-common -Wl,-Bsymbolic-functions \
                    -Wl,-z,relro,-z,now,-z,stack-size=65536 -Wl,--version-script=v.map -Wl,--sysroot=/ \
                    -Wl,-rpath,/opt/lib,--gc-sections -Wl,-rpath -Wl,/opt/lib -Wl,--no-undefined \
                    -Wl,-R/opt -Wl,--exclude-libs,ALL -Wl,--strip-all,--enable-new-dtags",
             "emcc", "-shared a.o -o m.so -Wl,-O1 -Wl,-z,stack-size=65536 -Wl,--gc-sections {SO}"),
            // macOS and conda leftovers
            ("cc", "-bundle -undefined dynamic_lookup a.o -o m.so", "emcc", "a.o -o m.so {SO}"),
            ("cc", "-B /opt/conda/compiler_compat -B/opt/conda/compiler_compat -shared a.o -o m.so -Bsymbolic-functions",
             "emcc", "-shared a.o -o m.so {SO}"),
            // a shared object by its name alone, or linked from a response file
            ("cc", "a.o -o libfoo.so.1.2", "emcc", "a.o -o libfoo.so.1.2 {SO}"),
            ("cc", "-shared @objects.rsp -o m.so", "emcc", "-shared @objects.rsp -o m.so {SO}"),
        ];
        for (tool, args, program, expected) in table {
            let actual = outcome(rewrite_line(tool, args).unwrap());
            let expected = (program.to_string(), expand(expected));
            assert_eq!(actual, expected, "`{tool} {args}`");
        }
    }

    fn export_list(exports: Exports, args: &str) -> Result<Option<ExportList>, WrapperError> {
        let config = WrapperConfig {
            exports,
            ..config()
        };
        match rewrite("cc", &strings(args), &config)? {
            Rewrite::Run(invocation) => Ok(invocation.export_list),
            other => panic!("`{args}` should run, not {other:?}"),
        }
    }

    #[test]
    fn names_exports() {
        let pid = std::process::id();
        let explicit = Exports::Explicit(strings("foo PyInit_bar"));
        #[rustfmt::skip]
        let table: &[(Exports, &str, &str, &str)] = &[
            (Exports::Pyinit, "-shared a.o -o build/_speedups.cpython-313-wasm32-emscripten.so",
             "_speedups.cpython-313-wasm32-emscripten.so", "_PyInit__speedups"),
            (Exports::Pyinit, "a.o -o libfoo.so.1", "libfoo.so.1", "_PyInit_libfoo"),
            (explicit.clone(), "-shared a.o -o m.so", "m.so", "_foo _PyInit_bar"),
            (explicit, "-shared a.o", "a.out", "_foo _PyInit_bar"),
            (Exports::Requested, "-shared src.c -o m.so", "m.so", ""),
        ];
        for (exports, args, output_name, symbols) in table {
            let expected = ExportList {
                path: Path::new(WORK_DIR).join(format!("exports-{pid}-{output_name}.json")),
                symbols: strings(symbols),
            };
            assert_eq!(
                export_list(exports.clone(), args).unwrap(),
                Some(expected),
                "`{args}`"
            );
        }
    }

    #[test]
    fn library_prefix_goes_after_the_call_own_dirs() {
        let prefix = "/usr/local/libraries/0.29.5";
        let config = WrapperConfig {
            library_prefix: Some(prefix.into()),
            ..config()
        };
        #[rustfmt::skip]
        let table = [
            ("-c a.c -Iinc", "-c a.c -Iinc {C} -I{P}/include"),
            ("-c a.c -I{P}/include/yaml", "-c a.c -I{P}/include/yaml {C} -I{P}/include"),
            ("-shared a.o -o m.so -lyaml -L{P}/lib", "-shared a.o -o m.so -lyaml -L{P}/lib -L{P}/lib {SO}"),
            ("conftest.c -o conftest -lyaml", "conftest.c -o conftest -lyaml -L{P}/lib"),
            ("--version", "--version"),
        ];
        for (args, expected) in table {
            let args = expand(&args.replace("{P}", prefix));
            let rewritten = rewrite("cc", &args, &config).unwrap();
            let expected = expand(&expected.replace("{P}", prefix));
            assert_eq!(outcome(rewritten), ("emcc".into(), expected), "{args:?}");
        }
    }

    #[test]
    fn whole_archive_is_side_module_1_without_list() {
        let config = WrapperConfig {
            exports: Exports::WholeArchive,
            ..config()
        };
        let rewrite = rewrite("cc", &strings("-shared a.o -o m.so"), &config).unwrap();
        let expected = "-shared a.o -o m.so -Wl,--fatal-warnings -sWASM_BIGINT -sSIDE_MODULE=1 -Oz -sSIDE_MODULE=1";
        assert_eq!(outcome(rewrite), ("emcc".into(), strings(expected)));
    }

    #[test]
    fn pyinit_needs_an_output() {
        let error = export_list(Exports::Pyinit, "-shared a.o").unwrap_err();
        assert_eq!(
            error.to_string(),
            "shared link has no `-o` output to name its `PyInit_` export after"
        );
    }

    #[test]
    fn rejects_openmp_and_unknown_tools() {
        let error = rewrite_line("cc", "-c a.c -fopenmp").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`-fopenmp` is not supported: openmp needs threads, which the target does not have"
        );
        let error = rewrite_line("gfortran", "-c a.f").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`gfortran` is not a tool the wrapper handles"
        );
    }

    #[test]
    fn wrapped_tools_all_rewrite() {
        for tool in WRAPPED_TOOLS {
            assert!(is_wrapped_tool(tool));
            assert!(rewrite_line(tool, "--version").is_ok(), "{tool}");
        }
        assert!(!is_wrapped_tool("python3"));
    }

    #[test]
    fn missing_config_variable_is_explained() {
        for value in [None, Some(OsString::new())] {
            let error = WrapperConfig::from_variable(value).unwrap_err();
            assert_eq!(
                error.to_string(),
                "`EMWHEEL_WRAPPER_CONFIG` is not set; `cc`, `ar` and the other wrapped tools only work inside an emwheel build"
            );
        }
        if std::env::var_os(CONFIG_VARIABLE).is_none() {
            assert_eq!(run_as_wrapper("cc", strings("--version")), 1);
        }
    }

    #[test]
    fn bad_config_files_name_their_path() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let missing = dir.join("missing.json");
        let message = error_chain(&WrapperConfig::load(&missing).unwrap_err());
        assert!(
            message.starts_with("could not read the wrapper config: "),
            "{message}"
        );
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
        let broken = dir.join("broken.json");
        fs_err::write(&broken, "{").unwrap();
        let message = WrapperConfig::load(&broken).unwrap_err().to_string();
        assert_eq!(
            message,
            format!("wrapper config `{}` is invalid", broken.display())
        );
    }

    #[test]
    fn config_round_trips_with_kebab_case_exports() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("config.json");
        for exports in [Exports::WholeArchive, Exports::Explicit(strings("f"))] {
            let config = WrapperConfig {
                exports,
                ..config()
            };
            config.write(&path).unwrap();
            assert_eq!(WrapperConfig::load(&path).unwrap(), config);
        }
        let json: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["exports"], serde_json::json!({"explicit": ["f"]}));
        assert_eq!(
            serde_json::to_value(Exports::WholeArchive).unwrap(),
            "whole-archive"
        );
    }

    #[cfg(unix)]
    fn write_script(path: &Path, body: &str) {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn requested_exports_come_from_nm() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let nm = dir.join("llvm-nm");
        write_script(
            &nm,
            &format!(
                "echo \"$@\" > {}/args\nprintf 'PyInit_m\\nhelper\\n'",
                dir.display()
            ),
        );
        let config = WrapperConfig {
            exports: Exports::Requested,
            llvm_nm: Some(nm.clone()),
            ..config()
        };
        let args = strings("-shared a.o libb.a @more.rsp src.c -o m.so");
        let Rewrite::Run(invocation) = rewrite("cc", &args, &config).unwrap() else {
            panic!()
        };
        assert_eq!(
            invocation.export_list.unwrap().symbols,
            strings("_PyInit_m _helper")
        );
        let nm_args = fs_err::read_to_string(dir.join("args")).unwrap();
        assert_eq!(nm_args, "-j --export-symbols a.o libb.a @more.rsp\n");

        write_script(&nm, "echo boom >&2; exit 2");
        let error = rewrite("cc", &args, &config).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "`{}` failed listing exports (exit status: 2): boom",
                nm.display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn runs_writes_exports_and_logs() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        write_script(
            &dir.join("emcc"),
            &format!("echo \"$@\" > {}/emcc-args\nexit 3", dir.display()),
        );
        let config = WrapperConfig {
            emscripten_bin: dir.to_path_buf(),
            work_dir: dir.to_path_buf(),
            log_file: Some(dir.join("calls.log")),
            ..config()
        };
        assert_eq!(
            run_with_config("cc", &strings("-shared a.o -o m.so"), &config),
            3
        );
        assert_eq!(
            run_with_config("cc", &strings("-fopenmp -c a.c"), &config),
            1
        );

        let list = dir.join(format!("exports-{}-m.so.json", std::process::id()));
        assert_eq!(fs_err::read_to_string(&list).unwrap(), r#"["_PyInit_m"]"#);
        let emcc_args = fs_err::read_to_string(dir.join("emcc-args")).unwrap();
        assert!(
            emcc_args.ends_with(&format!("-sEXPORTED_FUNCTIONS=@{}\n", list.display())),
            "{emcc_args}"
        );

        let log = fs_err::read_to_string(dir.join("calls.log")).unwrap();
        let entries: Vec<serde_json::Value> = log
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["args"],
            serde_json::json!(["-shared", "a.o", "-o", "m.so"])
        );
        assert_eq!(
            entries[0]["rewritten"][0],
            dir.join("emcc").display().to_string()
        );
        assert_eq!(entries[0]["exit_code"], 3);
        assert!(entries[0]["seconds"].is_f64());
        assert_eq!(entries[1]["exit_code"], 1);
        assert_eq!(
            entries[1]["error"],
            "`-fopenmp` is not supported: openmp needs threads, which the target does not have"
        );
    }

    #[test]
    fn spots_python_include_dirs() {
        for (dir, expected) in [
            ("/opt/py/include/python3.12", true),
            ("/usr/include/python3.13t", true),
            ("/opt/py/include/python3", false),
            ("/opt/py/lib/python3.12", false),
            ("/opt/py/include/pythonx.12", false),
        ] {
            assert_eq!(is_python_include_dir(Path::new(dir)), expected, "{dir}");
        }
    }
}
