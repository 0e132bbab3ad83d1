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

/// The flags every side module is built with: pyodide-build's `SIDE_MODULE_CFLAGS`,
/// `SIDE_MODULE_CXXFLAGS` and `SIDE_MODULE_LDFLAGS`, with the values of its defaults (0.34 and
/// later, `DEFAULT_CONFIG_COMPUTED` in `config.py`):
///
/// | | pyodide-build | here |
/// |---|---|---|
/// | `cflags` | `$(CFLAGS_BASE) -I$(PYTHONINCLUDE) -Oz` | the same |
/// | `cxxflags` | `$(CFLAGS_BASE) -Oz` | the same (+ `-fexceptions` before 2025_0) |
/// | `ldflags` | `$(LDFLAGS_BASE) -s SIDE_MODULE=1 -Oz` | the same, without `LDFLAGS_BASE`'s `-L` |
///
/// where Pyodide's `Makefile.envs` sets `CFLAGS_BASE` to `-O2 -g0 -fPIC` and the exception
/// flags, and `LDFLAGS_BASE` to `-O2 -g0 -L<cpython>/lib/ -s WASM_BIGINT` and the exception
/// flags. The `-L` names the directory of `libpython` in Pyodide's own tree, which a side module
/// never links and a target here does not have.
#[derive(Debug, Clone, PartialEq)]
pub struct SideModuleFlags {
    /// Every compile.
    pub cflags: Vec<String>,
    /// C++ compiles, after `cflags` (and the recipe's `cflags`).
    pub cxxflags: Vec<String>,
    /// Every shared link.
    pub ldflags: Vec<String>,
}

/// The optimization pyodide-build (0.34 and later) puts after the base flags of every compile
/// and link: for size, which is download time in a browser. Every `-O` before it (`CFLAGS_BASE`'s
/// `-O2`, and the package's own `-O3` from setuptools, which the wrapper puts first) is
/// overridden, since the last `-O` wins in clang and in emcc; a recipe's flags come after it and
/// override it in turn.
const OPTIMIZATION: &str = "-Oz";

/// The side-module flags for a target whose compile flags (`CFLAGS_BASE` of its
/// `Makefile.envs`, its sysconfig `CFLAGS`, or the `cflags` a `target.json` records) are
/// `base_cflags`, and whose Python headers are in `python_include`.
///
/// Only the exception flags are taken from `base_cflags`. Since ABI 2025_0 they name wasm
/// exception handling (`-fwasm-exceptions -sSUPPORT_LONGJMP=wasm`), which must be the same on
/// every compile and link. Older Pyodides (0.27 and before) name none: their runtime catches C++
/// exceptions with Emscripten's JavaScript-based handling, which a side module takes part in only
/// if its C++ is compiled and linked with `-fexceptions`; without it a `throw` aborts Pyodide even
/// inside `try`.
pub fn side_module_flags(base_cflags: &str, python_include: &Path) -> SideModuleFlags {
    let exceptions = exception_flags(base_cflags);
    let exceptions: Vec<&str> = exceptions.iter().map(String::as_str).collect();
    let (compile, link, cxx): (&[&str], &[&str], &[&str]) = if exceptions.is_empty() {
        (&[], &["-fexceptions"], &["-fexceptions"])
    } else {
        (&exceptions, &exceptions, &[])
    };
    let include = format!("-I{}", python_include.display());
    let words = |groups: &[&[&str]]| groups.concat().into_iter().map(str::to_string).collect();
    // `CFLAGS_BASE` and `LDFLAGS_BASE` of Pyodide's `Makefile.envs`.
    let cflags_base = [&["-O2", "-g0", "-fPIC"], compile].concat();
    let ldflags_base = [&["-O2", "-g0", "-sWASM_BIGINT"], link].concat();
    SideModuleFlags {
        cflags: words(&[&cflags_base, &[&include, OPTIMIZATION]]),
        cxxflags: words(&[&cflags_base, &[OPTIMIZATION], cxx]),
        ldflags: words(&[&ldflags_base, &["-sSIDE_MODULE=1", OPTIMIZATION]]),
    }
}

/// The sysconfigdata with `SOABI_PLATFORM` unquoted, when the distribution's value carries
/// literal double quotes: Pyodide 315.0.0-alpha.2 has `'"wasm32-emscripten"'`, from which
/// setuptools names limited-API extensions `_x.abi3-"wasm32-emscripten".so`, a file Pyodide
/// never imports (its own suffixes say `.abi3-wasm32-emscripten.so`). Appended as an
/// assignment so that every other line stays the distribution's; `None` when nothing is
/// quoted.
pub fn unquoted_platform(original: &str, vars: &BuildTimeVars) -> Option<String> {
    let value = string(vars, "SOABI_PLATFORM").ok()?;
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    Some(format!(
        "{original}\n# emwheel: the distribution's SOABI_PLATFORM carried literal quotes.\nbuild_time_vars[\"SOABI_PLATFORM\"] = \"{inner}\"\n"
    ))
}

/// The sysconfigdata build backends see in cross-version mode: the target's, with `SOABI`
/// naming the host's version (`cpython-314-…` becomes `cpython-313-…`); appended as an
/// assignment so that every other line stays the distribution's.
pub fn cross_sysconfigdata(
    original: &str,
    vars: &BuildTimeVars,
    target_xy: &str,
    host_xy: &str,
) -> Result<String, TargetError> {
    let soabi = string(vars, "SOABI")?;
    let nodot = |xy: &str| format!("cpython-{}", xy.replace('.', ""));
    let host_soabi = soabi.replacen(&nodot(target_xy), &nodot(host_xy), 1);
    Ok(format!(
        "{original}\n# emwheel cross-version mode: build backends run on CPython {host_xy}, so SOABI \
names it; EXT_SUFFIX stays the target's.\nbuild_time_vars[\"SOABI\"] = \"{host_soabi}\"\n"
    ))
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

    const INCLUDE: &str = "/t/include/python3.13";

    fn flags_for(base_cflags: &str) -> SideModuleFlags {
        side_module_flags(base_cflags, Path::new(INCLUDE))
    }

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn flags_are_pyodide_builds_defaults_with_wasm_exceptions() {
        let flags = flags_for(CFLAGS_2025);
        let base = "-O2 -g0 -fPIC -fwasm-exceptions -sSUPPORT_LONGJMP";
        assert_eq!(flags.cflags, words(&format!("{base} -I{INCLUDE} -Oz")));
        assert_eq!(flags.cxxflags, words(&format!("{base} -Oz")));
        assert_eq!(
            flags.ldflags,
            words("-O2 -g0 -sWASM_BIGINT -fwasm-exceptions -sSUPPORT_LONGJMP -sSIDE_MODULE=1 -Oz")
        );
    }

    #[test]
    fn older_targets_get_javascript_exceptions_for_cxx() {
        let cflags_2024 = "-fno-strict-overflow -Wsign-compare -Wunreachable-code -DNDEBUG -g -O3 -Wall -O2 -g0 -fPIC  -DPY_CALL_TRAMPOLINE";
        let flags = flags_for(cflags_2024);
        assert_eq!(
            flags.cflags,
            words(&format!("-O2 -g0 -fPIC -I{INCLUDE} -Oz"))
        );
        assert_eq!(flags.cxxflags, words("-O2 -g0 -fPIC -Oz -fexceptions"));
        assert_eq!(
            flags.ldflags,
            words("-O2 -g0 -sWASM_BIGINT -fexceptions -sSIDE_MODULE=1 -Oz")
        );
    }

    #[test]
    fn the_last_optimization_is_oz_everywhere() {
        let flags = flags_for(CFLAGS_2025);
        for list in [&flags.cflags, &flags.cxxflags, &flags.ldflags] {
            let last = list.iter().rev().find(|flag| flag.starts_with("-O"));
            assert_eq!(last.map(String::as_str), Some("-Oz"), "{list:?}");
        }
    }

    #[test]
    fn flags_derived_from_recorded_flags_are_the_same() {
        for base in [CFLAGS_2025, "-O2 -g0 -fPIC"] {
            let flags = flags_for(base);
            assert_eq!(flags_for(&flags.cflags.join(" ")), flags, "{base}");
        }
    }

    #[test]
    fn only_a_quoted_soabi_platform_is_unquoted() {
        let vars = |value: &str| -> BuildTimeVars {
            serde_json::from_value(serde_json::json!({ "SOABI_PLATFORM": value })).unwrap()
        };
        let repaired = unquoted_platform("x = 1", &vars("\"wasm32-emscripten\"")).unwrap();
        assert!(repaired.starts_with("x = 1\n"), "{repaired}");
        assert!(repaired.ends_with("build_time_vars[\"SOABI_PLATFORM\"] = \"wasm32-emscripten\"\n"));
        assert_eq!(unquoted_platform("x = 1", &vars("wasm32-emscripten")), None);
    }

    #[test]
    fn cross_sysconfigdata_renames_only_soabi() {
        let vars: BuildTimeVars = serde_json::from_value(serde_json::json!({
            "SOABI": "cpython-314-wasm32-emscripten",
            "EXT_SUFFIX": ".cpython-314-wasm32-emscripten.so",
        }))
        .unwrap();
        let original = "build_time_vars = {'SOABI': 'cpython-314-wasm32-emscripten'}";
        let text = cross_sysconfigdata(original, &vars, "3.14", "3.13").unwrap();
        assert!(text.starts_with(original), "{text}");
        assert!(
            text.ends_with("build_time_vars[\"SOABI\"] = \"cpython-313-wasm32-emscripten\"\n"),
            "{text}"
        );
    }
}
