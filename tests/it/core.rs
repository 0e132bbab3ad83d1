//! The shipped recipes build with the real emcc and pass their tests in the real Pyodide.

use crate::common::{assert_pass_in_pyodide, assert_success, build, emwheel, repo};

#[test]
fn shipped_recipes_build_and_pass_in_pyodide() {
    let out = tempfile::tempdir().unwrap();
    let recipes = [
        "recipes/markupsafe",
        "recipes/six",
        "recipes/attrs",
        "tests/fixtures/cxx-ext",
    ];
    let wheels: Vec<String> = recipes
        .iter()
        .map(|recipe| build(&repo().join(recipe), out.path()))
        .map(|wheel| wheel.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        wheels,
        [
            "markupsafe-2.1.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
            "six-1.17.0-py2.py3-none-any.whl",
            "attrs-25.3.0-py3-none-any.whl",
            "cxx_ext-1.0.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
        ]
    );
    assert_pass_in_pyodide(&recipes.map(|recipe| repo().join(recipe)), out.path());
}

#[test]
fn rebuilding_gives_identical_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let recipe = repo().join("recipes/markupsafe");
    let a = std::fs::read(build(&recipe, first.path())).unwrap();
    let b = std::fs::read(build(&recipe, second.path())).unwrap();
    assert!(a == b, "two builds of markupsafe differ");
}

#[test]
fn a_failing_test_shows_the_python_traceback() {
    let out = tempfile::tempdir().unwrap();
    let wheel = build(&repo().join("recipes/six"), out.path());
    let recipe_dir = tempfile::tempdir().unwrap();
    let recipe = std::fs::read_to_string(repo().join("recipes/six/recipe.toml"))
        .unwrap()
        .replace(
            "imports = [\"six\"]",
            "imports = [\"six\", \"six_is_not_here\"]",
        );
    std::fs::write(recipe_dir.path().join("recipe.toml"), recipe).unwrap();
    let output = emwheel()
        .arg("test")
        .arg(recipe_dir.path())
        .arg("--dist")
        .arg(wheel.parent().unwrap())
        .output()
        .unwrap();
    let stderr = crate::common::assert_user_error(&output);
    assert!(
        stderr.contains("ModuleNotFoundError: No module named 'six_is_not_here'"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pyodide.asm.js"),
        "the minified runtime leaked:\n{stderr}"
    );
}

#[test]
fn json_output_describes_artifacts_and_errors() {
    crate::common::ensure_target();
    let out = tempfile::tempdir().unwrap();
    let output = emwheel()
        .args(["--json", "build", "--allow-emcc-mismatch", "-o"])
        .arg(out.path())
        .arg(repo().join("recipes/six"))
        .output()
        .unwrap();
    assert_success(&output);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let artifact = &document["artifacts"][0];
    let path = artifact["path"].as_str().unwrap();
    let bytes = std::fs::read(path).unwrap();
    let digest = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes));
    assert_eq!(artifact["sha256"], hex::encode(digest));
    assert_eq!(document["status"], "ok");

    let output = emwheel()
        .args(["--json", "build", "--target", "0.0.1"])
        .arg(repo().join("recipes/six"))
        .output()
        .unwrap();
    crate::common::assert_user_error(&output);
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["status"], "error");
    assert!(document["help"]
        .as_str()
        .unwrap()
        .contains("emwheel target install 0.0.1"));
}
