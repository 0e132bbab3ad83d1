//! Rust extensions: a maturin project and the shipped Rust recipes build with the setup's
//! Rust toolchain (std built once, then reused) and pass their tests in Pyodide; without
//! the toolchain, or for a Pyodide with JavaScript exceptions, the build says why.

use crate::common::{
    assert_pass_in_pyodide, assert_user_error, build, build_command, emwheel, ensure_version,
    fresh_home_with_target, repo, test_home,
};

/// The std builds kept in the test home.
fn cached_std_builds() -> usize {
    std::fs::read_dir(test_home().join("rust-std"))
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().join("std.txt").is_file())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn rust_packages_build_and_pass_in_pyodide() {
    crate::common::ensure_target();
    let out = tempfile::tempdir().unwrap();
    // `emwheel build .` on a maturin project (the fixture has a recipe only for its test).
    let project = repo().join("tests/fixtures/pyo3-ext");
    let output = emwheel()
        .arg("build")
        .arg(".")
        .arg("-o")
        .arg(out.path())
        .arg("--allow-emcc-mismatch")
        .current_dir(&project)
        .output()
        .unwrap();
    crate::common::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("pyo3_ext-1.0.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"),
        "{stdout}"
    );
    let after_first = cached_std_builds();
    assert!(after_first >= 1, "no std was kept");
    // rpds-py links the same std (panic_unwind): no new std build.
    let rpds = build(&repo().join("recipes/rpds-py"), out.path());
    assert_eq!(cached_std_builds(), after_first, "rpds-py rebuilt std");
    assert!(rpds
        .to_string_lossy()
        .ends_with("pyemscripten_2025_0_wasm32.whl"));
    // orjson's release profile aborts on panic: it needs the panic_abort std.
    build(&repo().join("recipes/orjson"), out.path());
    for recipe in [
        "recipes/attrs",
        "recipes/typing-extensions",
        "recipes/referencing",
        "recipes/jsonschema-specifications",
        "recipes/jsonschema",
    ] {
        build(&repo().join(recipe), out.path());
    }
    let tested = [
        "tests/fixtures/pyo3-ext",
        "recipes/rpds-py",
        "recipes/orjson",
        "recipes/referencing",
        "recipes/jsonschema",
    ];
    assert_pass_in_pyodide(&tested.map(|recipe| repo().join(recipe)), out.path());
}

#[test]
fn without_the_rust_toolchain_a_rust_build_says_how_to_get_it() {
    let home = fresh_home_with_target();
    std::fs::remove_file(home.path().join("toolchain/rust")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let recipe = repo().join("tests/fixtures/pyo3-ext");
    let output = build_command(home.path(), &recipe, out.path())
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("this package builds Rust, and there is no Rust toolchain for wasm32-unknown-emscripten"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rustup toolchain install nightly"),
        "{stderr}"
    );
}

#[test]
fn pyodide_0_27_refuses_rust_with_the_reason() {
    ensure_version("0.27.7");
    let out = tempfile::tempdir().unwrap();
    let output = emwheel()
        .arg("build")
        .arg(repo().join("tests/fixtures/pyo3-ext"))
        .arg("-o")
        .arg(out.path())
        .args(["--allow-emcc-mismatch", "--target", "0.27.7"])
        .output()
        .unwrap();
    let stderr = assert_user_error(&output);
    assert!(
        stderr.contains("Rust extensions for Pyodide 0.27.7 (ABI 2024_0) are not supported"),
        "{stderr}"
    );
    assert!(stderr.contains("JavaScript exceptions"), "{stderr}");
}
