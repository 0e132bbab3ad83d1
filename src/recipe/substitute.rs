//! `$(NAME)` in a recipe's `source.url` and `build.cflags`/`cxxflags`/`ldflags`, replaced
//! from the build's environment as pyodide-build does (`_environment_substitute_str`). Scripts
//! are bash and keep `$(…)` as command substitution. Unlike Pyodide, which turns an unknown
//! name into nothing, an unknown name is an error: at load time with the recipe line, at build
//! time with the key.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::error::{nearest, Problem, RecipeError, SourceFile};

/// Variables of the build's environment that flags may name (`build::sandbox` sets them; the
/// README documents them): every one pyodide-build's `Makefile.envs` and config give a recipe
/// build, except those naming its own files (`PYODIDE_EMSDK_DIR`, `PYTHON_ARCHIVE_URL`, …).
/// Flags are expanded after `build.script`, so what it exports counts too.
pub const FLAG_VARIABLES: &[&str] = &[
    "PYODIDE_ROOT",
    "PYTHONINCLUDE",
    "PYMAJOR",
    "PYMINOR",
    "PYMICRO",
    "PYVERSION",
    "PKG_VERSION",
    "PKG_BUILD_DIR",
    "DISTDIR",
    "WASM_LIBRARY_DIR",
    "SIDE_MODULE_CFLAGS",
    "SIDE_MODULE_CXXFLAGS",
    "SIDE_MODULE_LDFLAGS",
    "CFLAGS_BASE",
    "CXXFLAGS_BASE",
    "LDFLAGS_BASE",
    "HOSTINSTALLDIR",
    "HOSTSITEPACKAGES",
    "NUMPY_LIB",
    "TARGETINSTALLDIR",
    "CPYTHONINSTALL",
    "SYSCONFIGDATA_DIR",
    "SYSCONFIG_NAME",
    "PLATFORM_TRIPLET",
    "PYODIDE",
    "PYODIDE_VERSION",
    "PYODIDE_ABI_VERSION",
    "PYODIDE_EMSCRIPTEN_VERSION",
    "PYODIDE_JOBS",
    "MESON_CROSS_FILE",
    "CMAKE_TOOLCHAIN_FILE",
    "PYO3_CROSS_LIB_DIR",
    "PYO3_CROSS_INCLUDE_DIR",
    "PYO3_CROSS_PYTHON_VERSION",
    "CARGO_BUILD_TARGET",
    "CARGO_TARGET_WASM32_UNKNOWN_EMSCRIPTEN_LINKER",
    "HOME",
    "TMPDIR",
    "SOURCE_DATE_EPOCH",
];

/// Variables a `source.url` may name: the URL is fetched before the build environment exists.
pub const URL_VARIABLES: &[&str] = &["PKG_VERSION", "PYMAJOR", "PYMINOR"];

/// A `$(NAME)` with no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable `$({0})`")]
pub struct UnknownVariable(pub String);

/// Replaces each `$(NAME)` in `text` with `lookup(NAME)`.
///
/// # Errors
///
/// The first name `lookup` has no value for.
pub fn expand(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, UnknownVariable> {
    expand_with(text, &PARENS, &lookup)
}

/// Replaces each `$(NAME)` and `${NAME}` in `text` with `lookup(NAME)`: backend flags, which
/// Pyodide's recipes write shell-style (`setup-args=--cross-file=${MESON_CROSS_FILE}`) though
/// no shell reads them.
///
/// # Errors
///
/// The first name `lookup` has no value for.
pub fn expand_shell_style(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, UnknownVariable> {
    expand_with(&expand_with(text, &BRACES, &lookup)?, &PARENS, &lookup)
}

/// How a reference to a variable opens and closes.
struct Delimiters {
    open: &'static str,
    close: char,
}

const PARENS: Delimiters = Delimiters {
    open: "$(",
    close: ')',
};
const BRACES: Delimiters = Delimiters {
    open: "${",
    close: '}',
};

fn expand_with(
    text: &str,
    delimiters: &Delimiters,
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<String, UnknownVariable> {
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (range, name) in references(text, delimiters) {
        out.push_str(&text[rest..range.start]);
        out.push_str(&lookup(name).ok_or_else(|| UnknownVariable(name.to_string()))?);
        rest = range.end;
    }
    out.push_str(&text[rest..]);
    Ok(out)
}

/// Each `$(NAME)` in `text`: its byte range and the name.
fn variables(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    references(text, &PARENS)
}

/// Each reference to a variable in `text` written with `delimiters`: its byte range and the
/// name.
fn references<'t>(
    text: &'t str,
    delimiters: &Delimiters,
) -> impl Iterator<Item = (Range<usize>, &'t str)> {
    let (open, close) = (delimiters.open, delimiters.close);
    let mut from = 0;
    std::iter::from_fn(move || {
        let start = from + text[from..].find(open)?;
        let len = text[start + open.len()..].find(close)?;
        from = start + open.len() + len + 1;
        Some((
            start..from,
            &text[start + open.len()..start + open.len() + len],
        ))
    })
}

/// Names a bash script exports (`export NAME=…`, `export NAME`), read from its text; flags
/// may name them since they are expanded with the environment the script leaves.
pub fn exported_names(script: &str) -> Vec<&str> {
    let word_start = |i: usize| i == 0 || script[..i].ends_with(|c: char| " \t\n;&|(".contains(c));
    let identifier = |c: char| c.is_ascii_alphanumeric() || c == '_';
    script
        .match_indices("export")
        .filter(|&(i, _)| word_start(i))
        .filter_map(|(i, word)| {
            let rest = script[i + word.len()..].trim_start_matches([' ', '\t']);
            let rest = rest.strip_prefix("-n ").unwrap_or(rest).trim_start();
            let end = rest.find(|c| !identifier(c)).unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .filter(|name| !name.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// The values the check needs, with their places; everything else in the file is ignored.
#[derive(Deserialize, Default)]
struct Substituted {
    #[serde(default)]
    source: SourceValues,
    #[serde(default)]
    build: BuildValues,
}

#[derive(Deserialize, Default)]
struct SourceValues {
    url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct BuildValues {
    script: Option<String>,
    cflags: Option<Spanned<String>>,
    cxxflags: Option<Spanned<String>>,
    ldflags: Option<Spanned<String>>,
    backend_flags: Option<Spanned<String>>,
}

/// Checks that every `$(NAME)` in the URL and flags names a variable the build will have.
pub(super) fn check(toml_text: &str, file: &SourceFile) -> Result<(), RecipeError> {
    let values: Substituted = toml::from_str(toml_text).map_err(|e| file.toml_error(&e))?;
    let exported = values
        .build
        .script
        .as_deref()
        .map(exported_names)
        .unwrap_or_default();
    let flags: Vec<&str> = FLAG_VARIABLES.iter().copied().chain(exported).collect();
    let checks = [
        ("source.url", &values.source.url, URL_VARIABLES),
        ("build.cflags", &values.build.cflags, &flags[..]),
        ("build.cxxflags", &values.build.cxxflags, &flags[..]),
        ("build.ldflags", &values.build.ldflags, &flags[..]),
        (
            "build.backend-flags",
            &values.build.backend_flags,
            &flags[..],
        ),
    ];
    for (key, value, known) in checks {
        let Some(value) = value else { continue };
        let unknown = variables(value.get_ref()).find(|(_, name)| !known.contains(name));
        if let Some((_, name)) = unknown {
            return Err(file.error(Some(value.span()), unknown_problem(key, name, known)));
        }
    }
    Ok(())
}

fn unknown_problem(key: &str, name: &str, known: &[&str]) -> Problem {
    let list = known
        .iter()
        .map(|v| format!("`$({v})`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut help = match nearest(name, known) {
        Some(near) => format!("did you mean `$({near})`? known: {list}"),
        None => format!("known: {list}"),
    };
    if key != "source.url" {
        help.push_str("; a variable that `build.script` exports works too");
    }
    Problem::new(
        format!("unknown variable `$({name})` in `{key}`"),
        "unknown variable",
        help,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_every_variable_and_names_the_unknown_one() {
        let lookup = |name: &str| (name == "A").then(|| "x y".to_string());
        assert_eq!(expand("-I$(A)/inc $(A)", lookup).unwrap(), "-Ix y/inc x y");
        assert_eq!(expand("no variables", lookup).unwrap(), "no variables");
        let error = expand("-L$(A) -L$(NUMPY_LIB)/lib", lookup).unwrap_err();
        assert_eq!(error.to_string(), "unknown variable `$(NUMPY_LIB)`");
    }

    #[test]
    fn backend_flags_expand_both_spellings() {
        let lookup = |name: &str| (name == "MESON_CROSS_FILE").then(|| "/b/cross.ini".to_string());
        let flag = "setup-args=--cross-file=${MESON_CROSS_FILE}";
        assert_eq!(
            expand_shell_style(flag, lookup).unwrap(),
            "setup-args=--cross-file=/b/cross.ini"
        );
        let flag = "setup-args=--cross-file=$(MESON_CROSS_FILE)";
        assert_eq!(
            expand_shell_style(flag, lookup).unwrap(),
            "setup-args=--cross-file=/b/cross.ini"
        );
        let error = expand_shell_style("x=${NOPE}", lookup).unwrap_err();
        assert_eq!(error.to_string(), "unknown variable `$(NOPE)`");
    }

    #[test]
    fn exported_names_are_read_from_the_script() {
        let script =
            "export A=1 export B=$(pkg-config --cflags x)\nC=2\nfoo; export D\nreexport E=1\n";
        assert_eq!(exported_names(script), ["A", "B", "D"]);
    }
}
