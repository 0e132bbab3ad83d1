//! What the build needs to know of a package, from a recipe or from a Python project.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::project::ProjectSettings;
use super::source::SourceSpec;
use super::BuildError;
use crate::recipe::{substitute, BuildType, Recipe, SourceKind, WheelPath};
use crate::toolchain::wrapper::Exports;

/// One package to build.
#[derive(Debug, Clone)]
pub struct Package {
    /// Its name (the recipe's, or the project directory's).
    pub name: String,
    /// Its version (the recipe's; a project's comes from its own metadata).
    pub version: String,
    /// Where its source comes from.
    pub source: SourceSpec,
    /// Patches applied in order (absolute paths).
    pub patches: Vec<PathBuf>,
    /// Extra files copied into the source tree, `(from, to)`.
    pub extras: Vec<(PathBuf, PathBuf)>,
    /// The directory inside the archive that holds the source.
    pub extract_dir: Option<String>,
    /// Bash run in the source tree before the backend.
    pub script: Option<String>,
    /// Bash run in the source tree after `script`, for the backend's environment only.
    pub cross_script: Option<String>,
    /// Bash run in the unpacked wheel.
    pub post: Option<String>,
    /// Extra compile flags.
    pub cflags: Vec<String>,
    /// Extra C++ compile flags.
    pub cxxflags: Vec<String>,
    /// Extra link flags.
    pub ldflags: Vec<String>,
    /// `key=value` settings passed to the backend as PEP 517 config settings.
    pub backend_flags: Vec<String>,
    /// Which symbols side modules export.
    pub exports: Exports,
    /// The package is pure Python even though its source has C files.
    pub pure: bool,
    /// A wheel, or a library installed into the target's library prefix.
    pub kind: BuildType,
    /// Library recipes this build links against (`requirements.host`).
    pub host_requirements: Vec<String>,
    /// Programs the build needs on PATH (`requirements.executable`).
    pub executables: Vec<String>,
    /// pip constraints for its build environment (`requirements.constraint`).
    pub constraints: Vec<String>,
    /// For a cross-build package (`build.cross-build-env`), the files of its wheel that
    /// builds needing it get (`build.cross-build-files`).
    pub cross_build_files: Option<Vec<WheelPath>>,
    /// Where sibling recipes live, to name the one to build for a missing host requirement.
    pub recipes_dir: Option<PathBuf>,
    /// Move test files out of the wheel into `<name>-tests.zip`.
    pub unvendor_tests: bool,
    /// Copy the shared libraries the wheel's side modules need into `<name>.libs/`.
    pub vendor_sharedlib: bool,
}

impl Package {
    /// The package a recipe describes.
    pub fn from_recipe(recipe: &Recipe) -> Self {
        let source = recipe.source();
        let sha256 = source.sha256.as_ref().map(|sha| sha.as_str().to_string());
        let spec = match &source.kind {
            SourceKind::Pypi { pin } => SourceSpec::Pypi {
                pin: pin.to_string(),
                sha256: sha256.unwrap_or_default(),
            },
            SourceKind::Url { url } => SourceSpec::Url {
                url: url.clone(),
                sha256: sha256.unwrap_or_default(),
            },
            SourceKind::Path { path } => SourceSpec::Path {
                path: path.clone(),
                sha256,
            },
            SourceKind::Debian { package } => SourceSpec::Debian {
                package: package.clone(),
                sha256: sha256.unwrap_or_default(),
            },
        };
        let build = recipe.build();
        Package {
            name: recipe.name().to_string(),
            version: recipe.version().to_string(),
            source: spec,
            patches: source.patches.clone(),
            extras: source
                .extras
                .iter()
                .map(|e| (e.from.clone(), e.to.clone()))
                .collect(),
            extract_dir: source.extract_dir.clone(),
            script: build.script.clone(),
            cross_script: build.cross_script.clone(),
            post: build.post.clone(),
            cflags: split_flags(&build.cflags),
            cxxflags: split_flags(&build.cxxflags),
            ldflags: split_flags(&build.ldflags),
            backend_flags: split_flags(&build.backend_flags),
            exports: exports(&build.exports),
            pure: build.pure,
            kind: build.kind,
            host_requirements: recipe.requirements().host.clone(),
            executables: recipe.requirements().executable.clone(),
            constraints: recipe.requirements().constraint.clone(),
            cross_build_files: build
                .cross_build_env
                .then(|| build.cross_build_files.clone()),
            recipes_dir: recipe.dir().parent().map(Path::to_path_buf),
            unvendor_tests: build.unvendor_tests,
            vendor_sharedlib: build.vendor_sharedlib,
        }
    }

    /// A Python project directory built as it is (`emwheel build .`) with its settings.
    pub fn from_project(dir: &Path, settings: &ProjectSettings) -> Self {
        let name = dir
            .canonicalize()
            .ok()
            .and_then(|dir| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "project".to_string());
        Package {
            name,
            version: String::new(),
            source: SourceSpec::Path {
                path: dir.to_path_buf(),
                sha256: None,
            },
            patches: Vec::new(),
            extras: Vec::new(),
            extract_dir: None,
            script: None,
            cross_script: None,
            post: None,
            cflags: split_flags(settings.cflags.as_deref().unwrap_or_default()),
            cxxflags: split_flags(settings.cxxflags.as_deref().unwrap_or_default()),
            ldflags: split_flags(settings.ldflags.as_deref().unwrap_or_default()),
            backend_flags: settings
                .config_settings
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect(),
            exports: settings
                .exports
                .as_ref()
                .map(exports)
                .unwrap_or(Exports::Pyinit),
            pure: settings.pure.unwrap_or(false),
            kind: BuildType::Package,
            host_requirements: Vec::new(),
            executables: Vec::new(),
            constraints: Vec::new(),
            cross_build_files: None,
            recipes_dir: None,
            unvendor_tests: false,
            vendor_sharedlib: false,
        }
    }

    /// The backend flags, then `extra` ones, as PEP 517 config settings: `key=value`, a bare
    /// `key` mapping to ""; a key given more than once maps to the list of its values, as
    /// meson-python's `setup-args` expects.
    ///
    /// `$(NAME)` and `${NAME}` in the backend flags name variables of `environment`, the
    /// backend's; a value given twice for one key is passed once (Pyodide's numpy recipe
    /// names `${MESON_CROSS_FILE}`, which emwheel passes to meson-python itself).
    pub fn config_settings(
        &self,
        extra: &[String],
        environment: &[(String, String)],
    ) -> Result<BTreeMap<String, serde_json::Value>, BuildError> {
        let lookup = |name: &str| {
            let found = environment.iter().find(|(key, _)| key == name);
            found.map(|(_, value)| value.clone())
        };
        let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for flag in self.backend_flags.iter().chain(extra) {
            let flag = substitute::expand_shell_style(flag, lookup).map_err(|unknown| {
                BuildError::UnknownVariable {
                    name: unknown.0,
                    key: "build.backend-flags".into(),
                }
            })?;
            let (key, value) = flag.split_once('=').unwrap_or((&flag, ""));
            let values = grouped.entry(key.to_string()).or_default();
            if !values.iter().any(|known| known == value) {
                values.push(value.to_string());
            }
        }
        Ok(grouped
            .into_iter()
            .map(|(key, mut values)| match values.len() {
                1 => (key, serde_json::Value::String(values.remove(0))),
                _ => (key, serde_json::Value::from(values)),
            })
            .collect())
    }
}

/// Splits a recipe's flag string the way a shell would.
fn split_flags(flags: &str) -> Vec<String> {
    shlex::split(flags).unwrap_or_else(|| flags.split_whitespace().map(str::to_string).collect())
}

fn exports(exports: &crate::recipe::Exports) -> Exports {
    match exports {
        crate::recipe::Exports::Pyinit => Exports::Pyinit,
        crate::recipe::Exports::Requested => Exports::Requested,
        crate::recipe::Exports::WholeArchive => Exports::WholeArchive,
        crate::recipe::Exports::Explicit(names) => Exports::Explicit(names.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_config_keys_become_lists() {
        let mut package = Package::from_project(Path::new("."), &ProjectSettings::default());
        package.backend_flags = split_flags("setup-args=-Dblas=none builddir=b bare");
        package
            .backend_flags
            .push("setup-args=--cross-file=${MESON_CROSS_FILE}".into());
        let extra = ["setup-args=--cross-file=/x/cross.ini".to_string()];
        let environment = [("MESON_CROSS_FILE".to_string(), "/x/cross.ini".to_string())];
        let settings = package.config_settings(&extra, &environment).unwrap();
        assert_eq!(
            serde_json::to_string(&settings).unwrap(),
            r#"{"bare":"","builddir":"b","setup-args":["-Dblas=none","--cross-file=/x/cross.ini"]}"#
        );
        package.backend_flags.push("x=${UNSET}".into());
        let error = package.config_settings(&extra, &environment).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown variable `$(UNSET)` in `build.backend-flags`"
        );
    }

    #[test]
    fn flags_split_like_a_shell() {
        assert_eq!(split_flags("-DX='a b' -O2"), ["-DX=a b", "-O2"]);
        assert!(split_flags("").is_empty());
    }
}
