//! In a real browser: `emwheel serve --demo` serves the index, the target's Pyodide and a
//! page that installs a package with micropip; headless Chromium loads it. And `emwheel test
//! --browser` runs a recipe's tests in headless Chromium.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{assert_success, assert_user_error, build, emwheel, repo, toolchain_dir};
use crate::index::Server;

/// playwright-core, which `scripts/setup` installs beside the toolchain.
fn playwright_core() -> PathBuf {
    let dir = toolchain_dir().join("node/node_modules/playwright-core");
    assert!(
        dir.join("package.json").is_file(),
        "{} missing: run scripts/setup",
        dir.display()
    );
    dir
}

#[test]
fn chromium_installs_and_imports_from_the_served_index() {
    let root = tempfile::tempdir().unwrap();
    let dist = root.path().join("dist");
    build(&repo().join("recipes/markupsafe"), &dist);
    let site = root.path().join("site");
    assert_success(
        &emwheel()
            .arg("index")
            .arg(&dist)
            .arg("-o")
            .arg(&site)
            .output()
            .unwrap(),
    );
    let demo = Server::start_with(&site, &["--demo"]);
    let url = format!(
        "{}/demo.html?package=markupsafe==2.1.5&imports=markupsafe._speedups",
        demo.url
    );
    let home = root.path().join("browser-home");
    let output = Command::new("node")
        .arg(repo().join("tests/browser/demo_result.mjs"))
        .arg(&url)
        .arg(home.join("profile"))
        .env("PLAYWRIGHT_CORE", playwright_core())
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("passed: markupsafe==2.1.5"), "{stdout}");
    assert!(stdout.contains("imported markupsafe._speedups"), "{stdout}");
}

/// `emwheel --json test --browser <recipe> --dist <dist> --test-timeout 5`: exit code, the
/// JSON document and stderr.
fn test_in_browser(recipe: &Path, dist: &Path) -> (std::process::Output, serde_json::Value) {
    let output = emwheel()
        .args(["--json", "test", "--browser", "--test-timeout", "5"])
        .arg(recipe)
        .arg("--dist")
        .arg(dist)
        .output()
        .unwrap();
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output, document)
}

/// Each test's node id and outcome in a `test --json` result.
fn outcomes(result: &serde_json::Value) -> BTreeMap<String, String> {
    let tests = result["tests"].as_array().unwrap();
    let outcome = |t: &serde_json::Value| {
        let field = |name: &str| t[name].as_str().unwrap().to_owned();
        (field("nodeid"), field("outcome"))
    };
    tests.iter().map(outcome).collect()
}

#[test]
fn test_browser_runs_a_recipes_tests_in_chromium() {
    let dist = tempfile::tempdir().unwrap();
    build(&repo().join("recipes/markupsafe"), dist.path());
    let (output, document) = test_in_browser(&repo().join("recipes/markupsafe"), dist.path());
    assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in headless Chromium"), "{stderr}");
    assert_eq!(document["status"], "ok", "{document}");
    let result = &document["results"][0];
    assert_eq!(result["passed"], true, "{document}");
    let expected = [("test_markupsafe.py::test_markupsafe", "passed")];
    let expected = expected.map(|(id, outcome)| (id.to_owned(), outcome.to_owned()));
    assert_eq!(
        outcomes(result),
        expected.into_iter().collect(),
        "{document}"
    );
}

/// Tests beside a copy of the markupsafe recipe: one passes, one fails, one hangs (the
/// interrupt must reach Pyodide in the page's worker), one runs after it, and one is marked
/// to fail only in Chromium (`selenium.browser` is `chrome` there).
const BROWSER_TESTS: &str = r#"
import pytest
from pytest_pyodide import run_in_pyodide

@run_in_pyodide(packages=["markupsafe"])
def test_escapes(selenium):
    from markupsafe import escape
    assert escape("<b>") == "&lt;b&gt;"

def test_fails():
    assert 2 + 2 == 5

def test_hangs():
    while True:
        pass

def test_runs_after_the_hang():
    pass

@pytest.mark.xfail_browsers(chrome="fails in Chromium only")
def test_xfails_in_chrome(selenium):
    assert selenium.browser == "node"
"#;

#[test]
fn test_browser_fails_on_a_failing_test_and_interrupts_a_hanging_one() {
    let dist = tempfile::tempdir().unwrap();
    build(&repo().join("recipes/markupsafe"), dist.path());
    let recipe = tempfile::tempdir().unwrap();
    let shipped = repo().join("recipes/markupsafe/recipe.toml");
    std::fs::copy(shipped, recipe.path().join("recipe.toml")).unwrap();
    std::fs::write(recipe.path().join("test_browser.py"), BROWSER_TESTS).unwrap();
    let (output, document) = test_in_browser(recipe.path(), dist.path());
    let stderr = assert_user_error(&output);
    assert!(stderr.contains("assert (2 + 2) == 5"), "{stderr}");
    assert!(stderr.contains("per-test timeout"), "{stderr}");
    assert_eq!(document["status"], "failed", "{document}");
    let result = &document["results"][0];
    assert_eq!(result["passed"], false, "{document}");
    let expected = [
        ("test_browser.py::test_escapes", "passed"),
        ("test_browser.py::test_fails", "failed"),
        ("test_browser.py::test_hangs", "failed"),
        ("test_browser.py::test_runs_after_the_hang", "passed"),
        ("test_browser.py::test_xfails_in_chrome", "xfailed"),
    ];
    let expected = expected.map(|(id, outcome)| (id.to_owned(), outcome.to_owned()));
    assert_eq!(
        outcomes(result),
        expected.into_iter().collect(),
        "{document}"
    );
}
