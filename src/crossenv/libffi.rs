//! libffi's headers for the target, as Pyodide's own `include/pythonX.Y` has them.
//!
//! Pyodide links libffi into its main module (ctypes needs it) and copies `ffi.h` and
//! `ffitarget.h` into the Python include dir, so cffi and other libffi users compile against it
//! and take the symbols from the main module at load time (the wrapper drops `-lffi`, as
//! pywasmcross does). A target assembled from CPython headers gets the same two files, made from
//! libffi's source the way its `configure` makes them for `wasm32-*-*`.

use std::path::Path;

use super::TargetError;

/// The values `configure` substitutes into `include/ffi.h.in` for wasm32 Emscripten:
/// `TARGET` from `configure.host`, `HAVE_LONG_DOUBLE` because wasm32's `long double` is 16
/// bytes against `double`'s 8, no trampoline table (that is Apple's).
const WASM32_SUBSTITUTIONS: &[(&str, &str)] = &[
    ("@TARGET@", "wasm32"),
    ("@HAVE_LONG_DOUBLE@", "1"),
    ("@FFI_EXEC_TRAMPOLINE_TABLE@", "0"),
];

/// Writes `ffi.h` and `ffitarget.h` into `include` from the libffi source tree `source`.
pub fn place(source: &Path, include: &Path) -> Result<(), TargetError> {
    if !source.join("configure.ac").is_file() {
        return Err(invalid(source, "it has no `configure.ac`"));
    }
    let version = version(&fs_err::read_to_string(source.join("configure.ac"))?)
        .ok_or_else(|| invalid(source, "its configure.ac has no `AC_INIT` version"))?;
    let template = fs_err::read_to_string(source.join("include/ffi.h.in"))?;
    let header = substitute(&template, &version);
    if let Some(left) = placeholder(&header) {
        let why = format!("its `include/ffi.h.in` has `@{left}@`, which emwheel does not know");
        return Err(invalid(source, &why));
    }
    fs_err::write(include.join("ffi.h"), header)?;
    fs_err::copy(
        source.join("src/wasm32/ffitarget.h"),
        include.join("ffitarget.h"),
    )?;
    Ok(())
}

fn substitute(template: &str, version: &str) -> String {
    WASM32_SUBSTITUTIONS.iter().fold(
        template.replace("@VERSION@", version),
        |text, (from, to)| text.replace(from, to),
    )
}

/// The first `@NAME@` left in `text`, as autoconf spells its placeholders.
fn placeholder(text: &str) -> Option<&str> {
    text.split('@')
        .skip(1)
        .find(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
}

/// The version in `AC_INIT([libffi], [3.4.8], …)`.
fn version(configure_ac: &str) -> Option<String> {
    let init = configure_ac.split("AC_INIT(").nth(1)?;
    let field = init.split(',').nth(1)?;
    Some(
        field
            .trim()
            .trim_matches(|c| c == '[' || c == ']')
            .to_string(),
    )
}

fn invalid(source: &Path, why: &str) -> TargetError {
    TargetError::Invalid {
        message: format!("`{}` is not a libffi source tree: {why}", source.display()),
        help: "run `scripts/setup`, which unpacks libffi's source for the target headers"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_template_is_filled_for_wasm32() {
        let template = "libffi @VERSION@\n#ifndef @TARGET@\n#if @HAVE_LONG_DOUBLE@\n#if @FFI_EXEC_TRAMPOLINE_TABLE@\n";
        let header = substitute(template, "3.4.8");
        assert_eq!(header, "libffi 3.4.8\n#ifndef wasm32\n#if 1\n#if 0\n");
        assert_eq!(placeholder(&header), None);
        assert_eq!(placeholder("a@b.org @NEW_THING@ x"), Some("NEW_THING"));
        let configure_ac = "AC_PREREQ(2.68)\nAC_INIT([libffi],[3.4.8],[http://x/issues])\n";
        assert_eq!(version(configure_ac).as_deref(), Some("3.4.8"));
    }
}
