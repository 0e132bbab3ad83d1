//! What the recipe and meta.yaml targets check: `recipe::load` of any UTF-8 text written as
//! a recipe file never panics, and its error renders with the source snippet (miette's spans
//! must stay inside the text, mapped back into the YAML for a `meta.yaml`).

use std::path::PathBuf;

/// Writes `data` as `file_name` in a scratch directory kept for the whole run (`file` caches
/// the path) and loads it.
pub fn load_and_render(data: &[u8], file: &'static std::sync::OnceLock<PathBuf>, file_name: &str) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = file.get_or_init(|| tempfile::tempdir().unwrap().keep().join(file_name));
    std::fs::write(path, text).unwrap();
    if let Err(error) = emwheel::recipe::load(path) {
        let rendered = format!("{:?}", miette::Report::new(error));
        assert!(!rendered.is_empty());
    }
}
