//! The native compile path: a compile call runs clang directly, with the command line emcc
//! computed for the same flags, instead of paying emcc's Python start-up for every object.
//!
//! emcc's compile mode only builds a clang command line and runs it: its own flags, then the
//! call's, then `<input> -o <output>`. The first call with a given flag set goes through emcc
//! with `EMCC_VERBOSE=1`, which prints that line to stderr; the line, with the per-call parts
//! (input, output, `-MF`/`-MT`/`-MQ` values) turned into placeholders, is cached under
//! the wrapper config's `native_cache` (`$EMWHEEL_HOME/native-compile/`; builds set it only with
//! `EMWHEEL_NATIVE_COMPILE=1`: the path is opt-in). Later calls with the same flag set substitute their own
//! parts and run clang themselves. The cache key holds the emcc program, the files it names (its
//! config), emcc's `emscripten-version.txt`, every `EM*` variable but emwheel's own, the C/C++ driver and the
//! flag set; the entry records clang's size and modification time and is ignored when they
//! change.
//!
//! It never guesses: a call goes through emcc as before when any argument is outside the short
//! list below (links, `-E`/`-S`/`-M` modes, response files, `-x`, PCH, ports and most `-s`
//! settings, emcc's own `--` options), when a learning call printed anything besides the line,
//! or when `EMWHEEL_NATIVE_COMPILE=0`. clang's stdout, stderr and exit code are passed on as
//! they are; emcc 3.1.69 does the same for a failing compile.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::run::{exit_code, passthrough, spawn_error};
use super::{Invocation, WrapperError};

/// The switch: `0` sends every compile through emcc.
pub const SWITCH_VARIABLE: &str = "EMWHEEL_NATIVE_COMPILE";

/// Environment variables clang reads and emcc might not pass on the same way: their presence
/// sends the call to emcc.
const CLANG_ENVIRONMENT: &[&str] = &[
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "CCC_OVERRIDE_OPTIONS",
    "EMCC_VERBOSE",
    "EMCC_DEBUG",
    // A compiler cache (`--compiler-cache`) sits in front of emcc's clang: keep it there.
    "EM_COMPILER_WRAPPER",
];

/// `-s` settings whose only effect on a compile is the clang line emcc computes for them.
const KNOWN_SETTINGS: &[&str] = &[
    "SUPPORT_LONGJMP",
    "DISABLE_EXCEPTION_CATCHING",
    "SIDE_MODULE",
    "MAIN_MODULE",
    "WASM_BIGINT",
];

/// Source suffixes the fast path compiles.
const SOURCE_SUFFIXES: &[&str] = &[".c", ".cc", ".cpp", ".cxx", ".c++", ".C"];

/// Flags that take the next argument as their value and are kept in the key as written.
const VALUE_FLAGS: &[&str] = &[
    "-I",
    "-D",
    "-U",
    "-isystem",
    "-iquote",
    "-idirafter",
    "-include",
    "-Xclang",
    "-mllvm",
];

/// Flags whose value is per call (a placeholder in the key and the cached line).
const PER_CALL_FLAGS: &[&str] = &["-o", "-MF", "-MT", "-MQ"];

/// Flags with these exact spellings are understood.
const EXACT_FLAGS: &[&str] = &[
    "-c",
    "-MD",
    "-MMD",
    "-MP",
    "-w",
    "-pipe",
    "-pthread",
    "-ansi",
    "-pedantic",
];

/// Flags with these prefixes are understood, except [`REFUSED_PREFIXES`].
const FLAG_PREFIXES: &[&str] = &[
    "-O",
    "-g",
    "-f",
    "-W",
    "-D",
    "-U",
    "-I",
    "-m",
    "-std=",
    "-pedantic-errors",
];

/// Understood prefixes whose spellings here are not: emcc or clang does more than compile.
const REFUSED_PREFIXES: &[&str] = &[
    "-fsyntax-only",
    "-fmodule",
    "-flto",
    "-fprofile",
    "-femit",
    "-fdump",
    "-gsplit-dwarf",
    "-gseparate-dwarf",
    "-gsource-map",
    "-Wl,",
    "-Wa,",
    "-Wp,",
    "-mllvm=",
];

/// A compile call the fast path understands: its flag set with the per-call values replaced by
/// placeholders, and those values.
#[derive(Debug, PartialEq)]
pub(super) struct Shape {
    /// The arguments with placeholders: the cache key's flag set.
    key_args: Vec<String>,
    /// Placeholder → the call's value.
    values: BTreeMap<String, String>,
}

/// What the cache holds for one key.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    /// clang, as emcc ran it.
    clang: PathBuf,
    /// clang's size and modification time (seconds, nanoseconds) when learned.
    clang_stamp: (u64, i64, i64),
    /// Its arguments, with placeholders.
    args: Vec<String>,
}

/// The placeholder for the `index`-th per-call value of `flag` (the input is `IN`).
fn placeholder(name: &str, index: usize) -> String {
    format!("\u{1}{name}{index}\u{1}")
}

impl Shape {
    /// The call's shape, or `None` when any argument is outside what the fast path knows.
    pub(super) fn parse(args: &[String]) -> Option<Shape> {
        let mut key_args = Vec::new();
        let mut values = BTreeMap::new();
        let mut inputs = 0;
        let mut saw_c = false;
        let mut saw_o = false;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let wrapped = |q: char| arg.len() > 1 && arg.starts_with(q) && arg.ends_with(q);
            if arg.contains('\\') || wrapped('"') || wrapped('\'') {
                return None;
            }
            if PER_CALL_FLAGS.contains(&arg.as_str()) {
                let value = iter.next()?;
                if value.starts_with('-') || value.contains('\u{1}') {
                    return None;
                }
                if arg == "-o" && std::mem::replace(&mut saw_o, true) {
                    return None;
                }
                let name = placeholder(arg, values.len());
                values.insert(name.clone(), value.clone());
                key_args.push(arg.clone());
                key_args.push(name);
            } else if VALUE_FLAGS.contains(&arg.as_str()) {
                let value = iter.next()?;
                key_args.push(arg.clone());
                key_args.push(value.clone());
            } else if let Some(setting) = arg
                .strip_prefix("-s")
                .filter(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                let name = setting.split('=').next().unwrap_or_default();
                if !KNOWN_SETTINGS.contains(&name) {
                    return None;
                }
                key_args.push(arg.clone());
            } else if arg.starts_with('-') {
                let known = EXACT_FLAGS.contains(&arg.as_str())
                    || (FLAG_PREFIXES.iter().any(|p| arg.starts_with(p))
                        && !REFUSED_PREFIXES.iter().any(|p| arg.starts_with(p))
                        && !arg.starts_with("-M"));
                if !known {
                    return None;
                }
                saw_c |= arg == "-c";
                key_args.push(arg.clone());
            } else if SOURCE_SUFFIXES.iter().any(|s| arg.ends_with(s)) && !arg.contains('\u{1}') {
                inputs += 1;
                let name = placeholder("IN", 0);
                values.insert(name.clone(), arg.clone());
                key_args.push(name);
            } else {
                return None;
            }
        }
        (saw_c && saw_o && inputs == 1).then_some(Shape { key_args, values })
    }
}

/// Runs a compile invocation on the fast path; `None` when it must go through emcc
/// (switched off, not understood, or not a compile). The flag says whether clang ran directly
/// (`false`: emcc ran to learn the line).
pub(super) fn try_run(
    invocation: &Invocation,
    cache_dir: &Path,
) -> Option<(bool, Result<i32, WrapperError>)> {
    if std::env::var_os(SWITCH_VARIABLE).is_some_and(|v| v == "0") {
        return None;
    }
    let driver = invocation.program.file_name()?.to_str()?;
    if !matches!(driver, "emcc" | "em++") || invocation.export_list.is_some() {
        return None;
    }
    if CLANG_ENVIRONMENT
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        return None;
    }
    let shape = Shape::parse(&invocation.args)?;
    let cache = cache_dir.join(format!(
        "{}.json",
        cache_key(&invocation.program, driver, &shape)
    ));
    if let Some(entry) = read_entry(&cache) {
        let args: Vec<String> = entry
            .args
            .iter()
            .map(|arg| {
                shape
                    .values
                    .get(arg)
                    .cloned()
                    .unwrap_or_else(|| arg.clone())
            })
            .collect();
        return Some((
            true,
            passthrough(&entry.clang)
                .args(&args)
                .passthrough()
                .map(exit_code)
                .map_err(|error| spawn_error(&entry.clang, error)),
        ));
    }
    Some((false, learn(invocation, &shape, &cache)))
}

/// The cache key: a digest of the emcc program and what it reads, the environment and the shape.
fn cache_key(program: &Path, driver: &str, shape: &Shape) -> String {
    let mut hasher = Sha256::new();
    let mut add = |part: &[u8]| {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    };
    add(program.as_os_str().as_encoded_bytes());
    add(driver.as_bytes());
    for file in emcc_files(program) {
        add(file.as_os_str().as_encoded_bytes());
        add(&std::fs::read(&file).unwrap_or_default());
    }
    let mut environment: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| name.starts_with("EM") && !name.starts_with("EMWHEEL_"))
        .collect();
    environment.sort();
    for (name, value) in environment {
        add(name.as_bytes());
        add(value.as_bytes());
    }
    for arg in &shape.key_args {
        add(arg.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The files that make up emcc's version and config: the program, the absolute paths a
/// wrapper script names (the config, the real emcc), `$EM_CONFIG`, and `emscripten-version.txt`
/// beside each.
fn emcc_files(program: &Path) -> Vec<PathBuf> {
    let mut files = vec![program.to_path_buf()];
    let text = std::fs::read(program).unwrap_or_default();
    if text.len() < 64 * 1024 {
        let text = String::from_utf8_lossy(&text);
        files.extend(
            text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '=')
                .filter(|word| word.starts_with('/'))
                .map(PathBuf::from)
                .filter(|path| path.is_file()),
        );
    }
    files.extend(std::env::var_os("EM_CONFIG").map(PathBuf::from));
    let versions: Vec<PathBuf> = files
        .iter()
        .filter_map(|file| Some(file.parent()?.join("emscripten-version.txt")))
        .filter(|path| path.is_file())
        .collect();
    files.extend(versions);
    files
}

/// clang's size and modification time.
fn clang_stamp(clang: &Path) -> Option<(u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata = std::fs::metadata(clang).ok()?;
    Some((metadata.len(), metadata.mtime(), metadata.mtime_nsec()))
}

/// The cached entry, when present, readable and made for the clang that is there now.
fn read_entry(path: &Path) -> Option<Entry> {
    let entry: Entry = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    (clang_stamp(&entry.clang) == Some(entry.clang_stamp)).then_some(entry)
}

/// Runs the call through emcc with `EMCC_VERBOSE=1`, passes its output on without the line
/// emcc printed, and caches that line when the call was clean. Returns emcc's exit code.
fn learn(invocation: &Invocation, shape: &Shape, cache: &Path) -> Result<i32, WrapperError> {
    let output = passthrough(&invocation.program)
        .args(&invocation.args)
        .env("EMCC_VERBOSE", "1")
        .passthrough_capturing_stderr()
        .map_err(|error| spawn_error(&invocation.program, error))?;
    let code = exit_code(output.status);
    let stderr = match String::from_utf8(output.stderr) {
        Ok(text) => text,
        Err(error) => {
            // Not text: passed on as it is, and nothing is learnt from it.
            std::io::stderr().write_all(error.as_bytes())?;
            return Ok(code);
        }
    };
    let mut lines: Vec<&str> = stderr.split_inclusive('\n').collect();
    let stage = lines.iter().position(|line| line.starts_with(' '));
    let command = stage.map(|index| lines.remove(index));
    std::io::stderr().write_all(lines.concat().as_bytes())?;
    if code == 0 && lines.is_empty() {
        if let Some(entry) = command.and_then(|line| template(line.trim_end_matches('\n'), shape)) {
            // A failed cache write only costs the next call a trip through emcc.
            let _ = write_entry(cache, &entry);
        }
    }
    Ok(code)
}

/// The cached form of the line emcc printed: `None` unless it parses back exactly, runs clang,
/// ends in `<input> -o <output>`, and holds each per-call value only where a placeholder goes.
fn template(line: &str, shape: &Shape) -> Option<Entry> {
    let rest = line.strip_prefix(' ')?;
    let (program_text, args_text) = rest.split_once(' ')?;
    // emcc prints the program with `maybe_quote`: in double quotes unless all `[A-Za-z0-9./_-]`.
    let plain = |p: &str| p.chars().all(|c| c.is_alphanumeric() || "./-_".contains(c));
    let program = match program_text
        .strip_prefix('"')
        .and_then(|p| p.strip_suffix('"'))
    {
        Some(inner) if !plain(inner) && !inner.contains('"') => inner,
        None if plain(program_text) => program_text,
        _ => return None,
    };
    let args = emcc_split(args_text)?;
    let clang = PathBuf::from(program);
    let name = clang.file_name()?.to_str()?;
    if !clang.is_absolute() || !matches!(name, "clang" | "clang++") {
        return None;
    }
    let input = shape.values.get(&placeholder("IN", 0))?;
    let n = args.len();
    if n < 3 || &args[n - 3] != input || args[n - 2] != "-o" {
        return None;
    }
    let mut templated = Vec::with_capacity(n);
    let mut previous: Option<&str> = None;
    for arg in &args {
        let slot = shape.values.iter().find(|(name, value)| {
            *value == arg
                && match previous {
                    Some(flag) if PER_CALL_FLAGS.contains(&flag) => {
                        name.starts_with(&format!("\u{1}{flag}"))
                    }
                    _ => name.starts_with("\u{1}IN"),
                }
        });
        templated.push(slot.map_or_else(|| arg.clone(), |(name, _)| name.clone()));
        previous = Some(arg);
    }
    // Every per-call value is replaced exactly once and survives nowhere else.
    for (name, value) in &shape.values {
        if templated.iter().filter(|a| *a == name).count() != 1
            || templated.iter().any(|a| a.contains(value.as_str()))
        {
            return None;
        }
    }
    Some(Entry {
        clang_stamp: clang_stamp(&clang)?,
        clang,
        args: templated,
    })
}

/// emcc's `shlex_quote` (tools/shared.py), with which it prints the line: an argument with a
/// space goes in double quotes with `"` escaped, unless it already starts and ends with a quote;
/// any other argument is printed as it is.
fn emcc_quote(arg: &str) -> String {
    let quoted = |q: char| arg.starts_with(q) && arg.ends_with(q);
    if arg.contains(' ') && !quoted('"') && !quoted('\'') {
        format!("\"{}\"", arg.replace('"', "\\\""))
    } else {
        arg.to_owned()
    }
}

/// Splits a line emcc printed back into arguments: `None` unless printing them again gives the
/// same line. [`Shape::parse`] refuses the arguments this could read wrongly (backslashes, and
/// quote-wrapped arguments with spaces, which emcc prints unquoted).
fn emcc_split(line: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find("\" ")
                .or_else(|| quoted.ends_with('"').then(|| quoted.len() - 1))?;
            args.push(quoted[..end].replace("\\\"", "\""));
            rest = quoted[end + 1..].strip_prefix(' ').unwrap_or("");
        } else {
            let (arg, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            args.push(arg.to_owned());
            rest = tail;
        }
    }
    let again: Vec<String> = args.iter().map(|a| emcc_quote(a)).collect();
    (again.join(" ") == line).then_some(args)
}

/// Writes the entry to a temporary file beside `path` and renames it into place.
fn write_entry(path: &Path, entry: &Entry) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(&serde_json::to_vec(entry).map_err(std::io::Error::other)?)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_depfile_call_is_learned_with_placeholders() {
        let args: Vec<String> = "-Oz -std=c11 -MD -MQ jump.o -MF jump.o.d -c jump.c -o jump.o"
            .split(' ')
            .map(String::from)
            .collect();
        let shape = Shape::parse(&args).expect("understood");
        let line = format!(" /usr/lib/llvm-19/bin/clang -target x {}", args.join(" "));
        let args_text = line.strip_prefix(" /usr/lib/llvm-19/bin/clang ").unwrap();
        assert!(emcc_split(args_text).is_some());
        let entry = template(&line, &shape).expect("learned");
        assert_eq!(entry.args.len(), args.len() + 2);
    }
}
