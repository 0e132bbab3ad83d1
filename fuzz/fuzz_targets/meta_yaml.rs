//! `recipe::load` of any text written as a Pyodide `meta.yaml`: the YAML reader, its
//! translation to a recipe with spans mapped back into the YAML, and the rendered error.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "recipe_check.rs"]
mod recipe_check;

static FILE: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| recipe_check::load_and_render(data, &FILE, "meta.yaml"));
