//! Recipe directories for the graph's unit tests: small valid recipes written to a temp dir.

use std::path::Path;

use super::RecipeSet;
pub use crate::ui::render_plain as render;

/// A temp recipe directory.
pub struct RecipeDir(tempfile::TempDir);

impl RecipeDir {
    /// A directory with one recipe per `(name, extra TOML)`.
    pub fn new(recipes: &[(&str, &str)]) -> Self {
        let dir = RecipeDir(tempfile::tempdir().unwrap());
        for (name, extra) in recipes {
            dir.add(&name.to_lowercase(), name, extra);
        }
        dir
    }

    /// Writes `<subdir>/recipe.toml` for `name`, a PyPI-pinned recipe plus `extra`.
    pub fn add(&self, subdir: &str, name: &str, extra: &str) {
        let text = format!(
            "[package]\nname = \"{name}\"\nversion = \"1.0\"\n\n[source]\npypi = \"{name}==1.0\"\nsha256 = \"{}\"\n{extra}",
            "0".repeat(64)
        );
        self.write(subdir, &text);
    }

    /// Writes `text` as `<subdir>/recipe.toml`.
    pub fn write(&self, subdir: &str, text: &str) {
        fs_err::create_dir_all(self.path().join(subdir)).unwrap();
        fs_err::write(self.path().join(subdir).join("recipe.toml"), text).unwrap();
    }

    /// Adds `tag = [tag]` to the `[package]` table of `<subdir>/recipe.toml`.
    pub fn tag(&self, subdir: &str, tag: &str) {
        let file = self.path().join(subdir).join("recipe.toml");
        let text = fs_err::read_to_string(&file).unwrap().replacen(
            "version = \"1.0\"\n",
            &format!("version = \"1.0\"\ntag = [\"{tag}\"]\n"),
            1,
        );
        fs_err::write(file, text).unwrap();
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The recipe set (its recipes are read as they are needed).
    pub fn load(&self) -> RecipeSet {
        RecipeSet::open(self.path()).unwrap()
    }
}
