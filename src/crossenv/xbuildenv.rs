//! Pyodide's own cross-build environments (`xbuildenv-<version>.tar.bz2` or `.tar.gz`, as
//! `pyodide xbuildenv install` fetches them, or such an archive unpacked): the target's real
//! headers, sysconfigdata, lockfile and `Makefile.envs`.
//!
//! Layout (pyodide-build's `xbuildenv.py`; the outer `xbuildenv/` is optional here):
//! ```text
//! xbuildenv/requirements.txt                 host packages for cross builds (numpy, …)
//! xbuildenv/site-packages-extras/            their target files (headers, static libraries)
//! xbuildenv/pyodide-root/Makefile.envs       PYODIDE_VERSION, PYVERSION, CFLAGS_BASE, …
//! xbuildenv/pyodide-root/dist/pyodide-lock.json
//! xbuildenv/pyodide-root/cpython/installs/python-X.Y.Z/include/pythonX.Y/
//! xbuildenv/pyodide-root/cpython/installs/python-X.Y.Z/sysconfigdata/_sysconfigdata__emscripten_wasm32-emscripten.py
//! ```
//! The runtime (`pyodide.asm.wasm`, …) is not part of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::TargetError;

/// An unpacked cross-build environment.
#[derive(Debug, Clone)]
pub struct XBuildEnv {
    /// Where it came from (the archive or directory given).
    pub origin: PathBuf,
    /// Its `pyodide-root` directory.
    pub root: PathBuf,
    /// The variables `Makefile.envs` sets outside conditionals, expanded.
    pub vars: BTreeMap<String, String>,
}

impl XBuildEnv {
    /// Opens the environment at `path`: a directory, or an archive that is checked against
    /// `sha256` (when given) before it is unpacked into `scratch`.
    pub fn open(path: &Path, sha256: Option<&str>, scratch: &Path) -> Result<Self, TargetError> {
        let unpacked = if path.is_dir() {
            if sha256.is_some() {
                return Err(invalid(
                    format!(
                        "`--sha256` checks an archive, but `{}` is a directory",
                        path.display()
                    ),
                    "pass the `.tar.bz2` or `.tar.gz` itself, or drop `--sha256`",
                ));
            }
            path.to_path_buf()
        } else {
            check_sha256(path, sha256)?;
            let dest = scratch.join("xbuildenv");
            fs_err::create_dir_all(&dest)?;
            crate::archive::unpack(path, &dest)
                .map_err(|error| invalid(error.to_string(), "pass an xbuildenv archive"))?;
            dest
        };
        let root = find_root(&unpacked).ok_or_else(|| {
            invalid(
                format!("`{}` has no `pyodide-root/Makefile.envs`", path.display()),
                "pass a Pyodide cross-build environment (`xbuildenv/pyodide-root/…`)",
            )
        })?;
        let vars = parse_makefile_envs(&fs_err::read_to_string(root.join("Makefile.envs"))?);
        Ok(XBuildEnv {
            origin: path.to_path_buf(),
            root,
            vars,
        })
    }

    /// The Pyodide version it was made for (`PYODIDE_VERSION`).
    pub fn version(&self) -> Result<String, TargetError> {
        self.var("PYODIDE_VERSION")
    }

    /// A variable of `Makefile.envs`, or an error naming it.
    pub fn var(&self, name: &str) -> Result<String, TargetError> {
        self.vars.get(name).cloned().ok_or_else(|| {
            invalid(
                format!(
                    "`{}` sets no `{name}`",
                    self.root.join("Makefile.envs").display()
                ),
                "pass a complete Pyodide cross-build environment",
            )
        })
    }

    /// Its lockfile.
    pub fn lockfile(&self) -> PathBuf {
        self.root.join("dist/pyodide-lock.json")
    }

    /// The CPython install of Python `version` (`cpython/installs/python-X.Y.Z`).
    pub fn install_dir(&self, version: &str) -> Result<PathBuf, TargetError> {
        let dir = self
            .root
            .join("cpython/installs")
            .join(format!("python-{version}"));
        if dir.is_dir() {
            return Ok(dir);
        }
        Err(invalid(
            format!("`{}` does not exist", dir.display()),
            "the cross-build environment is not for the Python its lockfile names",
        ))
    }
}

/// Where `pyodide-root` is: below `xbuildenv/`, or right below `dir`.
fn find_root(dir: &Path) -> Option<PathBuf> {
    ["xbuildenv/pyodide-root", "pyodide-root"]
        .iter()
        .map(|relative| dir.join(relative))
        .find(|root| root.join("Makefile.envs").is_file())
}

fn check_sha256(path: &Path, expected: Option<&str>) -> Result<(), TargetError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let actual = crate::hash::sha256_file(path)?;
    if actual.eq_ignore_ascii_case(expected) {
        return Ok(());
    }
    Err(invalid(
        format!(
            "`{}` has sha256 {actual}, but `--sha256` says {expected}",
            path.display()
        ),
        "nothing was installed; download the archive again, or check the digest you were given",
    ))
}

fn invalid(message: String, help: &str) -> TargetError {
    TargetError::Invalid {
        message,
        help: help.to_string(),
    }
}

/// The variables a `Makefile.envs` sets outside `ifdef`/`ifeq` blocks (the defaults a plain
/// build uses), with `$(NAME)` references expanded; `$(shell …)` and other functions expand to
/// nothing. Parsed rather than run with `make`, so that a downloaded file executes nothing.
pub fn parse_makefile_envs(text: &str) -> BTreeMap<String, String> {
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let mut depth = 0usize;
    for line in logical_lines(text) {
        let line = line.split('#').next().unwrap_or_default().trim();
        let keyword = line.split_whitespace().next().unwrap_or_default();
        match keyword {
            "ifdef" | "ifndef" | "ifeq" | "ifneq" => depth += 1,
            "endif" => depth = depth.saturating_sub(1),
            _ if depth == 0 => assign(&mut raw, line.strip_prefix("export ").unwrap_or(line)),
            _ => {}
        }
    }
    raw.keys()
        .map(|name| (name.clone(), expand(&raw, &raw[name], 0)))
        .collect()
}

/// Lines with their `\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                lines.push(std::mem::take(&mut current));
            }
        }
    }
    lines.push(current);
    lines
}

/// Applies one `NAME op value` line (`=`, `:=`, `?=`, `+=`).
fn assign(vars: &mut BTreeMap<String, String>, line: &str) {
    let Some(at) = line.find('=') else { return };
    let (left, value) = (&line[..at], line[at + 1..].trim());
    let (name, op) = match left.trim_end().strip_suffix(['?', ':', '+']) {
        Some(name) => (name.trim(), &left.trim_end()[name.len()..]),
        None => (left.trim(), ""),
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return;
    }
    match op.trim() {
        "?" if vars.contains_key(name) => {}
        "+" => {
            let entry = vars.entry(name.to_string()).or_default();
            entry.push(' ');
            entry.push_str(value);
        }
        _ => {
            vars.insert(name.to_string(), value.to_string());
        }
    }
}

/// Expands `$(NAME)` references; unknown names and make functions become empty.
fn expand(vars: &BTreeMap<String, String>, value: &str, depth: usize) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let Some(end) = closing_paren(&rest[start..]) else {
            break;
        };
        let name = &rest[start + 2..start + end];
        if depth < 16 {
            if let Some(inner) = vars.get(name) {
                out.push_str(&expand(vars, inner, depth + 1));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The index of the `)` that closes the `$(` at the start of `text`.
fn closing_paren(text: &str) -> Option<usize> {
    let mut open = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '(' => open += 1,
            ')' if open == 1 => return Some(index),
            ')' => open -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAKEFILE: &str = "export PYVERSION ?= 3.14.2\n\
export PYODIDE_VERSION ?= 314.0.3\n\
export DBGFLAGS_NODEBUG=-g0\n\
export DBGFLAGS=$(DBGFLAGS_NODEBUG)\n\
ifdef PYODIDE_SYMBOLS\n\texport DBGFLAGS=-g2\nendif\n\
export HOSTPYTHONROOT=$(shell python3 -c \"import sys; print(sys.prefix)\")\n\
export OPTFLAGS=-O2\n\
export CFLAGS_BASE=\\\n\t$(OPTFLAGS) \\\n\t$(DBGFLAGS) \\\n\t-fPIC \\\n\t-fwasm-exceptions \\\n\t$(EXTRA_CFLAGS)\n\
# a comment\n\
EXTRA_LDFLAGS += -sFOO\n\
export PYMAJOR=$(word 1,$(version_tuple))\n";

    #[test]
    fn makefile_envs_defaults_are_expanded() {
        let vars = parse_makefile_envs(MAKEFILE);
        assert_eq!(vars["PYVERSION"], "3.14.2");
        assert_eq!(vars["PYODIDE_VERSION"], "314.0.3");
        assert_eq!(vars["CFLAGS_BASE"], "-O2 -g0 -fPIC -fwasm-exceptions");
        assert_eq!(vars["DBGFLAGS"], "-g0", "conditional blocks are not taken");
        assert_eq!(vars["EXTRA_LDFLAGS"], "-sFOO");
        assert_eq!(vars["HOSTPYTHONROOT"], "", "nothing is run");
        assert_eq!(vars["PYMAJOR"], "", "make functions expand to nothing");
    }

    #[test]
    fn sha256_mismatch_is_refused_before_unpacking() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("xbuildenv.tar.gz");
        fs_err::write(&archive, b"not even gzip").unwrap();
        let scratch = dir.path().join("scratch");
        let wrong = "0".repeat(64);
        let error = XBuildEnv::open(&archive, Some(&wrong), &scratch).unwrap_err();
        assert!(error.to_string().contains(&wrong), "{error}");
        assert!(!scratch.exists(), "nothing is unpacked");
    }

    #[test]
    fn directories_need_no_digest_and_refuse_one() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("xbuildenv/pyodide-root");
        fs_err::create_dir_all(&root).unwrap();
        fs_err::write(root.join("Makefile.envs"), MAKEFILE).unwrap();
        let env = XBuildEnv::open(dir.path(), None, dir.path()).unwrap();
        assert_eq!(env.root, root);
        assert_eq!(env.version().unwrap(), "314.0.3");
        let digest = "0".repeat(64);
        let error = XBuildEnv::open(dir.path(), Some(&digest), dir.path()).unwrap_err();
        assert!(error.to_string().contains("is a directory"), "{error}");
    }
}
