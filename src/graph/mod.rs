//! Building many recipes at once: the recipe set, the selection, the dependency graph
//! between recipes, parallel scheduling, and the content-hash cache that skips a package
//! whose inputs did not change.
//!
//! The result is a [`Report`] listing each package's wheel and status; a later step
//! (installing into a lockfile or an index) starts from it.

mod cache;
mod plan;
mod recipes;
mod run;
mod schedule;
mod select;
mod shard;

#[cfg(test)]
mod testutil;

use std::path::{Path, PathBuf};

pub use cache::{CacheKey, SharedInputs};
pub use plan::{Node, Plan};
pub use recipes::{BrokenRecipe, Found, RecipeSet};
pub use run::{build_all, Options, PackageReport, Report, Status};
pub use schedule::Outcome;
pub use select::{parse_selection, select, Selector};
pub use shard::{shard_nodes, BadShard, Shard};

use crate::recipe::RecipeError;

/// The directory inside the output directory where emwheel keeps its cache and logs.
pub const STATE_DIR: &str = ".emwheel";

/// Where build logs are kept: `<out>/.emwheel/logs/<name>.log`.
pub fn logs_dir(out_dir: &Path) -> PathBuf {
    out_dir.join(STATE_DIR).join("logs")
}

/// Errors reading the recipe set, selecting from it or ordering it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GraphError {
    /// The recipe directory does not exist.
    #[error("recipe directory `{}` does not exist", dir.display())]
    #[diagnostic(help(
        "pass `--recipe-dir DIR`, a directory with one `<name>/recipe.toml` per recipe"
    ))]
    NoRecipeDir {
        /// The directory given.
        dir: PathBuf,
    },
    /// Two recipes have the same package name.
    #[error("two recipes are named `{name}`: `{}` and `{}`", first.display(), second.display())]
    #[diagnostic(help("rename one (`[package] name`) or remove it"))]
    Duplicate {
        /// The shared name.
        name: String,
        /// The first recipe file.
        first: PathBuf,
        /// The second recipe file.
        second: PathBuf,
    },
    /// A selection word names no recipe.
    #[error("no recipe `{name}` in `{}`", dir.display())]
    #[diagnostic(help("{help}"))]
    UnknownName {
        /// The name given.
        name: String,
        /// The recipe directory.
        dir: PathBuf,
        /// The nearest name and what exists.
        help: String,
    },
    /// A `tag:` word matches no recipe.
    #[error("no recipe has the tag `{tag}`")]
    #[diagnostic(help("{help}"))]
    UnknownTag {
        /// The tag given.
        tag: String,
        /// The tags in use.
        help: String,
    },
    /// A selection word that is not a name, `*`, `tag:<tag>` or `!<name>`.
    #[error("`{word}` is not a selection")]
    #[diagnostic(help("select with recipe names, `*`, `tag:<tag>`, and `!<name>` to exclude"))]
    BadSelector {
        /// The word.
        word: String,
    },
    /// The selection matches nothing.
    #[error("the selection matches no recipe")]
    #[diagnostic(help("{help}"))]
    EmptySelection {
        /// What exists.
        help: String,
    },
    /// A recipe is invalid, or a dependency in it is unknown or closes a cycle (located in
    /// the recipe file).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Recipe(#[from] RecipeError),
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// `names` as a backticked list, cut after `MAX_LISTED` with a count of the rest.
fn listing<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    const MAX_LISTED: usize = 30;
    let names: Vec<&str> = names.into_iter().collect();
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_LISTED)
        .map(|name| format!("`{name}`"))
        .collect();
    if names.len() > MAX_LISTED {
        shown.push(format!("… ({} more)", names.len() - MAX_LISTED));
    }
    if shown.is_empty() {
        return "none".to_string();
    }
    shown.join(", ")
}
