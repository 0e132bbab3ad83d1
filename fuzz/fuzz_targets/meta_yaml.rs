//! `recipe::load` of any text written as a Pyodide `meta.yaml`: the YAML reader, its
//! translation to a recipe with spans mapped back into the YAML, and the rendered error.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// A `meta.yaml` path in an empty directory that lives for the whole run.
fn meta_yaml_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| tempfile::tempdir().unwrap().keep().join("meta.yaml"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    std::fs::write(meta_yaml_file(), text).unwrap();
    if let Err(error) = emwheel::recipe::load(meta_yaml_file()) {
        let rendered = format!("{:?}", miette::Report::new(error));
        assert!(!rendered.is_empty());
    }
});
