//! The recipe set: every `<dir>/<name>/recipe.toml`, by normalized package name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{listing, GraphError};
use crate::recipe::{self, Recipe};
use crate::wheel::normalize;

/// Every recipe in a recipe directory.
#[derive(Debug)]
pub struct RecipeSet {
    dir: PathBuf,
    recipes: BTreeMap<String, Recipe>,
}

impl RecipeSet {
    /// Loads every `<dir>/*/recipe.toml`. An invalid recipe is an error even when it is not
    /// selected: any recipe may be a dependency of a selected one.
    pub fn load(dir: &Path) -> Result<Self, GraphError> {
        if !dir.is_dir() {
            return Err(GraphError::NoRecipeDir {
                dir: dir.to_path_buf(),
            });
        }
        let mut paths: Vec<PathBuf> = fs_err::read_dir(dir)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()?;
        paths.sort();
        let mut set = RecipeSet {
            dir: dir.to_path_buf(),
            recipes: BTreeMap::new(),
        };
        for path in paths {
            if recipe::is_recipe_dir(&path) {
                set.insert(recipe::load(&path)?)?;
            }
        }
        Ok(set)
    }

    fn insert(&mut self, recipe: Recipe) -> Result<(), GraphError> {
        let key = normalize(recipe.name());
        if let Some(first) = self.recipes.get(&key) {
            return Err(GraphError::Duplicate {
                name: recipe.name().to_string(),
                first: first.file().to_path_buf(),
                second: recipe.file().to_path_buf(),
            });
        }
        self.recipes.insert(key, recipe);
        Ok(())
    }

    /// The recipe directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The recipe of a package, by any spelling of its name (PEP 503 normalized).
    pub fn get(&self, name: &str) -> Option<&Recipe> {
        self.recipes.get(&normalize(name))
    }

    /// Every recipe, by normalized name.
    pub fn iter(&self) -> impl Iterator<Item = &Recipe> {
        self.recipes.values()
    }

    /// A help line for a name no recipe has: the nearest name, then what exists.
    pub(super) fn help_for_unknown(&self, name: &str) -> String {
        let names: Vec<&str> = self.iter().map(Recipe::name).collect();
        let list = format!(
            "recipes in `{}`: {}",
            self.dir.display(),
            listing(names.clone())
        );
        match recipe::nearest(name, &names) {
            Some(near) => format!("did you mean `{near}`? {list}"),
            None => list,
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
    fn two_recipes_with_one_name_are_refused() {
        let dir = RecipeDir::new(&[("six", "")]);
        dir.add("six-again", "six", "");
        let error = RecipeSet::load(dir.path()).unwrap_err();
        assert!(matches!(error, GraphError::Duplicate { .. }), "{error}");
    }
}
