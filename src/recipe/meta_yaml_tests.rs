//! Tests for reading Pyodide's `meta.yaml`: the same recipe as its `recipe.toml`, errors
//! located in the YAML.

use pretty_assertions::assert_eq;

use super::tests::{assert_error_in, line_col, load_invalid_in, recipe_dir_with};
use super::*;
use crate::ui::render_plain as render;

/// A Pyodide recipe using most keys, in Pyodide's own spelling (`extract_dir`, `_disabled`…).
const GALPY: &str = r#"package:
  name: galpy
  version: 1.10
  top-level:
    - galpy
  pinned: true
source:
  url: https://files.pythonhosted.org/packages/source/g/galpy/galpy-1.10.tar.gz
  sha256: 5180a25743e6c8e5fbaffc1ff89f22940276b6341b2d3a9c4ca5e348eb071e5e
  patches:
    - patches/fix.patch
  extras:
    - [extra/file.c, src/file.c]
  extract_dir: galpy-1.10
build:
  script: |
    export LIBGSL_INCLUDE_PATH=$(pkg-config --cflags-only-I gsl)
    echo "done \
      here"
  cflags: |
    $(LIBGSL_INCLUDE_PATH) -I$(WASM_LIBRARY_DIR)/include
  ldflags: -L$(WASM_LIBRARY_DIR)/lib
  exports: requested
  vendor-sharedlib: false
requirements:
  run:
    - numpy
    - scipy
  host:
    - libgsl
test:
  imports:
    - galpy
    - galpy.orbit
about:
  home: http://github.com/jobovy/galpy
  PyPI: https://pypi.org/project/galpy
  summary: Galactic Dynamics in python
  license: BSD-3-Clause
extra:
  recipe-maintainers:
    - jobovy
"#;

/// The parts of a recipe that do not depend on the file it was read from.
fn contents(recipe: &Recipe) -> impl PartialEq + std::fmt::Debug + '_ {
    (
        recipe.package(),
        recipe.source(),
        recipe.build(),
        recipe.requirements(),
        recipe.test(),
        recipe.about(),
    )
}

#[test]
fn meta_yaml_loads_and_converts_to_an_equal_recipe() {
    let tmp = recipe_dir_with(META_FILE, GALPY);
    let from_yaml = load(tmp.path()).unwrap_or_else(|e| panic!("{}", render(&e)));
    assert_eq!(from_yaml.version(), "1.10", "numbers keep their spelling");
    assert_eq!(
        from_yaml.source().extract_dir.as_deref(),
        Some("galpy-1.10")
    );
    assert!(from_yaml
        .build()
        .script
        .as_deref()
        .unwrap()
        .contains("\\\n"));
    assert_eq!(from_yaml.text(), GALPY);

    let (_, toml_text) = convert(tmp.path()).unwrap();
    std::fs::remove_file(tmp.path().join(META_FILE)).unwrap();
    std::fs::write(tmp.path().join(RECIPE_FILE), &toml_text).unwrap();
    let from_toml = load(tmp.path()).unwrap_or_else(|e| panic!("{}\n{toml_text}", render(&e)));
    assert_eq!(contents(&from_toml), contents(&from_yaml));
    assert!(
        toml_text.starts_with("[package]\nname = \"galpy\"\n"),
        "{toml_text}"
    );
    assert!(
        toml_text.contains("script = '''\nexport LIBGSL"),
        "{toml_text}"
    );
}

#[test]
fn dependency_errors_point_into_the_yaml() {
    let tmp = recipe_dir_with(META_FILE, GALPY);
    let recipe = load(tmp.path()).unwrap();
    let problem = Problem::new("no recipe provides `scipy`", "here", "add it");
    let RecipeError::Invalid(error) = recipe.dependency_error(DependencyKind::Run, 1, problem)
    else {
        panic!("a located error");
    };
    assert_eq!(line_col(&error), (28, 7));
}

/// Replaces `from` in the galpy recipe, which must occur once.
fn galpy_with(from: &str, to: &str) -> String {
    assert_eq!(GALPY.matches(from).count(), 1, "{from}");
    GALPY.replace(from, to)
}

fn invalid(text: &str) -> Box<InvalidRecipe> {
    load_invalid_in(recipe_dir_with(META_FILE, text))
}

#[test]
fn unknown_key_names_it_and_the_nearest_valid_one() {
    let error = invalid(&galpy_with("  sha256:", "  sha265:"));
    assert_error_in(
        META_FILE,
        &error,
        "unknown key `source.sha265`",
        (9, 3),
        "did you mean `sha256`?",
    );
    let error = invalid(&galpy_with("  extract_dir:", "  extract-dir:"));
    assert_error_in(
        META_FILE,
        &error,
        "unknown key `source.extract-dir`",
        (14, 3),
        "did you mean `extract_dir`?",
    );
}

#[test]
fn unsupported_key_is_an_error_naming_it() {
    let error = invalid(&galpy_with(
        "  exports:",
        "  _cross-build-env-skip-install: true\n  exports:",
    ));
    assert_error_in(
        META_FILE,
        &error,
        "`build._cross-build-env-skip-install` is not supported by emwheel",
        (23, 3),
        "remove the key",
    );
    let error = invalid(&galpy_with("  pinned: true", "  _disabled: true"));
    assert_eq!(
        error.message,
        "`package._disabled` is not supported by emwheel"
    );
}

#[test]
fn cross_build_files_load_and_a_path_out_of_the_wheel_is_refused_at_its_line() {
    let files =
        "  cross-build-env: true\n  cross-build-files:\n    - galpy/include/config.h\n  exports:";
    let tmp = recipe_dir_with(META_FILE, &galpy_with("  exports:", files));
    let build = load(tmp.path()).unwrap().build().clone();
    assert!(build.cross_build_env);
    let paths: Vec<&str> = build.cross_build_files.iter().map(|p| p.as_str()).collect();
    assert_eq!(paths, ["galpy/include/config.h"]);
    let escaping = files.replace("galpy/include", "../include");
    let error = invalid(&galpy_with("  exports:", &escaping));
    assert_error_in(
        META_FILE,
        &error,
        "`../include/config.h` is not a relative path inside the wheel",
        (25, 5),
        "name a file as it lies in the built wheel",
    );
}

#[test]
fn bad_values_point_at_the_yaml_value() {
    let error = invalid(&galpy_with("5180a257", "5180A257"));
    assert_eq!(line_col(&error), (9, 11));
    assert!(
        error.message.contains("is not a sha256 digest"),
        "{}",
        error.message
    );
    let error = invalid(&galpy_with("  exports: requested", "  exports: requestd"));
    assert_error_in(
        META_FILE,
        &error,
        "unknown value `requestd`",
        (23, 12),
        "`requested`",
    );
    let error = invalid(&galpy_with(
        "    - patches/fix.patch",
        "    - patches/nope.patch",
    ));
    assert_error_in(
        META_FILE,
        &error,
        "patch `patches/nope.patch` does not exist",
        (11, 7),
        "",
    );
    let error = invalid(&galpy_with(
        "  top-level:\n    - galpy",
        "  top-level: galpy",
    ));
    assert_eq!(line_col(&error), (4, 14));
}

#[test]
fn wheel_sources_take_no_patches() {
    let error = invalid(&galpy_with(
        "galpy-1.10.tar.gz",
        "galpy-1.10-py3-none-any.whl",
    ));
    assert_error_in(
        META_FILE,
        &error,
        "a wheel source cannot be patched",
        (11, 7),
        "drop `patches`",
    );
}

#[test]
fn unknown_variable_in_flags_names_it_and_the_line() {
    let error = invalid(&galpy_with("-L$(WASM_LIBRARY_DIR)", "-L$(NUMPY_LIBS)"));
    assert_error_in(
        META_FILE,
        &error,
        "unknown variable `$(NUMPY_LIBS)` in `build.ldflags`",
        (22, 12),
        "did you mean `$(NUMPY_LIB)`?",
    );
}

#[test]
fn yaml_syntax_errors_are_located() {
    let error = invalid("package:\n  name: x\n  version: [1\nsource: {}\n");
    assert!(
        error.message.starts_with("invalid YAML"),
        "{}",
        error.message
    );
    assert_eq!(line_col(&error).0, 4);
    let error = invalid("package:\n  name: x\n  name: y\n");
    assert!(
        error.message.contains("duplicated key"),
        "{}",
        error.message
    );
    let error = invalid("package:\n  name: x\n  version: '1'\n");
    assert_eq!(error.message, "missing `source`");
}

#[test]
fn a_dir_with_both_formats_is_refused() {
    let tmp = recipe_dir_with(META_FILE, GALPY);
    std::fs::write(tmp.path().join(RECIPE_FILE), "").unwrap();
    let error = load(tmp.path()).unwrap_err();
    assert!(matches!(error, RecipeError::TwoFormats { .. }), "{error:?}");
}
