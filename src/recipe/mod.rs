//! Loading and validating `recipes/<name>/recipe.toml`, the TOML twin of Pyodide's `meta.yaml`.

mod error;
mod spec;
mod validate;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::{nearest, InvalidRecipe, Problem, RecipeError};
pub use spec::{About, Build, BuildType, Exports, Package, Requirements, Test};
pub use validate::{Extra, Source, SourceKind};
pub use values::{InvalidValue, PackageName, PypiPin, Sha256};

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

/// Loads a recipe from its directory or from its `recipe.toml`, and validates it.
///
/// # Errors
///
/// [`RecipeError::Read`] when the file cannot be read, [`RecipeError::Invalid`] when it is
/// not valid TOML, has unknown keys or bad values, or fails a cross-field check.
pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
    let given = recipe_file(path);
    let read_error = |source| RecipeError::Read {
        path: given.clone(),
        source,
    };
    let text = std::fs::read_to_string(&given).map_err(read_error)?;
    let file = given.canonicalize().map_err(read_error)?;
    let dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let source_file = SourceFile {
        path: &given,
        text: &text,
    };
    let raw: RawRecipe = parse_toml(&given, &text)?;
    let checker = Checker {
        file: source_file,
        dir: &dir,
    };
    let source = checker.source(raw.source)?;
    let (requirements, requirement_spans) = raw.requirements.split();
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

/// Deserializes a TOML file's text into `T`, turning an error into one that points at the
/// file, line and column with a help line (the nearest key for an unknown one). Also used
/// for `[tool.emwheel]` in a project's `pyproject.toml`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, RecipeError> {
    let file = SourceFile { path, text };
    toml::from_str(text).map_err(|error| file.toml_error(&error))
}

/// The recipe file for `path`: `path/recipe.toml` for a directory, else `path` itself.
fn recipe_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(RECIPE_FILE)
    } else {
        path.to_path_buf()
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
        };
        file.error(spans.get(index).cloned(), problem)
    }
}
