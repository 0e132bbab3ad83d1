//! The recipe set: the `<dir>/<name>/` recipe directories of a recipe directory, each read
//! only when a selection or a dependency needs it, found by normalized package name.
//!
//! A recipe tree such as Pyodide's holds hundreds of recipes, and one that does not load
//! must not stop a build that does not need it. So a name is looked up first in the
//! directories named after it (in any spelling: `foo_bar/` is looked in for `foo-bar`), and
//! every recipe is read only when none of them holds it, or when the selection is `*` or a
//! tag. A recipe that fails to load is kept as a [`BrokenRecipe`]: a package that needs it
//! fails, and the rest of the set is unaffected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::{listing, GraphError};
use crate::recipe::{self, DependencyKind, Recipe, RecipeError};
use crate::wheel::normalize;

/// The recipes of a recipe directory, loaded on demand.
#[derive(Debug)]
pub struct RecipeSet {
    dir: PathBuf,
    /// Every recipe directory, sorted by path.
    entries: Vec<Entry>,
    /// Indices into `entries` by normalized directory name.
    by_dir: BTreeMap<String, Vec<usize>>,
    /// Indices of the recipes that load by normalized package name (several for a name two
    /// recipes claim), made by reading every recipe the first time it is needed.
    by_name: OnceLock<BTreeMap<String, Vec<usize>>>,
}

/// One recipe directory, read at most once (the set is shared by the build threads).
#[derive(Debug)]
struct Entry {
    dir: PathBuf,
    loaded: OnceLock<Result<Recipe, BrokenRecipe>>,
}

/// A recipe directory whose recipe does not load.
#[derive(Debug, Clone)]
pub struct BrokenRecipe {
    dir: PathBuf,
    error: Arc<RecipeError>,
}

impl BrokenRecipe {
    /// The directory's name, which stands for the package: the recipe has no valid name.
    pub fn name(&self) -> &str {
        self.dir
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
    }

    /// The recipe directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why the recipe does not load, located in its file.
    pub fn error(&self) -> &Arc<RecipeError> {
        &self.error
    }
}

/// What a package name leads to.
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    /// A recipe that loads.
    Recipe(&'a Recipe),
    /// The recipe in the directory named after the package, which does not load.
    Broken(&'a BrokenRecipe),
}

impl<'a> Found<'a> {
    /// The package name, as its recipe (or, broken, its directory) spells it.
    pub fn name(&self) -> &'a str {
        match self {
            Found::Recipe(recipe) => recipe.name(),
            Found::Broken(broken) => broken.name(),
        }
    }

    /// The recipes named in `requirements.<kind>`: none for a broken recipe, whose
    /// requirements are unknown.
    pub fn dependencies(&self, kind: DependencyKind) -> &'a [String] {
        match self {
            Found::Recipe(recipe) => recipe.dependencies(kind),
            Found::Broken(_) => &[],
        }
    }
}

impl RecipeSet {
    /// Lists the recipe directories of `dir` (those holding `recipe.toml` or `meta.yaml`);
    /// reads none of them.
    pub fn open(dir: &Path) -> Result<Self, GraphError> {
        if !dir.is_dir() {
            return Err(GraphError::NoRecipeDir {
                dir: dir.to_path_buf(),
            });
        }
        let mut paths: Vec<PathBuf> = fs_err::read_dir(dir)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()?;
        paths.retain(|path| recipe::is_recipe_dir(path));
        paths.sort();
        let mut by_dir: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, path) in paths.iter().enumerate() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            by_dir.entry(normalize(&name)).or_default().push(index);
        }
        let entries = paths
            .into_iter()
            .map(|dir| Entry {
                dir,
                loaded: OnceLock::new(),
            })
            .collect();
        Ok(RecipeSet {
            dir: dir.to_path_buf(),
            entries,
            by_dir,
            by_name: OnceLock::new(),
        })
    }

    /// The recipe directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The recipe of a package, by any spelling of its name (PEP 503 normalized): the one in
    /// a directory named after it, else the one among all recipes that has the name. A
    /// broken recipe is found only by its directory's name. Two recipes with the name are an
    /// error; `None` means no recipe has it.
    pub fn find(&self, name: &str) -> Result<Option<Found<'_>>, GraphError> {
        let key = normalize(name);
        let mut matches = Vec::new();
        let mut broken = None;
        for &index in self.by_dir.get(&key).into_iter().flatten() {
            match self.load(index) {
                Ok(recipe) if normalize(recipe.name()) == key => matches.push(index),
                Ok(_) => {}
                Err(error) => broken = broken.or(Some(error)),
            }
        }
        if matches.is_empty() && broken.is_none() {
            matches = self.by_name().get(&key).cloned().unwrap_or_default();
        }
        match matches[..] {
            [] => Ok(broken.map(Found::Broken)),
            [index] => Ok(Some(Found::Recipe(self.recipe(index)))),
            [first, second, ..] => Err(self.duplicate(first, second)),
        }
    }

    /// The recipe of a package that loads, by any spelling of its name (see [`Self::find`]).
    pub fn get(&self, name: &str) -> Option<&Recipe> {
        match self.find(name) {
            Ok(Some(Found::Recipe(recipe))) => Some(recipe),
            _ => None,
        }
    }

    /// Every recipe that loads, by normalized name; this reads every recipe.
    pub fn iter(&self) -> impl Iterator<Item = &Recipe> {
        let indices = self.by_name().values().flatten();
        indices.map(|&index| self.recipe(index))
    }

    /// The recipes read so far that do not load, in directory order.
    pub fn broken(&self) -> impl Iterator<Item = &BrokenRecipe> {
        let loaded = self.entries.iter().filter_map(|entry| entry.loaded.get());
        loaded.filter_map(|loaded| loaded.as_ref().err())
    }

    /// An error for the first of `keys` (normalized names) that two recipes claim, as far
    /// as the recipes read so far tell: once every recipe was read, that is all of them.
    pub(super) fn check_unique<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k String>,
    ) -> Result<(), GraphError> {
        let Some(by_name) = self.by_name.get() else {
            return Ok(());
        };
        for key in keys {
            if let Some([first, second, ..]) = by_name.get(key).map(Vec::as_slice) {
                return Err(self.duplicate(*first, *second));
            }
        }
        Ok(())
    }

    /// A help line for a name no recipe has: the nearest name, then what exists, then the
    /// recipes that do not load (one of them may be meant).
    pub(super) fn help_for_unknown(&self, name: &str) -> String {
        let names: Vec<&str> = self.iter().map(Recipe::name).collect();
        let list = format!(
            "recipes in `{}`: {}{}",
            self.dir.display(),
            listing(names.clone()),
            self.broken_note()
        );
        match recipe::nearest(name, &names) {
            Some(near) => format!("did you mean `{near}`? {list}"),
            None => list,
        }
    }

    /// `; recipes that do not load: …` when some recipe read so far does not, else nothing.
    pub(super) fn broken_note(&self) -> String {
        let broken: Vec<&str> = self.broken().map(BrokenRecipe::name).collect();
        match broken.is_empty() {
            true => String::new(),
            false => format!("; recipes that do not load: {}", listing(broken)),
        }
    }

    /// The recipe of entry `index`, or why it does not load; read on first use.
    fn load(&self, index: usize) -> Result<&Recipe, &BrokenRecipe> {
        let entry = &self.entries[index];
        let loaded = entry.loaded.get_or_init(|| {
            recipe::load(&entry.dir).map_err(|error| BrokenRecipe {
                dir: entry.dir.clone(),
                error: Arc::new(error),
            })
        });
        loaded.as_ref()
    }

    /// The recipe of entry `index`, which loads.
    fn recipe(&self, index: usize) -> &Recipe {
        self.load(index).expect("indexed recipes load")
    }

    /// Every recipe that loads by normalized package name; reads them all the first time.
    fn by_name(&self) -> &BTreeMap<String, Vec<usize>> {
        self.by_name.get_or_init(|| {
            let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for index in 0..self.entries.len() {
                if let Ok(recipe) = self.load(index) {
                    by_name
                        .entry(normalize(recipe.name()))
                        .or_default()
                        .push(index);
                }
            }
            by_name
        })
    }

    fn duplicate(&self, first: usize, second: usize) -> GraphError {
        let (first, second) = (self.recipe(first), self.recipe(second));
        GraphError::Duplicate {
            name: second.name().to_string(),
            first: first.file().to_path_buf(),
            second: second.file().to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::testutil::RecipeDir;

    #[test]
    fn names_are_found_in_any_spelling() {
        let dir = RecipeDir::new(&[("MarkupSafe", ""), ("six", "")]);
        let set = dir.load();
        assert_eq!(set.get("markupsafe").unwrap().name(), "MarkupSafe");
        assert_eq!(set.get("MARKUPSAFE").unwrap().name(), "MarkupSafe");
        assert!(set.get("attrs").is_none());
        let help = set.help_for_unknown("sx");
        assert!(help.starts_with("did you mean `six`?"), "{help}");
        assert!(help.contains("`MarkupSafe`, `six`"), "{help}");
    }

    #[test]
    fn a_name_is_found_in_its_directory_without_reading_the_others() {
        let dir = RecipeDir::new(&[("six", "")]);
        dir.add("foo_bar", "Foo.Bar", "");
        dir.write("unrelated", "[package]\nname = ");
        let set = dir.load();
        assert_eq!(set.get("foo-bar").unwrap().name(), "Foo.Bar");
        assert_eq!(set.get("Six").unwrap().name(), "six");
        assert_eq!(set.broken().count(), 0, "`unrelated` was read");
    }

    #[test]
    fn a_recipe_in_a_directory_named_otherwise_is_found_by_reading_all() {
        let dir = RecipeDir::new(&[]);
        dir.add("python-foo", "foo", "");
        dir.write("unrelated", "[package]\nname = ");
        let set = dir.load();
        assert_eq!(set.get("FOO").unwrap().name(), "foo");
        assert!(set.find("bar").unwrap().is_none());
        let broken: Vec<&str> = set.broken().map(BrokenRecipe::name).collect();
        assert_eq!(broken, ["unrelated"]);
        let help = set.help_for_unknown("bar");
        assert!(
            help.ends_with("; recipes that do not load: `unrelated`"),
            "{help}"
        );
    }

    #[test]
    fn a_broken_recipe_is_found_by_its_directory_name() {
        let dir = RecipeDir::new(&[]);
        dir.write("foo_bar", "[package]\nname = ");
        let set = dir.load();
        match set.find("Foo-Bar").unwrap() {
            Some(Found::Broken(broken)) => {
                assert_eq!(broken.name(), "foo_bar");
                let location = broken.error().location();
                assert!(location.ends_with("foo_bar/recipe.toml:2:8"), "{location}");
            }
            other => panic!("expected the broken recipe, got {other:?}"),
        }
        assert!(set.get("foo-bar").is_none());
    }

    #[test]
    fn two_recipes_with_one_name_are_refused() {
        let dir = RecipeDir::new(&[("six", "")]);
        dir.add("six-again", "six", "");
        dir.add("two", "attrs", "");
        dir.add("zz-two", "attrs", "");
        let set = dir.load();
        let six = "six".to_string();
        set.check_unique([&six])
            .expect("nothing tells yet: `six/` holds `six`");
        // No directory is named `attrs`: every recipe is read, and both are found.
        let error = set.find("attrs").unwrap_err();
        let text = crate::graph::testutil::render(&error);
        assert!(text.contains("two recipes are named `attrs`"), "{text}");
        assert!(text.contains("two/recipe.toml") && text.contains("zz-two/recipe.toml"));
        let error = set.check_unique([&six]).unwrap_err();
        assert!(matches!(error, GraphError::Duplicate { .. }), "{error}");
    }
}
