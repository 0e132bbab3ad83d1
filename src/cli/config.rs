//! `emwheel config get|list`: a target's build configuration, one value per line on stdout,
//! for scripts (as `pyodide config get`).

use clap::Subcommand;

use crate::crossenv::{self, Target};

#[derive(Debug, Subcommand)]
pub(super) enum ConfigCommand {
    /// Print one value of a target's configuration.
    Get {
        /// The key, e.g. `cflags`, `python_version`, `platform_tag`.
        key: String,
        /// The target (a Pyodide version); default: the default target.
        #[arg(long)]
        target: Option<String>,
    },
    /// Print every key and its value.
    List {
        /// The target (a Pyodide version); default: the default target.
        #[arg(long)]
        target: Option<String>,
    },
}

/// Reads one value off a target.
type Getter = fn(&Target) -> String;

fn join(flags: &[String]) -> String {
    flags.join(" ")
}

/// Every key, sorted; `pyodide config` names are aliases where they differ.
const KEYS: &[(&str, Getter)] = &[
    ("abi_version", |t| t.info.abi_version.clone()),
    ("cflags", |t| join(&t.info.cflags)),
    // What a C++ compile gets, as the wrapper and pywasmcross give it: `cflags`, then the
    // target's C++ flags (Pyodide's `SIDE_MODULE_CXXFLAGS`, which repeat the base flags).
    ("cxxflags", |t| {
        join(&[t.info.cflags.clone(), t.info.cxxflags.clone()].concat())
    }),
    ("emscripten_version", |t| t.info.emscripten_version.clone()),
    ("ext_suffix", |t| t.info.ext_suffix.clone()),
    ("headers_from", |t| {
        t.info.headers_from.display().to_string()
    }),
    ("host_python", |t| t.info.host_python.display().to_string()),
    ("host_python_version", |t| {
        t.cross_host().map_or_else(|| t.python_xy(), str::to_string)
    }),
    ("include_dir", |t| t.include_dir().display().to_string()),
    ("ldflags", |t| join(&t.info.ldflags)),
    ("platform", |t| t.info.platform.clone()),
    ("platform_tag", |t| t.info.platform_tag.clone()),
    ("pyodide_abi_version", |t| t.info.abi_version.clone()),
    ("pyodide_root", |t| t.dir.display().to_string()),
    ("pyodide_version", |t| t.info.name.clone()),
    ("python_include_dir", |t| {
        t.include_dir().display().to_string()
    }),
    ("python_tag", Target::python_tag),
    ("python_version", |t| t.info.python_version.clone()),
    ("runtime_dir", |t| t.runtime_dir().display().to_string()),
    // Empty for a target emwheel builds no Rust for (JavaScript exceptions, 0.27).
    ("rust_toolchain", |t| {
        crate::builder::rustflags(&t.info)
            .map(|_| crate::builder::RUST_TOOLCHAIN_NAME.to_string())
            .unwrap_or_default()
    }),
    ("rustflags", |t| {
        crate::builder::rustflags(&t.info)
            .unwrap_or_default()
            .to_string()
    }),
    ("sysconfig_dir", |t| t.sysconfig_dir().display().to_string()),
    ("target_dir", |t| t.dir.display().to_string()),
];

pub(super) fn run(command: ConfigCommand) -> miette::Result<()> {
    match command {
        ConfigCommand::Get { key, target } => {
            let getter = lookup(&key)?;
            super::print_data([getter(&crossenv::resolve(target.as_deref())?)])
        }
        ConfigCommand::List { target } => {
            let chosen = crossenv::resolve(target.as_deref())?;
            super::print_data(
                KEYS.iter()
                    .map(|(key, getter)| format!("{key}={}", getter(&chosen))),
            )
        }
    }
}

/// The getter of `key`, or an error listing the keys with the nearest first.
fn lookup(key: &str) -> miette::Result<Getter> {
    if let Some((_, getter)) = KEYS.iter().find(|(name, _)| *name == key) {
        return Ok(*getter);
    }
    let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    let nearest = names
        .iter()
        .map(|name| (strsim::jaro_winkler(key, name), *name))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.8)
        .map(|(_, name)| format!("did you mean `{name}`? "))
        .unwrap_or_default();
    Err(miette::miette!(
        help = format!("{nearest}valid keys: {}", names.join(", ")),
        "unknown config key `{key}`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_unique() {
        let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn unknown_key_suggests_the_nearest_and_lists_all() {
        let error = lookup("cflag").err().unwrap();
        let help = error.help().unwrap().to_string();
        assert_eq!(error.to_string(), "unknown config key `cflag`");
        assert!(help.starts_with("did you mean `cflags`?"), "{help}");
        assert!(help.contains("python_version, runtime_dir"), "{help}");
        let far = lookup("zzzz").err().unwrap().help().unwrap().to_string();
        assert!(far.starts_with("valid keys: abi_version"), "{far}");
    }

    #[test]
    fn known_keys_read_the_target() {
        let target = crate::crossenv::test_target();
        let get = |key: &str| lookup(key).ok().unwrap()(&target);
        assert_eq!(get("python_version"), "3.14.2");
        assert_eq!(get("python_tag"), "cp314");
        assert_eq!(get("platform_tag"), "pyemscripten_2026_0_wasm32");
        let include = "-I/t/cpython/installs/python-3.14.2/include/python3.14";
        let base = "-O2 -g0 -fPIC -fwasm-exceptions";
        assert_eq!(get("cflags"), format!("{base} {include} -Oz"));
        assert_eq!(get("cxxflags"), format!("{base} {include} -Oz {base} -Oz"));
        assert_eq!(
            get("ldflags"),
            "-O2 -g0 -sWASM_BIGINT -fwasm-exceptions -sSIDE_MODULE=1 -Oz"
        );
        assert_eq!(get("host_python_version"), "3.13");
        assert_eq!(get("rust_toolchain"), "emwheel");
        assert!(get("rustflags").contains("-Z emscripten-wasm-eh"));
        assert_eq!(
            get("include_dir"),
            "/t/cpython/installs/python-3.14.2/include/python3.14"
        );
    }
}
