//! Loading and validating `recipes/<name>/recipe.toml`, the TOML twin of Pyodide's `meta.yaml`,
//! and Pyodide's `meta.yaml` itself.

mod document;
mod error;
mod meta_yaml;
pub mod skeleton;
mod spec;
pub mod substitute;
mod validate;
mod values;

#[cfg(test)]
mod meta_yaml_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{nearest, InvalidRecipe, Problem, RecipeError};
pub use meta_yaml::META_FILE;
pub use spec::{About, Build, BuildType, Exports, Package, Requirements, Test};
pub use validate::{Extra, Source, SourceKind};
pub use values::{InvalidValue, PackageName, PypiPin, Sha256, WheelPath};

use error::SourceFile;
use spec::{RawRecipe, RequirementSpans};
use validate::Checker;

/// The file name looked for inside a recipe directory.
pub const RECIPE_FILE: &str = "recipe.toml";

/// A parsed and validated recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    dir: PathBuf,
    file: PathBuf,
    package: Package,
    source: Source,
    build: Build,
    requirements: Requirements,
    test: Test,
    about: About,
    text: String,
    requirement_spans: RequirementSpans,
}

/// The `[requirements]` lists that name other recipes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyKind {
    /// `host`: built before this recipe, which links or imports it while building.
    Host,
    /// `run`: needed when this recipe's package runs.
    Run,
}

impl fmt::Display for DependencyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DependencyKind::Host => "host",
            DependencyKind::Run => "run",
        })
    }
}

/// Loads a recipe from its directory, its `recipe.toml` or its `meta.yaml`, and validates it.
///
/// A `meta.yaml` (Pyodide's format) gives the same [`Recipe`] as the `recipe.toml` that
/// [`convert`] writes from it, with errors located in the YAML.
///
/// # Errors
///
/// [`RecipeError::Read`] when the file cannot be read, [`RecipeError::Invalid`] when it is
/// not valid TOML or YAML, has unknown keys or bad values, or fails a cross-field check.
pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
    let given = recipe_file(path)?;
    let read_error = |source| RecipeError::Read {
        path: given.clone(),
        source,
    };
    let text = std::fs::read_to_string(&given).map_err(read_error)?;
    let file = given.canonicalize().map_err(read_error)?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let shown = SourceFile {
        path: &given,
        text: &text,
        spans: None,
    };
    let translated = is_meta_yaml(&given)
        .then(|| meta_yaml::translate(&shown))
        .transpose()?;
    let (toml_text, spans) = match &translated {
        Some(translated) => (translated.toml.as_str(), Some(&translated.spans)),
        None => (text.as_str(), None),
    };
    let source_file = SourceFile { spans, ..shown };
    let raw: RawRecipe = toml::from_str(toml_text).map_err(|e| source_file.toml_error(&e))?;
    substitute::check(toml_text, &source_file)?;
    let checker = Checker {
        file: source_file,
        dir: &dir,
    };
    let source = checker.source(raw.source)?;
    let (requirements, mut requirement_spans) = raw.requirements.split();
    if let Some(map) = spans {
        let all = requirement_spans.host.iter_mut();
        for span in all.chain(requirement_spans.run.iter_mut()) {
            *span = map.original(span.clone());
        }
    }
    Ok(Recipe {
        dir,
        file,
        package: raw.package,
        source,
        build: raw.build,
        requirements,
        test: raw.test,
        about: raw.about,
        text,
        requirement_spans,
    })
}

/// The recipe at `path` (a `meta.yaml` or a directory holding one) and its `recipe.toml`
/// equivalent, with keys in a stable order and multi-line scripts as TOML multi-line strings.
/// Loading that text gives the same recipe.
///
/// # Errors
///
/// As [`load`], which checks the `meta.yaml` first; and a `recipe.toml` given is an error.
pub fn convert(path: &Path) -> Result<(Recipe, String), RecipeError> {
    // A directory's `meta.yaml`, even beside an earlier conversion's `recipe.toml`.
    let recipe = if path.is_dir() {
        load(&path.join(META_FILE))?
    } else {
        load(path)?
    };
    let text = recipe.text();
    let shown = SourceFile {
        path: recipe.file(),
        text,
        spans: None,
    };
    if !is_meta_yaml(recipe.file()) {
        let problem = Problem::new(
            "this recipe is already a `recipe.toml`",
            "here",
            format!("pass a `{META_FILE}` or a directory holding one"),
        );
        return Err(shown.error(Some(0..0), problem));
    }
    let toml = meta_yaml::translate(&shown)?.toml;
    Ok((recipe, toml))
}

/// Deserializes a TOML file's text into `T`, turning an error into one that points at the
/// file, line and column with a help line (the nearest key for an unknown one). Also used
/// for `[tool.emwheel]` in a project's `pyproject.toml`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, RecipeError> {
    let file = SourceFile {
        path,
        text,
        spans: None,
    };
    toml::from_str(text).map_err(|error| file.toml_error(&error))
}

/// Whether `dir` holds a recipe (`recipe.toml` or `meta.yaml`).
pub fn is_recipe_dir(dir: &Path) -> bool {
    dir.join(RECIPE_FILE).is_file() || dir.join(META_FILE).is_file()
}

/// Whether `path` is a recipe file or a directory holding one.
pub fn is_recipe(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.ends_with(".toml") || is_meta_yaml(path) || is_recipe_dir(path)
}

/// Whether a recipe file is in Pyodide's YAML format.
fn is_meta_yaml(file: &Path) -> bool {
    file.extension()
        .is_some_and(|ext| ext == "yaml" || ext == "yml")
}

/// The recipe file for `path`: the file itself, or the `recipe.toml` or `meta.yaml` of a
/// directory (having both is an error: which one counts would be a guess).
fn recipe_file(path: &Path) -> Result<PathBuf, RecipeError> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let (toml, yaml) = (path.join(RECIPE_FILE), path.join(META_FILE));
    match (toml.is_file(), yaml.is_file()) {
        (true, true) => Err(RecipeError::TwoFormats {
            dir: path.to_path_buf(),
        }),
        (false, true) => Ok(yaml),
        _ => Ok(toml),
    }
}

impl Recipe {
    /// The package name from `[package] name`.
    pub fn name(&self) -> &str {
        self.package.name.as_str()
    }

    /// The package version from `[package] version`.
    pub fn version(&self) -> &str {
        &self.package.version
    }

    /// Importable top-level names from `[package] top-level`.
    pub fn top_level(&self) -> &[String] {
        &self.package.top_level
    }

    /// The whole `[package]` table.
    pub fn package(&self) -> &Package {
        &self.package
    }

    /// The absolute recipe directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The absolute path of `recipe.toml`.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The validated `[source]` table.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The `[build]` table, with defaults filled in.
    pub fn build(&self) -> &Build {
        &self.build
    }

    /// The `[requirements]` table.
    pub fn requirements(&self) -> &Requirements {
        &self.requirements
    }

    /// The `[test]` table.
    pub fn test(&self) -> &Test {
        &self.test
    }

    /// The `[about]` table.
    pub fn about(&self) -> &About {
        &self.about
    }

    /// The file's text as it was loaded (its bytes, for content hashes).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The recipes `requirements.<kind>` names, in file order.
    pub fn dependencies(&self, kind: DependencyKind) -> &[String] {
        match kind {
            DependencyKind::Host => &self.requirements.host,
            DependencyKind::Run => &self.requirements.run,
        }
    }

    /// An error pointing at entry `index` of `requirements.<kind>` (file, line and column).
    pub fn dependency_error(
        &self,
        kind: DependencyKind,
        index: usize,
        problem: Problem,
    ) -> RecipeError {
        let spans = match kind {
            DependencyKind::Host => &self.requirement_spans.host,
            DependencyKind::Run => &self.requirement_spans.run,
        };
        let file = SourceFile {
            path: &self.file,
            text: &self.text,
            spans: None,
        };
        file.error(spans.get(index).cloned(), problem)
    }
}
