//! `recipe::load` of any text written as a recipe file, and the rendering of its error
//! with the source snippet (miette's spans must stay inside the text).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A recipe path in an empty directory that lives for the whole run.
fn recipe_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| tempfile::tempdir().unwrap().keep().join("recipe.toml"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    std::fs::write(recipe_file(), text).unwrap();
    if let Err(error) = emwheel::recipe::load(recipe_file()) {
        let rendered = format!("{:?}", miette::Report::new(error));
        assert!(!rendered.is_empty());
    }
});
