//! Serde model of `recipe.toml`: one struct per table, keys as in Pyodide's `meta.yaml`.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::values::{ExtraPair, PackageName, PypiPin, Sha256, WheelPath};

/// The whole file as parsed, before cross-field checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipe {
    pub package: Package,
    pub source: Spanned<RawSource>,
    #[serde(default)]
    pub build: Build,
    #[serde(default)]
    pub requirements: RawRequirements,
    #[serde(default)]
    pub test: Test,
    #[serde(default)]
    pub about: About,
}

/// `[source]` as parsed; spans kept for the checks in `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawSource {
    pub url: Option<Spanned<String>>,
    pub pypi: Option<Spanned<PypiPin>>,
    pub path: Option<Spanned<String>>,
    pub debian: Option<Spanned<String>>,
    pub sha256: Option<Sha256>,
    #[serde(default)]
    pub patches: Vec<Spanned<String>>,
    #[serde(default)]
    pub extras: Vec<Spanned<ExtraPair>>,
    pub extract_dir: Option<String>,
}

/// `[package]`: what is built.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Package {
    /// Distribution name (`name`).
    pub name: PackageName,
    /// Version string (`version`).
    pub version: String,
    /// Importable top-level names (`top-level`).
    #[serde(default)]
    pub top_level: Vec<String>,
    /// Free-form tags such as `core` (`tag`).
    #[serde(default)]
    pub tag: Vec<String>,
}

/// `[build]`: how the package is built.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Build {
    /// What kind of artifact the recipe makes (`type`).
    #[serde(rename = "type")]
    pub kind: BuildType,
    /// Bash run in the source dir before the build backend (`script`).
    pub script: Option<String>,
    /// Bash run with the cross-build environment (`cross-script`).
    pub cross_script: Option<String>,
    /// Bash run in the unpacked wheel (`post`).
    pub post: Option<String>,
    /// Extra C flags, split shell-style by the caller (`cflags`).
    pub cflags: String,
    /// Extra C++ flags (`cxxflags`).
    pub cxxflags: String,
    /// Extra linker flags (`ldflags`).
    pub ldflags: String,
    /// Flags passed to the build backend (`backend-flags`).
    pub backend_flags: String,
    /// Which symbols the side modules export (`exports`).
    pub exports: Exports,
    /// Move tests out of the main wheel (`unvendor-tests`).
    pub unvendor_tests: bool,
    /// Copy needed shared libraries into the wheel (`vendor-sharedlib`).
    pub vendor_sharedlib: bool,
    /// emwheel extension: build a pure-Python wheel despite C sources (`pure`).
    pub pure: bool,
    /// Packages that need this one at build time get it in their build environment, the
    /// host's build of the same version overlaid with [`Build::cross_build_files`]
    /// (`cross-build-env`), as Pyodide does for numpy.
    pub cross_build_env: bool,
    /// Files of the built wheel that differ for the target (`numpyconfig.h`, static
    /// libraries): kept after the build and laid over the host's install of the package in
    /// the build environments of packages that need it (`cross-build-files`).
    pub cross_build_files: Vec<WheelPath>,
}

impl Default for Build {
    fn default() -> Self {
        Self {
            kind: BuildType::default(),
            script: None,
            cross_script: None,
            post: None,
            cflags: String::new(),
            cxxflags: String::new(),
            ldflags: String::new(),
            backend_flags: String::new(),
            exports: Exports::default(),
            unvendor_tests: true,
            vendor_sharedlib: false,
            pure: false,
            cross_build_env: false,
            cross_build_files: Vec::new(),
        }
    }
}

/// `[build] type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildType {
    /// A Python package built into a wheel (`package`).
    #[default]
    Package,
    /// A static library for other recipes to link (`static_library`).
    StaticLibrary,
    /// A shared library shipped for other packages (`shared_library`).
    SharedLibrary,
    /// A CPython stdlib extension module (`cpython_module`).
    CpythonModule,
}

impl BuildType {
    /// Whether the recipe builds a library rather than a wheel.
    pub fn is_library(self) -> bool {
        matches!(self, BuildType::StaticLibrary | BuildType::SharedLibrary)
    }
}

/// `[build] exports`: which symbols the linked side modules export.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Exports {
    /// Only `PyInit_*` functions (`"pyinit"`).
    #[default]
    Pyinit,
    /// Symbols marked for export in the source (`"requested"`).
    Requested,
    /// Every symbol of the static archives (`"whole_archive"`).
    WholeArchive,
    /// Exactly these symbol names (a list).
    Explicit(Vec<String>),
}

/// The string forms `exports` accepts.
const EXPORT_MODES: &[&str] = &["pyinit", "requested", "whole_archive"];

impl<'de> Deserialize<'de> for Exports {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExportsVisitor)
    }
}

/// Accepts a mode string or a list of symbol names.
struct ExportsVisitor;

impl<'de> Visitor<'de> for ExportsVisitor {
    type Value = Exports;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`pyinit`, `requested`, `whole_archive` or a list of symbol names")
    }

    fn visit_str<E: de::Error>(self, mode: &str) -> Result<Exports, E> {
        match mode {
            "pyinit" => Ok(Exports::Pyinit),
            "requested" => Ok(Exports::Requested),
            "whole_archive" => Ok(Exports::WholeArchive),
            _ => Err(E::unknown_variant(mode, EXPORT_MODES)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Exports, A::Error> {
        let mut symbols = Vec::new();
        while let Some(symbol) = seq.next_element()? {
            symbols.push(symbol);
        }
        Ok(Exports::Explicit(symbols))
    }
}

/// `[requirements]` as parsed; spans of the entries that name recipes are kept so that the
/// dependency graph can point at a dependency no recipe provides.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub(super) struct RawRequirements {
    pub host: Vec<Spanned<String>>,
    pub run: Vec<Spanned<String>>,
    pub executable: Vec<String>,
    pub constraint: Vec<String>,
}

impl RawRequirements {
    /// The plain lists, and the spans of the `host` and `run` entries.
    pub(super) fn split(self) -> (Requirements, RequirementSpans) {
        let (host, host_spans) = unzip_spanned(self.host);
        let (run, run_spans) = unzip_spanned(self.run);
        let requirements = Requirements {
            host,
            run,
            executable: self.executable,
            constraint: self.constraint,
        };
        let spans = RequirementSpans {
            host: host_spans,
            run: run_spans,
        };
        (requirements, spans)
    }
}

fn unzip_spanned(entries: Vec<Spanned<String>>) -> (Vec<String>, Vec<Range<usize>>) {
    entries
        .into_iter()
        .map(|entry| {
            let span = entry.span();
            (entry.into_inner(), span)
        })
        .unzip()
}

/// Where each `requirements.host` and `requirements.run` entry is in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct RequirementSpans {
    pub host: Vec<Range<usize>>,
    pub run: Vec<Range<usize>>,
}

/// `[requirements]`: other recipes and tools the build needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Requirements {
    /// Recipes needed at build time, e.g. libraries to link (`host`).
    pub host: Vec<String>,
    /// Packages needed at run time (`run`).
    pub run: Vec<String>,
    /// Programs needed on the build machine (`executable`).
    pub executable: Vec<String>,
    /// Pip constraints applied to the build environment (`constraint`).
    pub constraint: Vec<String>,
}

/// `[test]`: smoke test run in Pyodide.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Test {
    /// Modules that must import (`imports`).
    pub imports: Vec<String>,
    /// emwheel extension: Python run after the imports (`script`).
    pub script: Option<String>,
}

/// `[about]`: descriptive metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct About {
    /// Project home page (`home`).
    pub home: Option<String>,
    /// PyPI project page (`PyPI`).
    #[serde(rename = "PyPI")]
    pub pypi: Option<String>,
    /// One-line summary (`summary`).
    pub summary: Option<String>,
    /// License expression (`license`).
    pub license: Option<String>,
}
