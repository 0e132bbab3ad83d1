//! In a real browser: `emwheel serve --demo` serves the index, the target's Pyodide and a
//! page that installs a package with micropip; headless Chromium loads it.

use std::path::PathBuf;
use std::process::Command;

use crate::common::{assert_success, build, emwheel, repo, toolchain_dir};
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
