//! `recipe::load` of any text written as a `recipe.toml`, and the rendering of its error.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "recipe_check.rs"]
mod recipe_check;

static FILE: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| recipe_check::load_and_render(data, &FILE, "recipe.toml"));
