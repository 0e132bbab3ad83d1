//! The target's `include/pythonX.Y`: CPython headers of the same `X.Y` with `pyconfig.h`
//! rewritten for wasm32 from the target's sysconfig.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::sysconfig::BuildTimeVars;
use super::TargetError;

/// Copies `source` (a CPython `include/pythonX.Y`) to `dest` and rewrites its `pyconfig.h`.
pub fn assemble(source: &Path, vars: &BuildTimeVars, dest: &Path) -> Result<(), TargetError> {
    let template = pyconfig_template(source)?;
    copy_tree(source, dest)?;
    let rewritten = rewrite_pyconfig(&fs_err::read_to_string(&template)?, vars);
    fs_err::write(dest.join("pyconfig.h"), rewritten)?;
    Ok(())
}

/// Refuses headers of another CPython `X.Y` than the target's (read from `patchlevel.h`).
pub fn check_version(source: &Path, xy: &str) -> Result<(), TargetError> {
    let patchlevel = source.join("patchlevel.h");
    let text = fs_err::read_to_string(&patchlevel).map_err(|_| TargetError::Invalid {
        message: format!("`{}` has no patchlevel.h", source.display()),
        help: "pass `--headers` with a CPython `include/pythonX.Y` directory".to_string(),
    })?;
    let define = |name: &str| {
        text.lines()
            .filter_map(|line| line.trim().strip_prefix("#define "))
            .find_map(|rest| rest.strip_prefix(name))
            .map(|value| value.trim().to_string())
            .unwrap_or_default()
    };
    let found = format!(
        "{}.{}",
        define("PY_MAJOR_VERSION"),
        define("PY_MINOR_VERSION")
    );
    if found == xy {
        return Ok(());
    }
    Err(TargetError::Invalid {
        message: format!(
            "`{}` holds CPython {found} headers, but the target is Python {xy}",
            source.display()
        ),
        help: format!("pass `--headers` with a CPython `include/python{xy}` directory"),
    })
}

/// The `pyconfig.h` to rewrite. Debian's `include/pythonX.Y/pyconfig.h` only dispatches to
/// `include/<triplet>/pythonX.Y/pyconfig.h`; any of those will do, since every line that
/// depends on the machine is rewritten from the target's sysconfig.
fn pyconfig_template(source: &Path) -> Result<PathBuf, TargetError> {
    let pyconfig = source.join("pyconfig.h");
    let text = fs_err::read_to_string(&pyconfig).map_err(|_| TargetError::Invalid {
        message: format!("`{}` has no pyconfig.h", source.display()),
        help: "pass `--headers` with a CPython `include/pythonX.Y` directory".to_string(),
    })?;
    let dispatched: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            line.trim_start_matches(['#', ' '])
                .strip_prefix("include <")
        })
        .filter_map(|rest| rest.strip_suffix('>'))
        .filter(|included| included.ends_with("/pyconfig.h"))
        .collect();
    if dispatched.is_empty() {
        return Ok(pyconfig);
    }
    let include_root = source.join("..");
    dispatched
        .iter()
        .map(|included| include_root.join(included))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| TargetError::Invalid {
            message: format!(
                "`{}` only includes a per-architecture pyconfig.h, and none of them exists",
                pyconfig.display()
            ),
            help: "unpack the whole `libpythonX.Y-dev` package (its `include/<triplet>/` too)"
                .to_string(),
        })
}

/// Copies a header tree as it is (links followed).
pub fn copy_tree(source: &Path, dest: &Path) -> Result<(), TargetError> {
    for entry in walkdir::WalkDir::new(source).follow_links(true) {
        let entry = entry.map_err(std::io::Error::from)?;
        let relative = entry
            .path()
            .strip_prefix(source)
            .expect("walkdir stays below its root");
        let target = dest.join(relative);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&target)?;
        } else {
            fs_err::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Rewrites every `#define NAME …` / `/* #undef NAME */` line whose NAME sysconfig records.
/// sysconfig keeps only names that start with a capital letter and stores `#undef` as 0, so
/// 0 means undefined unless the template itself defines the name as 0; every other line
/// (feature macros such as `_GNU_SOURCE`) stays as the host had it.
pub fn rewrite_pyconfig(template: &str, vars: &BuildTimeVars) -> String {
    let mut out = String::with_capacity(template.len());
    for line in template.lines() {
        out.push_str(&rewrite_line(line, vars));
        out.push('\n');
    }
    out
}

fn rewrite_line(line: &str, vars: &BuildTimeVars) -> String {
    let Some((name, template_value)) = parse_define(line) else {
        return line.to_string();
    };
    let Some(value) = vars.get(name) else {
        return line.to_string();
    };
    let rendered = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return line.to_string(),
    };
    if rendered == "0" && template_value != Some("0") {
        format!("/* #undef {name} */")
    } else {
        format!("#define {name} {rendered}")
    }
}

/// `#define NAME VALUE` → (NAME, Some(VALUE)); `/* #undef NAME */` → (NAME, None).
fn parse_define(line: &str) -> Option<(&str, Option<&str>)> {
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix("#define ") {
        let mut parts = rest.trim().splitn(2, char::is_whitespace);
        let name = parts.next()?;
        return Some((name, Some(parts.next().unwrap_or("").trim())));
    }
    let rest = trimmed.strip_prefix("/* #undef ")?.strip_suffix("*/")?;
    Some((rest.trim(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> BuildTimeVars {
        serde_json::from_value(json!({
            "SIZEOF_VOID_P": 4, "SIZEOF_LONG": 4, "HAVE_FORK": 0, "HAVE_DLOPEN": 1,
            "HAVE_ALLOCA_H": 1, "RETSIGTYPE": "void", "PY_SUPPORT_TIER": 0,
        }))
        .unwrap()
    }

    #[test]
    fn rewrites_sizes_and_undefines_zeros() {
        let template = "#define SIZEOF_VOID_P 8\n#define SIZEOF_LONG 8\n#define HAVE_FORK 1\n\
/* #undef HAVE_ALLOCA_H */\n#define _GNU_SOURCE 1\n#define PY_SUPPORT_TIER 0\n#define RETSIGTYPE void\n";
        let expected = "#define SIZEOF_VOID_P 4\n#define SIZEOF_LONG 4\n/* #undef HAVE_FORK */\n\
#define HAVE_ALLOCA_H 1\n#define _GNU_SOURCE 1\n#define PY_SUPPORT_TIER 0\n#define RETSIGTYPE void\n";
        assert_eq!(rewrite_pyconfig(template, &vars()), expected);
    }

    #[test]
    fn debian_dispatcher_resolves_to_an_architecture_pyconfig() {
        let root = tempfile::tempdir().unwrap();
        let include = root.path().join("python3.14");
        let arch = root.path().join("x86_64-linux-gnu/python3.14");
        fs_err::create_dir_all(&include).unwrap();
        fs_err::create_dir_all(&arch).unwrap();
        let dispatcher = "#if defined(__linux__)\n# if defined(__x86_64__)\n#  include <x86_64-linux-gnu/python3.14/pyconfig.h>\n# elif defined(__i386__)\n#  include <i386-linux-gnu/python3.14/pyconfig.h>\n# endif\n#endif\n";
        fs_err::write(include.join("pyconfig.h"), dispatcher).unwrap();
        fs_err::write(arch.join("pyconfig.h"), "#define SIZEOF_LONG 8\n").unwrap();
        let dest = root.path().join("out");
        assemble(&include, &vars(), &dest).unwrap();
        let written = fs_err::read_to_string(dest.join("pyconfig.h")).unwrap();
        assert_eq!(written, "#define SIZEOF_LONG 4\n");
        fs_err::remove_file(arch.join("pyconfig.h")).unwrap();
        let error = assemble(&include, &vars(), &dest).unwrap_err();
        assert!(error.to_string().contains("per-architecture"), "{error}");
    }

    #[test]
    fn headers_of_another_python_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = "#define PY_MAJOR_VERSION        3\n#define PY_MINOR_VERSION        14\n";
        fs_err::write(dir.path().join("patchlevel.h"), text).unwrap();
        assert!(check_version(dir.path(), "3.14").is_ok());
        let error = check_version(dir.path(), "3.13").unwrap_err().to_string();
        assert!(
            error.ends_with("holds CPython 3.14 headers, but the target is Python 3.13"),
            "{error}"
        );
    }

    #[test]
    fn unknown_names_and_other_lines_stay() {
        let template = "#ifndef Py_PYCONFIG_H\n#define HAVE_SOMETHING_NEW 1\n#endif\n";
        assert_eq!(rewrite_pyconfig(template, &vars()), template);
    }
}
