//! Reading the target's `build_time_vars` and deriving the flags and facts a build needs.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::TargetError;
use crate::process::Cmd;

/// The target's sysconfig variables.
pub type BuildTimeVars = BTreeMap<String, Value>;

/// The sysconfigdata module is Python (its paths are f-strings over `PYODIDE_ROOT`), so the
/// host interpreter evaluates it and hands the dict back as JSON.
const DUMP: &str = "import json, runpy, sys; \
print(json.dumps(runpy.run_path(sys.argv[1])['build_time_vars']))";

/// Evaluates a sysconfigdata file with `PYODIDE_ROOT` set to `pyodide_root`.
pub fn read(python: &Path, file: &Path, pyodide_root: &Path) -> Result<BuildTimeVars, TargetError> {
    let finished = Cmd::new(python)
        .args(["-I", "-c", DUMP])
        .arg(file)
        .env("PYODIDE_ROOT", pyodide_root)
        .run()?;
    let line = finished.output.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|source| TargetError::Json {
        path: file.to_path_buf(),
        source,
    })
}

/// A string variable, or an error naming it.
pub fn string(vars: &BuildTimeVars, name: &str) -> Result<String, TargetError> {
    vars.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| TargetError::Invalid {
            message: format!("the target's sysconfigdata has no `{name}`"),
            help: "the Pyodide distribution may be incomplete; reinstall it".to_string(),
        })
}

/// The exception-handling and setjmp flags in the target's CFLAGS. Since ABI 2025_0 they
/// must be the same at compile and link time, so they go into both flag lists.
pub fn exception_flags(cflags: &str) -> Vec<String> {
    cflags
        .split_whitespace()
        .filter(|flag| {
            matches!(*flag, "-fwasm-exceptions" | "-fexceptions")
                || flag.starts_with("-sSUPPORT_LONGJMP")
                || flag.starts_with("-sDISABLE_EXCEPTION_")
        })
        .map(str::to_string)
        .collect()
}

/// Compile flags for every side-module object (as pyodide-build's `SIDE_MODULE_CFLAGS`).
pub fn side_module_cflags(cflags: &str) -> Vec<String> {
    let mut flags: Vec<String> = ["-O2", "-g0", "-fPIC"].map(String::from).to_vec();
    flags.extend(exception_flags(cflags));
    flags
}

/// Link flags for every side module (as pyodide-build's `SIDE_MODULE_LDFLAGS` without the
/// side-module switch, which the wrapper adds to shared links only).
pub fn side_module_ldflags(cflags: &str) -> Vec<String> {
    let mut flags: Vec<String> = ["-O2", "-g0", "-sWASM_BIGINT"].map(String::from).to_vec();
    flags.extend(exception_flags(cflags));
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFLAGS_2025: &str = "-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall -O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP  -DPY_CALL_TRAMPOLINE";

    #[test]
    fn exception_flags_come_from_cflags() {
        assert_eq!(
            exception_flags(CFLAGS_2025),
            ["-fwasm-exceptions", "-sSUPPORT_LONGJMP"]
        );
        assert!(exception_flags("-O2 -g0").is_empty());
    }

    #[test]
    fn side_module_flags_carry_exception_flags_on_both_sides() {
        assert_eq!(
            side_module_cflags(CFLAGS_2025),
            [
                "-O2",
                "-g0",
                "-fPIC",
                "-fwasm-exceptions",
                "-sSUPPORT_LONGJMP"
            ]
        );
        assert_eq!(
            side_module_ldflags(CFLAGS_2025),
            [
                "-O2",
                "-g0",
                "-sWASM_BIGINT",
                "-fwasm-exceptions",
                "-sSUPPORT_LONGJMP"
            ]
        );
    }
}
