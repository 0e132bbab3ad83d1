//! The host compiler's command line: what kind of call it is, and which arguments emcc
//! must not see (flag tables, include and library dirs, `-Wl,` lists).

use std::collections::HashSet;
use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::slice;

use super::*;

/// Added to every compile, as in pywasmcross: a wrong declaration fails the build rather than
/// trapping at run time.
pub(super) const DECLARATION_ERRORS: &[&str] = &[
    "-Werror=implicit-function-declaration",
    "-Werror=mismatched-parameter-types",
    "-Werror=return-type",
];

/// Flags whose value is the next argument (so that value is not taken for an input file).
pub(super) const SEPARATE_VALUE_FLAGS: &[&str] = &[
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
pub(super) const PROBE_FLAGS: &[&str] = &[
    "--version",
    "--help",
    "-dumpversion",
    "-dumpfullversion",
    "-dumpmachine",
];

/// Flags that mean "compile (or preprocess) only, do not link".
pub(super) const COMPILE_FLAGS: &[&str] = &["-c", "-E", "-S"];

/// Host-only flags dropped wherever they appear (with their value, if they take one).
pub(super) const DROPPED_FLAGS: &[&str] = &[
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
pub(super) const DROPPED_FLAG_PREFIXES: &[&str] = &[
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

/// x86 SIMD flags that emcc itself understands: with `-msimd128` or `-mrelaxed-simd` in the
/// call or the recipe's flags, emcc maps them onto wasm SIMD (defining `__SSE2__` and the rest),
/// as pyodide-build lets them through; without wasm SIMD they are dropped like other host-only
/// `-m` flags, so code that guards intrinsics with `#ifdef __SSE2__` takes its portable path.
pub(super) const EMULATED_X86_SIMD_FLAGS: &[&str] = &[
    "-msse", "-msse2", "-msse3", "-mssse3", "-msse4", "-msse4.1", "-msse4.2", "-mavx",
];

/// The flags that turn on wasm SIMD, which emcc's x86 SIMD emulation needs.
pub(super) const WASM_SIMD_FLAGS: &[&str] = &["-msimd128", "-mrelaxed-simd"];

/// Libraries that do not exist for the target (pywasmcross drops these too).
pub(super) const DROPPED_LIBRARIES: &[&str] = &["ffi", "gfortran"];

/// Host directories whose libraries never fit the target.
pub(super) const HOST_LIBRARY_ROOTS: &[&str] = &["/usr", "/lib", "/lib64"];

/// Host directories whose headers never fit the target.
pub(super) const HOST_INCLUDE_ROOT: &str = "/usr";

/// File name endings of C++ sources: a C compiler given one becomes em++, as in pywasmcross.
pub(super) const CXX_SOURCE_SUFFIXES: &[&str] = &[".cpp", ".cc", ".cxx"];

/// `-Wl,` options that wasm-ld rejects or emcc warns about.
pub(super) const DROPPED_LINKER_OPTIONS: &[&str] = &[
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
pub(super) const DROPPED_LINKER_PREFIXES: &[&str] = &[
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
pub(super) const LINKER_PAIRS: &[&str] = &[
    "-rpath",
    "-rpath-link",
    "-R",
    "-z",
    "--exclude-libs",
    "--version-script",
];

/// One argument of a driver call.
#[derive(Debug)]
pub(super) enum Arg {
    /// A file to compile or link (`-` for stdin, `@file` for a response file).
    Input(String),
    /// A flag, with its value if it is joined (`-Ifoo`).
    Flag(String),
    /// A flag and its value, given as the next argument (`-I foo`).
    FlagWithValue(String, String),
}

/// What a driver call does.
#[derive(Debug, PartialEq)]
pub(super) enum Mode {
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
pub(super) struct CommandLine {
    args: Vec<Arg>,
}

impl CommandLine {
    pub(super) fn parse(args: &[String]) -> Self {
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

    pub(super) fn flags(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|arg| match arg {
            Arg::Input(_) => None,
            Arg::Flag(flag) | Arg::FlagWithValue(flag, _) => Some(flag.as_str()),
        })
    }

    pub(super) fn inputs(&self) -> impl Iterator<Item = &str> {
        self.args.iter().filter_map(|arg| match arg {
            Arg::Input(input) => Some(input.as_str()),
            _ => None,
        })
    }

    pub(super) fn output(&self) -> Option<&str> {
        self.args.iter().find_map(|arg| match arg {
            Arg::FlagWithValue(flag, value) if flag == "-o" => Some(value.as_str()),
            _ => None,
        })
    }

    pub(super) fn has_cxx_source(&self) -> bool {
        self.inputs()
            .any(|i| CXX_SOURCE_SUFFIXES.iter().any(|s| i.ends_with(s)))
    }

    pub(super) fn mode(&self) -> Mode {
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

    pub(super) fn is_shared(&self) -> bool {
        self.flags().any(|f| f == "-shared") || self.output().is_some_and(is_shared_object_name)
    }

    /// The arguments with host-only flags dropped and host include dirs mapped.
    pub(super) fn filtered(&self, config: &WrapperConfig) -> Result<Vec<String>, WrapperError> {
        let mut filter = ArgFilter {
            config,
            used_libraries: HashSet::new(),
            wasm_simd: self
                .flags()
                .chain(config.cflags.iter().map(String::as_str))
                .any(|flag| WASM_SIMD_FLAGS.contains(&flag)),
        };
        let mut out = Vec::new();
        for arg in &self.args {
            out.extend(filter.rewrite(arg)?);
        }
        Ok(out)
    }
}

/// Parses a flag, taking its value from `rest` if it comes separately.
pub(super) fn parse_flag(flag: &str, rest: &mut Peekable<slice::Iter<String>>) -> Arg {
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
pub(super) fn is_shared_object_name(path: &str) -> bool {
    path.ends_with(".so")
        || path.rsplit_once(".so.").is_some_and(|(_, version)| {
            version.starts_with(|c: char| c.is_ascii_digit())
                && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

/// What becomes of a directory flag.
pub(super) enum DirAction {
    Keep,
    Drop,
    Replace(PathBuf),
}

/// Rewrites the arguments of one driver call.
pub(super) struct ArgFilter<'a> {
    config: &'a WrapperConfig,
    /// `-l` names seen so far: emcc fails on a library given twice (pywasmcross).
    used_libraries: HashSet<String>,
    /// Whether the call or the recipe turns on wasm SIMD (see [`EMULATED_X86_SIMD_FLAGS`]).
    wasm_simd: bool,
}

impl ArgFilter<'_> {
    pub(super) fn rewrite(&mut self, arg: &Arg) -> Result<Vec<String>, WrapperError> {
        match arg {
            Arg::Input(input) => Ok(vec![input.clone()]),
            Arg::Flag(flag) => self.flag(flag, None),
            Arg::FlagWithValue(flag, value) => self.flag(flag, Some(value)),
        }
    }

    pub(super) fn flag(
        &mut self,
        flag: &str,
        value: Option<&str>,
    ) -> Result<Vec<String>, WrapperError> {
        if self.wasm_simd && EMULATED_X86_SIMD_FLAGS.contains(&flag) {
            return Ok(words(flag, value));
        }
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

    pub(super) fn dir_action(&self, prefix: &str, dir: &str) -> DirAction {
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

    pub(super) fn keep_library(&mut self, name: &str) -> bool {
        !DROPPED_LIBRARIES.contains(&name) && self.used_libraries.insert(name.to_owned())
    }
}

pub(super) fn is_dropped_flag(flag: &str) -> bool {
    DROPPED_FLAGS.contains(&flag) || DROPPED_FLAG_PREFIXES.iter().any(|p| flag.starts_with(p))
}

/// Splits a directory flag (`-I`, `-isystem`, `-idirafter`, `-iquote`, `-L`, `-B`) into its
/// name and directory.
pub(super) fn split_dir_flag<'a>(
    flag: &'a str,
    value: Option<&'a str>,
) -> Option<(&'a str, &'a str)> {
    const DIR_FLAGS: &[&str] = &["-isystem", "-idirafter", "-iquote", "-I", "-L", "-B"];
    let prefix = DIR_FLAGS.iter().find(|p| flag.starts_with(*p))?;
    let (name, joined) = flag.split_at(prefix.len());
    Some((name, value.unwrap_or(joined)))
}

pub(super) fn words(flag: &str, value: Option<&str>) -> Vec<String> {
    [Some(flag), value]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect()
}

pub(super) fn words_with_dir(prefix: &str, dir: &Path, separate: bool) -> Vec<String> {
    let dir = dir.display().to_string();
    if separate {
        vec![prefix.to_owned(), dir]
    } else {
        vec![format!("{prefix}{dir}")]
    }
}

/// Drops the options wasm-ld rejects from the comma list of a `-Wl,` flag; `None` if nothing
/// is left.
pub(super) fn filter_linker_list(list: &str) -> Option<String> {
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
pub(super) fn is_dropped_linker_group(group: &[&str]) -> bool {
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
