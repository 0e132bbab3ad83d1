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

/// Test files that pass, fail, skip, hang and do not import, for a copy of the six recipe.
const MIXED_TESTS: &str = r#"
import pytest
from pytest_pyodide import run_in_pyodide

@run_in_pyodide(packages=["six"])
def test_passes(selenium):
    import six
    assert six.PY3

def test_fails():
    assert 2 + 2 == 5

@pytest.mark.skip(reason="not here")
def test_skipped():
    pass

def test_hangs():
    while True:
        pass

def test_runs_after_the_hang():
    pass
"#;

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
    std::fs::write(recipe_dir.path().join("test_mixed.py"), MIXED_TESTS).unwrap();
    std::fs::write(recipe_dir.path().join("test_broken.py"), "import nowhere\n").unwrap();
    // The shipped recipe runs in the same Pyodide session, after the broken copy.
    let output = emwheel()
        .args(["--json", "test", "--test-timeout", "5"])
        .arg(recipe_dir.path())
        .arg(repo().join("recipes/six"))
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
    assert!(stderr.contains("assert (2 + 2) == 5"), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let results = document["results"].as_array().unwrap();
    let outcomes: std::collections::BTreeMap<String, String> = results[0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["nodeid"].as_str().unwrap().into(),
                t["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("test_broken.py", "error"),
        ("test_mixed.py::test_fails", "failed"),
        ("test_mixed.py::test_hangs", "failed"),
        ("test_mixed.py::test_passes", "passed"),
        ("test_mixed.py::test_runs_after_the_hang", "passed"),
        ("test_mixed.py::test_skipped", "skipped"),
    ];
    let expected = expected.map(|(id, outcome)| (id.to_string(), outcome.to_string()));
    assert_eq!(outcomes, expected.into_iter().collect(), "{document}");
    assert_eq!(results[0]["passed"], false);
    assert!(stderr.contains("per-test timeout"), "{stderr}");
    // The shipped recipe's own Pyodide-style test files pass in the same session.
    assert_eq!(results[1]["passed"], true, "{document}");
    let shipped: Vec<&str> = results[1]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(shipped, ["passed", "passed"], "{document}");
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
