//! Wheels with bytecode for the target Python instead of sources still pass their tests.

use crate::common::{assert_success, emwheel, ensure_target, entries, repo};

#[test]
fn bytecode_wheels_import_and_pass_their_tests() {
    ensure_target();
    let out = tempfile::tempdir().unwrap();
    for recipe in ["recipes/six", "recipes/markupsafe"] {
        let output = emwheel()
            .args(["build", "--py-compile", "--allow-emcc-mismatch", "-o"])
            .arg(out.path())
            .arg(repo().join(recipe))
            .output()
            .unwrap();
        assert_success(&output);
    }
    let six = out.path().join("six-1.17.0-cp313-none-any.whl");
    assert!(
        entries(&six).contains(&"six.pyc".to_string()),
        "{:?}",
        entries(&six)
    );
    let markupsafe = out
        .path()
        .join("markupsafe-2.1.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
    let files = entries(&markupsafe);
    assert!(
        files.contains(&"markupsafe/__init__.pyc".to_string()),
        "{files:?}"
    );
    assert!(!files.iter().any(|f| f.ends_with(".py")), "{files:?}");
    let output = emwheel()
        .args(["test", "--dist"])
        .arg(out.path())
        .arg(repo().join("recipes/six"))
        .arg(repo().join("recipes/markupsafe"))
        .output()
        .unwrap();
    assert_success(&output);
}

#[test]
fn py_compile_rewrites_a_built_wheel() {
    let out = tempfile::tempdir().unwrap();
    let wheel = crate::common::build(&repo().join("recipes/attrs"), out.path());
    let output = emwheel()
        .arg("py-compile")
        .arg(out.path())
        .output()
        .unwrap();
    assert_success(&output);
    let compiled = out.path().join("attrs-25.3.0-cp313-none-any.whl");
    assert!(!wheel.exists(), "the source wheel is replaced");
    assert!(entries(&compiled).contains(&"attrs/__init__.pyc".to_string()));
    let output = emwheel().arg("test").arg(&compiled).output().unwrap();
    assert_success(&output);
}
