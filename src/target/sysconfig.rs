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

/// The flags every side module is built with (as pyodide-build's `SIDE_MODULE_CFLAGS`,
/// `SIDE_MODULE_CXXFLAGS` and `SIDE_MODULE_LDFLAGS`, without the side-module switch, which the
/// wrapper adds to shared links only).
#[derive(Debug, Clone, PartialEq)]
pub struct SideModuleFlags {
    /// Every compile.
    pub cflags: Vec<String>,
    /// C++ compiles, after `cflags`.
    pub cxxflags: Vec<String>,
    /// Every shared link.
    pub ldflags: Vec<String>,
}

/// The side-module flags for a target whose compile flags (`CFLAGS_BASE` of its
/// `Makefile.envs`, or its sysconfig `CFLAGS`) are `base_cflags`.
///
/// Since ABI 2025_0 these name wasm exception handling (`-fwasm-exceptions
/// -sSUPPORT_LONGJMP=wasm`), which must be the same on every compile and link. Older Pyodides
/// (0.27 and before) name none: their runtime catches C++ exceptions with Emscripten's
/// JavaScript-based handling, which a side module takes part in only if its C++ is compiled
/// and linked with `-fexceptions`; without it a `throw` aborts Pyodide even inside `try`.
pub fn side_module_flags(base_cflags: &str) -> SideModuleFlags {
    let exceptions = exception_flags(base_cflags);
    let with = |base: &[&str], extra: &[String]| -> Vec<String> {
        base.iter()
            .map(|flag| flag.to_string())
            .chain(extra.iter().cloned())
            .collect()
    };
    let javascript_exceptions = exceptions.is_empty();
    let js_flag = vec!["-fexceptions".to_string()];
    let (compile, cxx, link) = if javascript_exceptions {
        (Vec::new(), js_flag.clone(), js_flag)
    } else {
        (exceptions.clone(), Vec::new(), exceptions)
    };
    SideModuleFlags {
        cflags: with(&["-O2", "-g0", "-fPIC"], &compile),
        cxxflags: cxx,
        ldflags: with(&["-O2", "-g0", "-sWASM_BIGINT"], &link),
    }
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

    #[test]
    fn wasm_exception_flags_go_on_every_compile_and_link() {
        let flags = side_module_flags(CFLAGS_2025);
        let eh = ["-fwasm-exceptions", "-sSUPPORT_LONGJMP"];
        assert_eq!(flags.cflags, ["-O2", "-g0", "-fPIC", eh[0], eh[1]]);
        assert!(flags.cxxflags.is_empty());
        assert_eq!(flags.ldflags, ["-O2", "-g0", "-sWASM_BIGINT", eh[0], eh[1]]);
    }

    #[test]
    fn older_targets_get_javascript_exceptions_for_cxx() {
        let cflags_2024 = "-fno-strict-overflow -Wsign-compare -Wunreachable-code -DNDEBUG -g -O3 -Wall -O2 -g0 -fPIC  -DPY_CALL_TRAMPOLINE";
        let flags = side_module_flags(cflags_2024);
        assert_eq!(flags.cflags, ["-O2", "-g0", "-fPIC"]);
        assert_eq!(flags.cxxflags, ["-fexceptions"]);
        assert_eq!(
            flags.ldflags,
            ["-O2", "-g0", "-sWASM_BIGINT", "-fexceptions"]
        );
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
